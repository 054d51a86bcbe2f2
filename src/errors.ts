/**
 * The project's one error hierarchy. Each kind says what the caller can do about it, so the HTTP layer
 * (src/function/http/problems.ts) and the CLIs map kinds to statuses and exit codes in one place. Context
 * travels as `cause`: a caller that adds context wraps once, never re-words the message chain.
 */

export type ErrorKind = 'bad-request' | 'not-found' | 'conflict' | 'unavailable' | 'internal';

/** One offending part of a request body, located by a JSON Pointer (RFC 6901) such as "/reviews/3". */
export interface FieldError {
  pointer: string;
  detail: string;
}

/**
 * How an error reads to an HTTP client (RFC 9457). Optional: without it, the kind's default status and a
 * generic title are used. `detail` replaces the message for clients; 5xx messages are never exposed.
 */
export interface ProblemDetails {
  status?: number;
  slug: string;
  title: string;
  detail?: string;
  headers?: Record<string, string>;
  errors?: readonly FieldError[];
}

export interface AppErrorOptions {
  cause?: unknown;
  problem?: ProblemDetails;
}

export abstract class AppError extends Error {
  abstract readonly kind: ErrorKind;
  readonly problem: ProblemDetails | undefined;

  constructor(message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.problem = options.problem;
  }
}

/** The input is wrong (a request, a flag, a variable, a URI, a file's content): fix it and try again. */
export class BadRequestError extends AppError {
  override name = 'BadRequestError';
  readonly kind = 'bad-request';
}

/** What was asked for does not exist (a route, an object, a file). */
export class NotFoundError extends AppError {
  override name = 'NotFoundError';
  readonly kind = 'not-found';
}

/** It exists already or changed under us (versions are immutable; conditional writes lost the race). */
export class ConflictError extends AppError {
  override name = 'ConflictError';
  readonly kind = 'conflict';
}

/** Temporarily impossible (storage failing, the model not loaded): the same call may succeed later. */
export class UnavailableError extends AppError {
  override name = 'UnavailableError';
  readonly kind = 'unavailable';
}

/** Our own data or code is inconsistent (a corrupt bundle, a failed checksum): retrying will not help. */
export class InternalError extends AppError {
  override name = 'InternalError';
  readonly kind = 'internal';
}

/** The message of an unknown thrown value, for composing a one-line reason. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
