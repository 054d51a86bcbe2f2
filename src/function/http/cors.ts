/**
 * CORS for browsers on other origins, by @middy/http-cors: it adds Access-Control-Allow-Origin (and
 * `Vary: Origin`) to every answer, errors included, when the request's Origin is allowed, and nothing
 * otherwise, so the browser withholds the answer from the calling page. Preflights (OPTIONS) are routes
 * (routes/preflight.ts); this middleware decides only which origins get the header.
 */

import type middy from '@middy/core';
import httpCors from '@middy/http-cors';
import type { ApiGatewayEvent } from './event.ts';
import type { RequestContext } from './middlewares.ts';
import type { HttpResponse } from './responses.ts';

type Middleware = middy.MiddlewareObj<ApiGatewayEvent, HttpResponse, Error, RequestContext>;

/** `allowOrigins`: exact origins, `https://*.example.com` patterns, or `*`; empty allows no origin. */
export function cors(allowOrigins: readonly string[]): Middleware {
  // http-cors answers an unlisted origin with its `origin` option; leaving it unset means no header.
  const inner = httpCors({
    origins: [...allowOrigins],
    exposeHeaders: 'retry-after, apigw-requestid',
  }) as Middleware;
  // http-cors reads event.headers unguarded: an invocation with a non-object event (null, a string) must
  // still reach problemResponses' 400, not crash the chain. Such events carry no Origin, so skip them.
  const applies = (request: middy.Request<ApiGatewayEvent, HttpResponse, Error, RequestContext>): boolean =>
    typeof request.event === 'object' && request.event !== null && request.response != null;
  return {
    after: (request) => (applies(request) ? inner.after?.(request) : undefined),
    onError: (request) => (applies(request) ? inner.onError?.(request) : undefined),
  };
}
