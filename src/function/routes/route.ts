/** What every route receives: the normalised request, the Lambda context, and the function's dependencies. */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Store } from '../../storage/index.ts';
import type { Config } from '../config.ts';
import type { HttpRequest } from '../http/event.ts';
import type { RequestContext } from '../http/middlewares.ts';
import type { HttpResponse } from '../http/responses.ts';
import type { ServiceMetrics } from '../metrics.ts';
import type { ModelRegistry } from '../models.ts';
import type { RankingsReader } from '../rankings.ts';

export interface HandlerDependencies {
  models: ModelRegistry;
  config: Pick<Config, 'limits' | 'logReviewText' | 'corsAllowOrigins'>;
  logger: Logger;
  /** CloudWatch embedded-format metrics; none are emitted without it. */
  metrics?: ServiceMetrics;
  /** Published rankings (GET /rankings/*); absent: those routes answer 404. */
  rankings?: RankingsReader;
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
