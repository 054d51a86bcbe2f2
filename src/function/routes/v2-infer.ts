/**
 * POST /v2/models/{name}/infer: Open Inference Protocol (KServe v2) inference on the same loaded models
 * as POST /models/{name}/predictions, with the same limits. `parameters` are accepted and ignored (none
 * are supported); `id` is echoed.
 */
import { readInferenceRequest } from '../http/inference-request.ts';
import { outputMetadata, outputTensors } from '../http/inference-response.ts';
import { parseJsonBody } from '../http/json-body.ts';
import { annotate } from '../http/middlewares.ts';
import { invalidInferenceRequest } from '../http/problems.ts';
import { jsonResponse } from '../http/responses.ts';
import type { RouteHandler } from './route.ts';

export const v2Infer: RouteHandler = async ({ request, params, context, deps }) => {
  const name = params.name ?? '';
  const service = deps.models.get(name);
  annotate(context, { model: name });
  const infer = readInferenceRequest(parseJsonBody(request), deps.config.limits);
  annotate(context, { reviewCount: infer.reviews.length, reviews: infer.reviews });
  const { scorer, manifest } = await service.get();
  annotate(context, { modelVersion: manifest.version });
  const produced = outputMetadata(manifest).map((o) => o.name);
  const missing = infer.outputs?.find((o) => !produced.includes(o));
  if (missing) {
    throw invalidInferenceRequest(`model ${JSON.stringify(name)} has no output ${JSON.stringify(missing)}`);
  }
  const predictions = await scorer.predict(infer.reviews);
  annotate(context, { reviewsScored: predictions.length });
  return jsonResponse(200, {
    model_name: name,
    model_version: manifest.version,
    ...(infer.id !== undefined ? { id: infer.id } : {}),
    outputs: outputTensors(predictions, manifest, infer.outputs),
  });
};
