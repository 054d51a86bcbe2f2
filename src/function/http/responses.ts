/**
 * Response builders. One result shape serves both payload versions: API Gateway HTTP API and REST API
 * accept {statusCode, headers, body, isBase64Encoded}.
 */
import type { Limits } from '../config.ts';
import type { ModelStatus } from '../service.ts';
import { toProblem } from './problems.ts';

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: false;
}

export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
  contentType = 'application/json',
): HttpResponse {
  return {
    statusCode,
    // Predictions and health are answers about this moment, not resources to cache.
    headers: { 'content-type': contentType, 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  };
}

/** RFC 9457 problem details; `instance` is the request id, which also appears in the logs. */
export function problemResponse(error: unknown, instance: string | undefined): HttpResponse {
  const { problem, headers } = toProblem(error, instance);
  return jsonResponse(problem.status, problem, headers, 'application/problem+json');
}

export interface HealthBody {
  status: ModelStatus['state'];
  loaded: boolean;
  model: { name: string; version: string } | null;
  /** 'onnx' (ONNX Runtime) or 'tfjs' once loaded. */
  runtime: string | null;
  /** The TensorFlow.js backend when the runtime is tfjs, else null. */
  backend: string | null;
  limits: Limits;
}

/**
 * Never waits for the model. 200 while ready, loading or idle (requests are accepted: they wait for
 * the load); 503 with Retry-After when the last load failed (the back-off's remaining seconds).
 */
export function healthResponse(status: ModelStatus, limits: Limits): HttpResponse {
  const body: HealthBody = {
    status: status.state,
    loaded: status.state === 'ready',
    model: status.model ? { name: status.model.name, version: status.model.version } : null,
    runtime: status.runtime ?? null,
    backend: status.backend ?? null,
    limits: { ...limits },
  };
  const failed = status.state === 'failed';
  return jsonResponse(failed ? 503 : 200, body, failed ? retryAfter(status) : {});
}

/** At least 1 s: a failed model whose back-off just ended is being (or about to be) loaded again. */
export function retryAfter(status: ModelStatus): Record<string, string> {
  return { 'retry-after': String(Math.max(1, status.retryAfterSeconds ?? 1)) };
}

/**
 * The Open Inference Protocol's error body, {"error": "..."}, with the status and headers our problem
 * would have: client errors say what is wrong, server errors stay generic (the cause is logged).
 */
export function inferenceErrorResponse(error: unknown): HttpResponse {
  const { problem, headers } = toProblem(error);
  return jsonResponse(problem.status, { error: problem.detail }, headers);
}
