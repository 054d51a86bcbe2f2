/**
 * The function's HTTP handler: a middy chain around a thin body that calls the pure modules in
 * src/http/. Errors are thrown as typed HttpErrors and mapped once, by `problemResponses`.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import middy from '@middy/core';
import type { Config } from './config.ts';
import { ModelUnavailableError } from './errors.ts';
import { type ApiGatewayEvent, toHttpRequest } from './http/event.ts';
import { parseJsonBody } from './http/json-body.ts';
import { annotate, problemResponses, type RequestContext, requestLog } from './http/middlewares.ts';
import { type HttpResponse, healthResponse, jsonResponse, RETRY_AFTER_SECONDS } from './http/responses.ts';
import { matchRoute } from './http/routes.ts';
import { validateReviews } from './http/validate.ts';
import type { LoadedModel, ModelService } from './model/service.ts';

export interface HandlerDependencies {
  service: ModelService;
  config: Pick<Config, 'limits' | 'logReviewText'>;
  logger: Logger;
}

export type Handler = middy.MiddyfiedHandler<ApiGatewayEvent, HttpResponse, Error, RequestContext>;

export function createHandler({ service, config, logger }: HandlerDependencies): Handler {
  const { limits } = config;
  const serve = async (event: ApiGatewayEvent, context: RequestContext): Promise<HttpResponse> => {
    const request = toHttpRequest(event, context.awsRequestId, limits.maxBodyBytes);
    const route = matchRoute(request.method, request.path);
    if (route === 'health') return healthResponse(service.status(), limits);
    const reviews = validateReviews(parseJsonBody(request), limits);
    annotate(context, { reviewCount: reviews.length, reviews });
    const { scorer, manifest } = await loadModel(service);
    annotate(context, { modelVersion: manifest.version });
    return jsonResponse(200, {
      model: { name: manifest.name, version: manifest.version },
      predictions: scorer.predict(reviews),
    });
  };
  return middy<ApiGatewayEvent, HttpResponse, Error, RequestContext>(serve)
    .use(requestLog({ logger, logReviewText: config.logReviewText }))
    .use(problemResponses({ logger }));
}

/** The service retries a failed load on the next call, so a 503 here is temporary. */
async function loadModel(service: ModelService): Promise<LoadedModel> {
  try {
    return await service.get();
  } catch (cause) {
    throw new ModelUnavailableError(RETRY_AFTER_SECONDS, cause);
  }
}
