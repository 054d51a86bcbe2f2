/**
 * The function's HTTP handler: a middy chain around a thin body that normalises the event and hands it
 * to the route table. Errors are thrown as typed errors and mapped once, by `problemResponses`.
 */
import middy from '@middy/core';
import { cors } from './http/cors.ts';
import { type ApiGatewayEvent, toHttpRequest } from './http/event.ts';
import {
  annotate,
  headResponses,
  problemResponses,
  type RequestContext,
  requestLog,
  requestMetrics,
} from './http/middlewares.ts';
import type { HttpResponse } from './http/responses.ts';
import { matchRoute } from './routes/index.ts';
import type { HandlerDependencies } from './routes/route.ts';

export type { HandlerDependencies } from './routes/route.ts';

export type Handler = middy.MiddyfiedHandler<ApiGatewayEvent, HttpResponse, Error, RequestContext>;

export function createHandler(deps: HandlerDependencies): Handler {
  const serve = async (event: ApiGatewayEvent, context: RequestContext): Promise<HttpResponse> => {
    const request = toHttpRequest(event, context.awsRequestId, deps.config.limits.maxBodyBytes);
    const { handler, params, route } = matchRoute(request.method, request.path);
    annotate(context, { route });
    return handler({ request, params, context, deps });
  };
  const chain = middy<ApiGatewayEvent, HttpResponse, Error, RequestContext>(serve).use(
    requestLog({ logger: deps.logger, logReviewText: deps.config.logReviewText }),
  );
  if (deps.metrics) chain.use(requestMetrics(deps.metrics));
  // after/onError run in reverse order: problems are mapped first, then HEAD bodies
  // dropped, then CORS headers added, then measured.
  return chain
    .use(cors(deps.config.corsAllowOrigins))
    .use(headResponses())
    .use(problemResponses({ logger: deps.logger }));
}
