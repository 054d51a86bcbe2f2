/**
 * What fit() checks before it starts (settings and data), and the fingerprint a resumed run must share
 * with its checkpoint.
 */
import { createHash } from 'node:crypto';
import type * as tf from '@tensorflow/tfjs';
import { sha256Hex } from '../src/common/hash.ts';
import type { BatchMode } from './batches.ts';
import type { FitData } from './loss.ts';
import type { ProgressSink } from './progress.ts';

export interface FitOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Epochs without validation improvement before stopping (Keras semantics); Infinity never stops. */
  patience: number;
  /** One weight per class (index = label), or null for none. */
  classWeights: number[] | null;
  batchMode: BatchMode;
  maxLen: number;
  seed: number;
  checkpointDir: string | null;
  /** Continue the run checkpointed in checkpointDir; starts fresh when it holds none yet. */
  resume: boolean;
  progress?: ProgressSink;
  /** Aborting stops training before the next batch; the last completed epoch stays checkpointed. */
  signal?: AbortSignal;
}

/** What a resumed run must share with the checkpointed one. `epochs` is left out: a run may be extended. */
export function fitFingerprint(
  model: tf.LayersModel,
  train: FitData,
  validation: FitData,
  options: FitOptions,
  numClasses: number,
): Record<string, string> {
  const layers = model.layers.map((layer) => {
    // Dropout seeds are rewritten every batch, and names differ between otherwise equal models.
    const { name: _name, seed: _seed, ...config } = layer.getConfig() as Record<string, unknown>;
    return [layer.getClassName(), config];
  });
  const shapes = model.weights.map((w) => w.shape);
  return {
    batchSize: String(options.batchSize),
    learningRate: String(options.learningRate),
    patience: String(options.patience),
    classWeights: JSON.stringify(options.classWeights),
    batchMode: options.batchMode,
    maxLen: String(options.maxLen),
    seed: String(options.seed),
    numClasses: String(numClasses),
    model: sha256Hex(JSON.stringify([layers, shapes])),
    trainData: datasetHash(train),
    validationData: datasetHash(validation),
  };
}

function datasetHash(data: FitData): string {
  const hash = createHash('sha256');
  const length = new Uint32Array(1);
  for (const seq of data.sequences) {
    length[0] = seq.length;
    hash.update(length);
    hash.update(new Uint8Array(seq.buffer, seq.byteOffset, seq.byteLength));
  }
  hash.update(new Uint8Array(data.labels.buffer, data.labels.byteOffset, data.labels.byteLength));
  return hash.digest('hex');
}

export function validateFit(
  model: tf.LayersModel,
  train: FitData,
  validation: FitData,
  options: FitOptions,
): number {
  const numClasses = model.outputs[0]?.shape[1];
  if (typeof numClasses !== 'number' || model.outputs[0]?.shape.length !== 2) {
    throw new TypeError('fit needs a model with one [batch, classes] output');
  }
  validateData('training', train, numClasses);
  validateData('validation', validation, numClasses);
  const positiveInt = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  };
  positiveInt('epochs', options.epochs);
  positiveInt('batchSize', options.batchSize);
  positiveInt('maxLen', options.maxLen);
  if (!(options.learningRate > 0 && Number.isFinite(options.learningRate))) {
    throw new RangeError(`learningRate must be a positive number, got ${options.learningRate}`);
  }
  if (!(options.patience >= 0) || !(Number.isInteger(options.patience) || options.patience === Infinity)) {
    throw new RangeError(`patience must be an integer >= 0 or Infinity, got ${options.patience}`);
  }
  validateClassWeights(options.classWeights, numClasses);
  if (!Number.isSafeInteger(options.seed))
    throw new RangeError(`seed must be a safe integer, got ${options.seed}`);
  if (options.resume && !options.checkpointDir) throw new TypeError('resume needs a checkpointDir');
  return numClasses;
}

function validateData(name: string, data: FitData, numClasses: number): void {
  if (data.sequences.length === 0) throw new RangeError(`${name} data is empty`);
  if (data.labels.length !== data.sequences.length) {
    throw new RangeError(`${name} data: ${data.sequences.length} sequences but ${data.labels.length} labels`);
  }
  const bad = data.labels.findIndex((label) => label < 0 || label >= numClasses);
  if (bad >= 0) {
    throw new RangeError(
      `${name} data: label ${data.labels[bad]} at row ${bad} is outside 0..${numClasses - 1}`,
    );
  }
}

function validateClassWeights(weights: number[] | null, numClasses: number): void {
  if (weights === null) return;
  if (weights.length !== numClasses) {
    throw new RangeError(`classWeights has ${weights.length} entries, the model has ${numClasses} classes`);
  }
  if (!weights.every((w) => Number.isFinite(w) && w >= 0) || !weights.some((w) => w > 0)) {
    throw new RangeError(`classWeights must be finite, >= 0 and not all 0, got ${JSON.stringify(weights)}`);
  }
}
