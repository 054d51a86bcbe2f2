/** POST /predictions: one score per review, in input order. */
import { parseJsonBody } from '../http/json-body.ts';
import { annotate } from '../http/middlewares.ts';
import { jsonResponse } from '../http/responses.ts';
import { validateReviews } from '../http/validate.ts';
import type { RouteHandler } from './route.ts';

export const predictions: RouteHandler = async ({ request, context, deps }) => {
  const reviews = validateReviews(parseJsonBody(request), deps.config.limits);
  annotate(context, { reviewCount: reviews.length, reviews });
  const { scorer, manifest } = await deps.service.get();
  annotate(context, { modelVersion: manifest.version });
  return jsonResponse(200, {
    model: { name: manifest.name, version: manifest.version },
    predictions: await scorer.predict(reviews),
  });
};
