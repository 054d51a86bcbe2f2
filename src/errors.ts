/**
 * Typed HTTP errors. Everything the API can answer with besides 200 is one of these; the `problemResponses`
 * middleware turns them into RFC 9457 `application/problem+json`. 4xx details are written for the client
 * and exposed; 5xx details are generic by construction: the real error travels as `cause`, which is
 * logged and never sent.
 */

/** RFC 9457 `type` URIs: tag URIs (RFC 4151) name the problem without promising a page to dereference. */
const PROBLEM_TYPE_BASE = 'tag:review-sentiment,2026:problems/';

export function problemType(slug: string): string {
  return `${PROBLEM_TYPE_BASE}${slug}`;
}

/** One offending part of the request body, located by a JSON Pointer (RFC 6901) such as "/reviews/3". */
export interface FieldError {
  pointer: string;
  detail: string;
}

export interface HttpErrorOptions {
  status: number;
  slug: string;
  title: string;
  detail: string;
  headers?: Record<string, string>;
  cause?: unknown;
}

export class HttpError extends Error {
  override name = 'HttpError';
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly headers: Record<string, string>;

  constructor(options: HttpErrorOptions) {
    super(options.detail, { cause: options.cause });
    this.status = options.status;
    this.type = problemType(options.slug);
    this.title = options.title;
    this.headers = options.headers ?? {};
  }
}

export class MalformedRequestError extends HttpError {
  override name = 'MalformedRequestError';
  constructor(detail: string) {
    super({ status: 400, slug: 'malformed-request', title: 'Malformed request', detail });
  }
}

export class NotFoundError extends HttpError {
  override name = 'NotFoundError';
  constructor(path: string) {
    super({ status: 404, slug: 'not-found', title: 'Not found', detail: `no route for ${path}` });
  }
}

export class MethodNotAllowedError extends HttpError {
  override name = 'MethodNotAllowedError';
  readonly allow: readonly string[];
  constructor(method: string, path: string, allow: readonly string[]) {
    super({
      status: 405,
      slug: 'method-not-allowed',
      title: 'Method not allowed',
      detail: `${method} is not allowed on ${path}; use ${allow.join(', ')}`,
      headers: { allow: allow.join(', ') },
    });
    this.allow = allow;
  }
}

export class PayloadTooLargeError extends HttpError {
  override name = 'PayloadTooLargeError';
  constructor(bytes: number, maxBytes: number) {
    super({
      status: 413,
      slug: 'payload-too-large',
      title: 'Payload too large',
      detail: `request body is ${bytes} bytes; the limit is ${maxBytes} bytes`,
    });
  }
}

export class UnsupportedMediaTypeError extends HttpError {
  override name = 'UnsupportedMediaTypeError';
  constructor(contentType: string) {
    super({
      status: 415,
      slug: 'unsupported-media-type',
      title: 'Unsupported media type',
      detail: `content-type ${JSON.stringify(contentType)} is not accepted; send application/json (UTF-8)`,
    });
  }
}

export class ValidationError extends HttpError {
  override name = 'ValidationError';
  readonly errors: readonly FieldError[];
  constructor(errors: readonly FieldError[]) {
    const count = errors.length === 1 ? '1 problem' : `${errors.length} problems`;
    super({
      status: 422,
      slug: 'invalid-reviews',
      title: 'Invalid reviews',
      detail: `the request body has ${count}; see errors`,
    });
    this.errors = errors;
  }
}

/** The model could not be loaded; the service retries the load on the next request. */
export class ModelUnavailableError extends HttpError {
  override name = 'ModelUnavailableError';
  constructor(retryAfterSeconds: number, cause: unknown) {
    super({
      status: 503,
      slug: 'model-unavailable',
      title: 'Model unavailable',
      detail: 'the model could not be loaded; retry later',
      headers: { 'retry-after': String(retryAfterSeconds) },
      cause,
    });
  }
}
