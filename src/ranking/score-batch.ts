/**
 * The ranking job's only dependency on the model: a function from reviews to expected ratings. The
 * adapter below runs the current TensorFlow.js Scorer; an ONNX runtime can replace it without the job
 * changing, because nothing else in src/ranking/ touches the model.
 */
import { loadBundle } from '../bundle/read.ts';
import { BadRequestError } from '../errors.ts';
import { type BackendPreference, selectBackend } from '../model/backend.ts';
import { buildScorer, filesForRuntime } from '../model/build.ts';
import type { Scorer } from '../model/scorer.ts';
import type { Storage } from '../storage/index.ts';
import type { Review } from '../text/review.ts';

/** Expected rating Σ p·k of each review, in input order. */
export type ScoreBatch = (reviews: readonly Review[]) => Promise<number[]>;

export interface ModelInfo {
  name: string;
  version: string;
}

export interface LoadedScoreBatch {
  scoreBatch: ScoreBatch;
  model: ModelInfo;
  backend: string;
}

/**
 * Same text and tokenizer path as the API: reviewText, the bundle's tokenizer truncated to maxLen, then
 * Scorer.probabilities, which sorts the batch into length batches (lengthBatches) so short reviews are
 * not padded to long ones.
 */
export function scorerScoreBatch(scorer: Scorer): ScoreBatch {
  const values = scorer.manifest.labelValues;
  if (values === null) {
    throw new BadRequestError(
      `model ${scorer.manifest.name} has non-ordinal labels (${scorer.manifest.labels.join(', ')}): no expected rating to rank by`,
    );
  }
  // The API's `score`, unrounded: reviewText, the tokenizer, length batches, the bundle's temperature.
  return async (reviews) => (await scorer.expectedScores(reviews)) ?? [];
}

/** Loads a bundle (folder, S3 root or version) and wraps it; the backend is chosen once per process. */
export async function loadScoreBatch(
  modelUri: string,
  options: { storage?: Storage; backend?: BackendPreference } = {},
): Promise<LoadedScoreBatch> {
  const bundle = await loadBundle(modelUri, {
    ...(options.storage ? { storage: options.storage } : {}),
    only: (found) => filesForRuntime(found),
  });
  // As the function does: ONNX Runtime when the bundle has a graph; TensorFlow.js (and a backend) only if not.
  const scorer = await buildScorer(bundle, { backend: options.backend ?? 'auto' });
  const runtime = scorer.runtime.name;
  return {
    scoreBatch: scorerScoreBatch(scorer),
    model: { name: bundle.manifest.name, version: bundle.version },
    backend: runtime === 'onnx' ? 'onnx' : `tfjs ${(await selectBackend(options.backend ?? 'auto')).name}`,
  };
}
