/**
 * Our middy middlewares: one structured log line per request, one set of metrics per request, bodiless
 * HEAD answers, and the single place errors become responses (RFC 9457 problems; {"error"} under /v2).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { AppError } from '../../errors.ts';
import type { Review } from '../../text/review.ts';
import type { ServiceMetrics } from '../metrics.ts';
import { type ApiGatewayEvent, requestMeta } from './event.ts';
import { isClientError } from './problems.ts';
import { type HttpResponse, inferenceErrorResponse, problemResponse } from './responses.ts';

/** Facts the handler learns while serving a request, for the request's log line. */
export interface RequestNotes {
  startedAt: number;
  coldStart: boolean;
  /** The matched route template, e.g. "/models/{name}/predictions" (never the raw path). */
  route?: string;
  /** The configured model the request used (never a name a client typed that is not configured). */
  model?: string;
  reviewCount?: number;
  reviewsScored?: number;
  modelVersion?: string;
  reviews?: readonly Review[];
}

/** The Lambda context; `requestLog` attaches the request's notes to it (as middy's own middlewares extend it). */
export type RequestContext = Context & { notes?: RequestNotes };

type Middleware = middy.MiddlewareObj<ApiGatewayEvent, HttpResponse, Error, RequestContext>;

export function annotate(context: RequestContext, facts: Partial<RequestNotes>): void {
  if (context.notes) Object.assign(context.notes, facts);
}

/**
 * One log line per request: ids, route, status, latency, cold start (the first request this handler
 * serves, i.e. of this execution environment), review count and model version. Review text only when
 * LOG_REVIEW_TEXT is on. Use it first, so its `after`/`onError` run last and see the final response.
 */
export function requestLog(options: { logger: Logger; logReviewText: boolean }): Middleware {
  let coldStart = true;
  const finish = (request: middy.Request<ApiGatewayEvent, HttpResponse, Error, RequestContext>): void => {
    const notes = request.context.notes;
    const meta = requestMeta(request.event);
    options.logger.info('request', {
      requestId: meta.requestId ?? request.context.awsRequestId,
      awsRequestId: request.context.awsRequestId,
      method: meta.method ?? null,
      path: meta.path ?? null,
      route: notes?.route ?? null,
      model: notes?.model ?? null,
      statusCode: request.response?.statusCode ?? null,
      latencyMs: notes ? Math.round((performance.now() - notes.startedAt) * 10) / 10 : null,
      coldStart: notes?.coldStart ?? null,
      reviewCount: notes?.reviewCount ?? null,
      modelVersion: notes?.modelVersion ?? null,
      ...(request.error ? { errorType: errorType(request.error) } : {}),
      ...(options.logReviewText && notes?.reviews ? { reviews: notes.reviews } : {}),
    });
  };
  return {
    before: (request) => {
      request.context.notes = { startedAt: performance.now(), coldStart };
      coldStart = false;
    },
    after: finish,
    onError: finish,
  };
}

/**
 * Request metrics (metrics.ts) from the request's notes and final response. Use it after requestLog,
 * before the middlewares that set the response, so its `after`/`onError` see the final status.
 */
export function requestMetrics(metrics: ServiceMetrics): Middleware {
  const finish = (request: middy.Request<ApiGatewayEvent, HttpResponse, Error, RequestContext>): void => {
    const notes = request.context.notes;
    metrics.request({
      route: notes?.route ?? 'none',
      model: notes?.model ?? 'none',
      statusCode: request.response?.statusCode ?? 500,
      latencyMs: notes ? Math.round((performance.now() - notes.startedAt) * 10) / 10 : 0,
      reviewsScored: notes?.reviewsScored ?? 0,
    });
  };
  return {
    before: (request) => metrics.coldStart(request.context.functionName),
    after: finish,
    onError: finish,
  };
}

/** HEAD gets the GET answer's status and headers without its body (RFC 9110 §9.3.2), errors included. */
export function headResponses(): Middleware {
  const strip = (request: middy.Request<ApiGatewayEvent, HttpResponse, Error, RequestContext>): void => {
    if (request.response && requestMeta(request.event).method?.toUpperCase() === 'HEAD') {
      request.response = { ...request.response, body: '' };
    }
  };
  return { after: strip, onError: strip };
}

/** Paths of the Open Inference Protocol, whose errors are {"error": "..."} rather than problems. */
export function isInferenceProtocolPath(path: string | undefined): boolean {
  return path === '/v2' || (path?.startsWith('/v2/') ?? false);
}

/**
 * Maps any error to problem+json: errors with problem details keep their status and client-facing detail; anything else
 * is a generic 500. Server-side failures are logged with their cause chain and stack; the response
 * never carries either. Sets the response without returning it, so `requestLog` still runs.
 */
export function problemResponses(options: { logger: Logger }): Middleware {
  return {
    onError: (request) => {
      const { error } = request;
      const instance = requestMeta(request.event).requestId ?? request.context.awsRequestId;
      if (!isClientError(error)) {
        options.logger.error('request failed', { requestId: instance, error });
      }
      const { path } = requestMeta(request.event);
      request.response = isInferenceProtocolPath(path)
        ? inferenceErrorResponse(error)
        : problemResponse(error, instance);
    },
  };
}

/** The problem's slug ("invalid-reviews") where there is one: more telling than the class name. */
function errorType(error: Error): string {
  return error instanceof AppError && error.problem ? error.problem.slug : error.name;
}
