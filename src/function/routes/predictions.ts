/** POST /predictions (the default model) and POST /models/{name}/predictions: one score per review, in input order. */
import { parseJsonBody } from '../http/json-body.ts';
import { annotate } from '../http/middlewares.ts';
import { jsonResponse } from '../http/responses.ts';
import { validateReviews } from '../http/validate.ts';
import type { RouteContext, RouteHandler } from './route.ts';

async function score({ request, context, deps }: RouteContext, name: string) {
  const service = deps.models.get(name);
  annotate(context, { model: name });
  const reviews = validateReviews(parseJsonBody(request), deps.config.limits);
  annotate(context, { reviewCount: reviews.length, reviews });
  const { scorer, manifest } = await service.get();
  annotate(context, { modelVersion: manifest.version });
  const predictions = await scorer.predict(reviews);
  annotate(context, { reviewsScored: predictions.length });
  return jsonResponse(200, { model: { name: manifest.name, version: manifest.version }, predictions });
}

export const predictions: RouteHandler = (route) => score(route, route.deps.models.defaultName);

export const modelPredictions: RouteHandler = (route) => score(route, route.params.name ?? '');
