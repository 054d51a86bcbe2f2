/**
 * Open Inference Protocol (KServe v2) per-model routes. Metadata needs the bundle (labels decide the
 * output shapes), so it loads the model like a prediction would. Ready never waits: it starts the load
 * of a model nobody has used yet, or of a failed one whose back-off has passed, and answers 503 until
 * the model is loaded, so polling it brings a lazy model up.
 */

import { inputMetadata, outputMetadata } from '../http/inference-response.ts';
import { annotate } from '../http/middlewares.ts';
import { jsonResponse, retryAfter } from '../http/responses.ts';
import type { LoadedModel } from '../service.ts';
import type { RouteHandler } from './route.ts';

/** The protocol's platform names the runtime that actually scores (RUNTIME may force tfjs on an ONNX bundle). */
export function platformOf(loaded: Pick<LoadedModel, 'runtime'>): string {
  return loaded.runtime === 'onnx' ? 'onnxruntime' : 'tensorflowjs';
}

export const v2ModelMetadata: RouteHandler = async ({ params, context, deps }) => {
  const name = params.name ?? '';
  const service = deps.models.get(name);
  annotate(context, { model: name });
  const loaded = await service.get();
  annotate(context, { modelVersion: loaded.manifest.version });
  return jsonResponse(200, {
    name,
    versions: [loaded.manifest.version],
    platform: platformOf(loaded),
    inputs: inputMetadata(),
    outputs: outputMetadata(loaded.manifest),
  });
};

export const v2ModelReady: RouteHandler = ({ params, context, deps }) => {
  const name = params.name ?? '';
  const service = deps.models.get(name);
  annotate(context, { model: name });
  service.warm();
  const status = service.status();
  const ready = status.state === 'ready';
  return jsonResponse(
    ready ? 200 : 503,
    { name, ready },
    status.state === 'failed' ? retryAfter(status) : {},
  );
};
