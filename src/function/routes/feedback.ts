/**
 * POST /feedback: a client says which label a text should have had. Stored once per distinct content
 * under FEEDBACK_URI (`<model>/<sha256>.json`, create-only), so retries and concurrent duplicates answer
 * 202 with the same id and write nothing more. Training reads the records with `--feedback`.
 */
import { UnavailableError } from '../../errors.ts';
import { storeFeedback } from '../../feedback/record.ts';
import { validateFeedback } from '../http/feedback-body.ts';
import { parseJsonBody } from '../http/json-body.ts';
import { annotate } from '../http/middlewares.ts';
import { FEEDBACK_UNAVAILABLE, feedbackDisabled, invalidFeedback } from '../http/problems.ts';
import { jsonResponse } from '../http/responses.ts';
import { servedModel } from '../models.ts';
import type { RouteHandler } from './route.ts';

export const feedback: RouteHandler = async ({ request, context, deps }) => {
  const store = deps.feedback;
  if (!store) throw feedbackDisabled();
  const input = validateFeedback(parseJsonBody(request), deps.config.limits);
  annotate(context, { reviews: [{ text: input.text, title: input.title }] });
  const { model, served } = await servedModel(deps.models, input.model);
  if (!model) {
    throw invalidFeedback([
      { pointer: '/model', detail: `not a model this function serves; use ${served.join(', ')}` },
    ]);
  }
  annotate(context, { modelVersion: model.manifest.version });
  const labels = model.manifest.labels;
  const wrong = (['label', 'prediction'] as const).filter((key) => {
    const value = input[key];
    return value !== null && !labels.includes(value);
  });
  if (wrong.length > 0) {
    throw invalidFeedback(
      wrong.map((key) => ({ pointer: `/${key}`, detail: `must be one of ${labels.join(', ')}` })),
    );
  }
  const stored = await storeFeedback(store, input, {
    modelVersion: model.manifest.version,
    receivedAt: new Date(),
  }).catch((cause: unknown) => {
    throw new UnavailableError(`storing feedback in ${store.describe()} failed`, {
      cause,
      problem: FEEDBACK_UNAVAILABLE,
    });
  });
  // Ids and labels only: the text stays out of the logs.
  deps.logger.info('feedback', {
    id: stored.id,
    model: input.model,
    label: input.label,
    duplicate: stored.duplicate,
  });
  return jsonResponse(202, { id: stored.id, model: input.model });
};
