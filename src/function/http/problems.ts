/**
 * The HTTP face of the error hierarchy: the problems this API answers with (RFC 9457
 * `application/problem+json`) and the one mapping from any thrown value to a response. 4xx details are
 * written for the client and exposed; 5xx details are generic by construction: the real error travels as
 * `cause`, which is logged and never sent.
 */
import {
  AppError,
  BadRequestError,
  type ErrorKind,
  type FieldError,
  NotFoundError,
  type ProblemDetails,
} from '../../errors.ts';

/** RFC 9457 `type` URIs: tag URIs (RFC 4151) name the problem without promising a page to dereference. */
const PROBLEM_TYPE_BASE = 'tag:review-sentiment,2026:problems/';

export function problemType(slug: string): string {
  return `${PROBLEM_TYPE_BASE}${slug}`;
}

const KIND_STATUS: Record<ErrorKind, number> = {
  'bad-request': 400,
  'not-found': 404,
  conflict: 409,
  unavailable: 503,
  internal: 500,
};

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: FieldError[];
}

const INTERNAL: Problem = {
  type: 'about:blank',
  title: 'Internal Server Error',
  status: 500,
  detail: 'an unexpected error occurred; it has been logged with this request id',
};

/** The problem an error is answered with, and its extra headers; unknown errors are a generic 500. */
export function toProblem(
  error: unknown,
  instance?: string,
): { problem: Problem; headers: Record<string, string> } {
  const p = error instanceof AppError ? error.problem : undefined;
  const status = p && error instanceof AppError ? (p.status ?? KIND_STATUS[error.kind]) : 500;
  const known = p !== undefined && (status < 500 || p.detail !== undefined);
  const problem: Problem = known
    ? { type: problemType(p.slug), title: p.title, status, detail: p.detail ?? (error as Error).message }
    : { ...INTERNAL };
  if (instance !== undefined) problem.instance = instance;
  if (known && p.errors) problem.errors = [...p.errors];
  return { problem, headers: known ? { ...p.headers } : {} };
}

/** True for errors a client caused (logged at info level by the request log, not as failures). */
export function isClientError(error: unknown): boolean {
  return toProblem(error).problem.status < 500;
}

const problem = (p: ProblemDetails): { problem: ProblemDetails } => ({ problem: p });

export function malformedRequest(detail: string): BadRequestError {
  return new BadRequestError(detail, problem({ slug: 'malformed-request', title: 'Malformed request' }));
}

export function routeNotFound(path: string): NotFoundError {
  return new NotFoundError(`no route for ${path}`, problem({ slug: 'not-found', title: 'Not found' }));
}

export function methodNotAllowed(method: string, path: string, allow: readonly string[]): BadRequestError {
  return new BadRequestError(
    `${method} is not allowed on ${path}; use ${allow.join(', ')}`,
    problem({
      status: 405,
      slug: 'method-not-allowed',
      title: 'Method not allowed',
      headers: { allow: allow.join(', ') },
    }),
  );
}

export function payloadTooLarge(bytes: number, maxBytes: number): BadRequestError {
  return new BadRequestError(
    `request body is ${bytes} bytes; the limit is ${maxBytes} bytes`,
    problem({ status: 413, slug: 'payload-too-large', title: 'Payload too large' }),
  );
}

/** The decoded size is unknown once decoding stops at the limit, so the detail names the limit only. */
export function decodedTooLarge(coding: string, maxBytes: number): BadRequestError {
  return new BadRequestError(
    `request body decodes (${coding}) to more than ${maxBytes} bytes; the limit is ${maxBytes} bytes`,
    problem({ status: 413, slug: 'payload-too-large', title: 'Payload too large' }),
  );
}

export function unsupportedContentEncoding(coding: string, accepted: readonly string[]): BadRequestError {
  return new BadRequestError(
    `content-encoding ${JSON.stringify(coding)} is not accepted; send one of ${accepted.join(', ')} or none`,
    problem({
      status: 415,
      slug: 'unsupported-content-encoding',
      title: 'Unsupported content encoding',
      headers: { 'accept-encoding': accepted.join(', ') },
    }),
  );
}

/** Said by the HTTP server itself (the local one; API Gateway has its own), before any route runs. */
export function headerFieldsTooLarge(maxBytes: number): BadRequestError {
  return new BadRequestError(
    `the request line and headers exceed ${maxBytes} bytes`,
    problem({ status: 431, slug: 'header-fields-too-large', title: 'Request header fields too large' }),
  );
}

export function requestTimeout(): BadRequestError {
  return new BadRequestError(
    'the request did not arrive in time',
    problem({ status: 408, slug: 'request-timeout', title: 'Request timeout' }),
  );
}

export function unsupportedMediaType(contentType: string): BadRequestError {
  return new BadRequestError(
    `content-type ${JSON.stringify(contentType)} is not accepted; send application/json (UTF-8)`,
    problem({ status: 415, slug: 'unsupported-media-type', title: 'Unsupported media type' }),
  );
}

/** The Open Inference Protocol answers bad input with 400 (it has no 422). */
export function invalidInferenceRequest(detail: string): BadRequestError {
  return new BadRequestError(
    detail,
    problem({ status: 400, slug: 'invalid-inference-request', title: 'Invalid inference request' }),
  );
}

export function invalidReviews(errors: readonly FieldError[]): BadRequestError {
  const count = errors.length === 1 ? '1 problem' : `${errors.length} problems`;
  return new BadRequestError(
    `the request body has ${count}; see errors`,
    problem({ status: 422, slug: 'invalid-reviews', title: 'Invalid reviews', errors }),
  );
}

/**
 * How a failed model load reads to clients; the load error itself is the error's `cause`. Retry-After is
 * the time left in the load's back-off: no new load starts before then.
 */
export function modelUnavailable(retryAfterSeconds: number): ProblemDetails {
  return {
    slug: 'model-unavailable',
    title: 'Model unavailable',
    detail: 'the model could not be loaded; retry later',
    headers: { 'retry-after': String(retryAfterSeconds) },
  };
}

export function modelNotFound(name: string): NotFoundError {
  return new NotFoundError(
    `no model named ${JSON.stringify(name)}; GET /models lists the models this function serves`,
    problem({ slug: 'model-not-found', title: 'Model not found' }),
  );
}

export function invalidFeedback(errors: readonly FieldError[]): BadRequestError {
  const count = errors.length === 1 ? '1 problem' : `${errors.length} problems`;
  return new BadRequestError(
    `the feedback has ${count}; see errors`,
    problem({ status: 422, slug: 'invalid-feedback', title: 'Invalid feedback', errors }),
  );
}

/** FEEDBACK_URI is unset (the Lambda default): this deployment does not collect feedback. */
export function feedbackDisabled(): NotFoundError {
  return new NotFoundError(
    'this deployment does not collect feedback (FEEDBACK_URI is not set)',
    problem({ slug: 'feedback-disabled', title: 'Feedback not collected' }),
  );
}

/** The feedback store failed (the error is the `cause`); the same request may be retried safely. */
export const FEEDBACK_UNAVAILABLE: ProblemDetails = {
  slug: 'feedback-unavailable',
  title: 'Feedback store unavailable',
  detail: 'the feedback could not be stored; retry later (a retry never stores it twice)',
  headers: { 'retry-after': '5' },
};
