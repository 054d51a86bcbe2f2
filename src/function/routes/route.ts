/** What every route receives: the normalised request, the Lambda context, and the function's dependencies. */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Store } from '../../storage/index.ts';
import type { Config } from '../config.ts';
import type { HttpRequest } from '../http/event.ts';
import type { RequestContext } from '../http/middlewares.ts';
import type { HttpResponse } from '../http/responses.ts';
import type { ModelService } from '../service.ts';

export interface HandlerDependencies {
  service: ModelService;
  config: Pick<Config, 'limits' | 'logReviewText'>;
  logger: Logger;
  /** Where POST /feedback stores records (FEEDBACK_URI); absent: the route answers 404. */
  feedback?: Store | null;
}

export interface RouteContext {
  request: HttpRequest;
  params: Record<string, string>;
  context: RequestContext;
  deps: HandlerDependencies;
}

export type RouteHandler = (route: RouteContext) => Promise<HttpResponse> | HttpResponse;
