/**
 * The training loop: a custom loop instead of model.fit, because it needs length-bucketed batches
 * (model.fit pads everything to one length), dropout seeds drawn from our own rng (determinism and
 * exact resume), per-epoch checkpoints with optimizer state, and progress/abort between batches.
 *
 * Loss: sparse categorical cross-entropy on the softmax output, probabilities clipped to
 * [1e-7, 1 - 1e-7] as Keras does. Class weights follow Keras `class_weight` semantics: the batch loss is
 * mean(w[y] * ce) (sum over the batch / batch size), NOT renormalised by sum(w): weights that average
 * ~1 over the data (sklearn "balanced") keep the effective learning rate. Validation loss is unweighted,
 * as in Keras, so early stopping compares plain cross-entropy.
 *
 * Early stopping: an epoch improves when its validation loss is strictly below the best so far; after
 * `patience` epochs without improvement training stops (Keras EarlyStopping). The best epoch's weights
 * are restored at the end in every case, so the returned model is the one `bestEpoch` names.
 */
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { lengthBatches } from '../src/model/scorer.ts';
import { padPre } from '../src/text/tokenizer.ts';
import { type Batch, type BatchMode, makeBatches } from './batches.ts';
import {
  CheckpointError,
  type CheckpointMeta,
  captureOptimizer,
  checkpointPath,
  loadCheckpoint,
  restoreOptimizer,
  saveCheckpoint,
} from './checkpoint.ts';
import type { ProgressSink } from './progress.ts';
import { Rng } from './random.ts';

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

export interface EpochRecord {
  epoch: number;
  /** Mean training loss and accuracy over the epoch (dropout on, class-weighted loss). */
  loss: number;
  accuracy: number;
  valLoss: number;
  valAccuracy: number;
  /** Training samples per second of the training phase alone. */
  samplesPerSec: number;
  /** Wall time of the epoch: training and validation (the checkpoint written after it is not counted). */
  seconds: number;
}

export interface FitResult {
  history: EpochRecord[];
  /** Epoch whose weights the model now holds (lowest validation loss); 0 if none was finite. */
  bestEpoch: number;
  stoppedEarly: boolean;
  /** Completed epochs found in the checkpoint, or null when the run started fresh. */
  resumedFrom: number | null;
}

export interface FitData {
  sequences: Int32Array[];
  labels: Int32Array;
}

interface RunState {
  /** Completed epochs. */
  epoch: number;
  rng: Rng;
  history: EpochRecord[];
  bestEpoch: number;
  bestValLoss: number;
  best: tf.Tensor[];
  wait: number;
  stopped: boolean;
}

interface Context {
  model: tf.LayersModel;
  optimizer: tf.Optimizer;
  variables: tf.Variable[];
  classWeights: tf.Tensor1D | null;
  train: FitData;
  validation: FitData;
  options: FitOptions;
  fingerprint: Record<string, string>;
}

export async function fit(
  model: tf.LayersModel,
  train: FitData,
  validation: FitData,
  options: FitOptions,
): Promise<FitResult> {
  const numClasses = validateFit(model, train, validation, options);
  const ctx: Context = {
    model,
    optimizer: tf.train.adam(options.learningRate),
    variables: model.trainableWeights.map((w) => w.read() as tf.Variable),
    classWeights: options.classWeights ? tf.tensor1d(options.classWeights, 'float32') : null,
    train,
    validation,
    options,
    fingerprint: fitFingerprint(model, train, validation, options, numClasses),
  };
  let state: RunState | null = null;
  try {
    const start = await startState(ctx);
    state = start.state;
    while (state.epoch < options.epochs && !state.stopped) await runEpoch(ctx, state);
    finish(ctx, state);
    return {
      history: state.history,
      bestEpoch: state.bestEpoch,
      stoppedEarly: state.stopped && state.epoch < options.epochs,
      resumedFrom: start.resumedFrom,
    };
  } finally {
    ctx.optimizer.dispose();
    ctx.classWeights?.dispose();
    tf.dispose(state?.best ?? []);
  }
}

async function runEpoch(ctx: Context, state: RunState): Promise<void> {
  const started = performance.now();
  const epoch = state.epoch + 1;
  const trained = await trainEpoch(ctx, state, epoch);
  const val = evaluateLoss(ctx.model, ctx.validation, ctx.options.batchMode, ctx.options.maxLen);
  const best = val.loss < state.bestValLoss;
  if (best) {
    tf.dispose(state.best);
    state.best = ctx.model.getWeights().map((w) => tf.clone(w));
    state.bestEpoch = epoch;
    state.bestValLoss = val.loss;
    state.wait = 0;
  } else {
    state.wait++;
    state.stopped = state.wait >= ctx.options.patience;
  }
  const seconds = (performance.now() - started) / 1000;
  const record: EpochRecord = { epoch, ...trained, valLoss: val.loss, valAccuracy: val.accuracy, seconds };
  state.history.push(record);
  state.epoch = epoch;
  if (ctx.options.checkpointDir) await writeCheckpoint(ctx, state);
  const { patience } = ctx.options;
  ctx.options.progress?.epochEnd({ epochs: ctx.options.epochs, record, best, wait: state.wait, patience });
}

async function trainEpoch(
  ctx: Context,
  state: RunState,
  epoch: number,
): Promise<{ loss: number; accuracy: number; samplesPerSec: number }> {
  const { options, train } = ctx;
  const batches = makeBatches(train.sequences, train.labels, {
    batchSize: options.batchSize,
    mode: options.batchMode,
    maxLen: options.maxLen,
    rng: state.rng,
  });
  const samples = train.sequences.length;
  const started = performance.now();
  let samplesDone = 0;
  let lossSum = 0;
  let correct = 0;
  for (const batch of batches) {
    options.signal?.throwIfAborted();
    reseedDropout(ctx.model, state.rng);
    const step = await trainStep(ctx, batch);
    samplesDone += batch.rows.length;
    lossSum += step.loss * batch.rows.length;
    correct += step.correct;
    const samplesPerSec = samplesDone / ((performance.now() - started) / 1000);
    const [loss, accuracy] = [lossSum / samplesDone, correct / samplesDone];
    options.progress?.batch({
      epoch,
      epochs: options.epochs,
      samplesDone,
      samples,
      loss,
      accuracy,
      samplesPerSec,
    });
    // Let timers and signal handlers (SIGINT -> abort) run between batches.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const seconds = (performance.now() - started) / 1000;
  return { loss: lossSum / samples, accuracy: correct / samples, samplesPerSec: samples / seconds };
}

async function trainStep(ctx: Context, batch: Batch): Promise<{ loss: number; correct: number }> {
  const kept: { correct?: tf.Scalar } = {};
  const loss = ctx.optimizer.minimize(
    () => {
      const x = tf.tensor2d(batch.x, [batch.rows.length, batch.length], 'int32');
      const y = tf.tensor1d(batch.y, 'int32');
      const probs = ctx.model.apply(x, { training: true }) as tf.Tensor2D;
      kept.correct = tf.keep(countCorrect(probs, y));
      return crossEntropy(probs, y, ctx.classWeights);
    },
    true,
    ctx.variables,
  );
  try {
    if (!loss || !kept.correct) throw new Error('optimizer.minimize returned no loss');
    const [lossValue = Number.NaN] = await loss.data();
    const [correct = 0] = await kept.correct.data();
    return { loss: lossValue, correct };
  } finally {
    tf.dispose([loss ?? [], kept.correct ?? []]);
  }
}

/**
 * Dropout layers built with a fixed seed draw the SAME mask on every call of a given shape (tf.dropout
 * reseeds its generator from the seed each time). Giving them a fresh seed from the run's rng before each
 * batch makes masks differ between batches while staying reproducible and resumable.
 */
function reseedDropout(model: tf.LayersModel, rng: Rng): void {
  for (const layer of model.layers) {
    const className = layer.getClassName();
    if (className === 'Dropout' || className === 'SpatialDropout1D') {
      (layer as unknown as { seed: number }).seed = 1 + rng.int(2 ** 31 - 1);
    }
  }
}

/** Per-sample cross-entropy -log p[y] with Keras's clipping of the probabilities. */
export function sampleCrossEntropy(probs: tf.Tensor2D, y: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const clipped = tf.clipByValue(probs, 1e-7, 1 - 1e-7);
    const picked = tf.sum(tf.mul(tf.oneHot(y, probs.shape[1]), clipped), -1);
    return tf.neg(tf.log(picked)) as tf.Tensor1D;
  });
}

/** Batch loss: mean(ce), or mean(w[y] * ce) with class weights (Keras class_weight semantics). */
export function crossEntropy(
  probs: tf.Tensor2D,
  y: tf.Tensor1D,
  classWeights: tf.Tensor1D | null,
): tf.Scalar {
  return tf.tidy(() => {
    const ce = sampleCrossEntropy(probs, y);
    return tf.mean(classWeights ? tf.mul(ce, tf.gather(classWeights, y)) : ce) as tf.Scalar;
  });
}

function countCorrect(probs: tf.Tensor2D, y: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(probs, -1), y), 'float32')) as tf.Scalar);
}

/** Unweighted loss and accuracy without dropout; batches grouped by length like serving does. */
export function evaluateLoss(
  model: tf.LayersModel,
  data: FitData,
  mode: BatchMode,
  maxLen: number,
): { loss: number; accuracy: number } {
  let lossSum = 0;
  let correct = 0;
  for (const batch of lengthBatches(data.sequences, mode === 'padded' ? maxLen : null)) {
    const length = Math.min(batch.length, maxLen);
    const rows = batch.rows.map((i) => data.sequences[i] ?? new Int32Array(0));
    const sums = tf.tidy(() => {
      const x = tf.tensor2d(padPre(rows, length), [rows.length, length], 'int32');
      const y = tf.tensor1d(
        Int32Array.from(batch.rows, (i) => data.labels[i] ?? 0),
        'int32',
      );
      const probs = model.apply(x, { training: false }) as tf.Tensor2D;
      return tf.stack([tf.sum(sampleCrossEntropy(probs, y)), countCorrect(probs, y)]);
    });
    const [loss = Number.NaN, hits = 0] = sums.dataSync();
    sums.dispose();
    lossSum += loss;
    correct += hits;
  }
  const n = data.sequences.length;
  return { loss: lossSum / n, accuracy: correct / n };
}

function finish(ctx: Context, state: RunState): void {
  const { progress } = ctx.options;
  if (state.stopped && state.epoch < ctx.options.epochs) {
    progress?.note(`early stopping: no validation improvement for ${state.wait} epochs`);
  }
  if (state.best.length > 0 && state.bestEpoch !== state.epoch) {
    ctx.model.setWeights(state.best);
    progress?.note(
      `restored the weights of epoch ${state.bestEpoch} (val_loss ${state.bestValLoss.toFixed(4)})`,
    );
  }
}

function freshState(seed: number): RunState {
  return {
    epoch: 0,
    rng: new Rng(seed),
    history: [],
    bestEpoch: 0,
    bestValLoss: Number.POSITIVE_INFINITY,
    best: [],
    wait: 0,
    stopped: false,
  };
}

async function startState(ctx: Context): Promise<{ state: RunState; resumedFrom: number | null }> {
  const { checkpointDir, resume, seed } = ctx.options;
  const fresh = { state: freshState(seed), resumedFrom: null };
  if (!checkpointDir) return fresh;
  const saved = await loadCheckpoint(checkpointDir);
  if (!saved) return fresh;
  const { meta, tensors } = saved;
  try {
    if (!resume) {
      throw new CheckpointError(
        `${checkpointPath(checkpointDir)} already holds epoch ${meta.epoch} of a run: ` +
          'resume it, or give an empty checkpoint directory',
      );
    }
    assertSameRun(meta.fingerprint, ctx.fingerprint, checkpointPath(checkpointDir));
    ctx.model.setWeights(tensors.model);
    await restoreOptimizer(ctx.optimizer, tensors.optimizer);
  } catch (error) {
    tf.dispose([...tensors.best]);
    throw error;
  } finally {
    tf.dispose([...tensors.model, ...tensors.optimizer.map((t) => t.tensor)]);
  }
  ctx.options.progress?.note(`resumed from ${checkpointPath(checkpointDir)} after epoch ${meta.epoch}`);
  const state: RunState = {
    epoch: meta.epoch,
    rng: Rng.fromState(meta.rng),
    history: meta.history,
    bestEpoch: meta.bestEpoch,
    bestValLoss: meta.bestValLoss ?? Number.POSITIVE_INFINITY,
    best: tensors.best,
    wait: meta.wait,
    stopped: meta.stopped,
  };
  return { state, resumedFrom: meta.epoch };
}

async function writeCheckpoint(ctx: Context, state: RunState): Promise<void> {
  const dir = ctx.options.checkpointDir;
  if (!dir) return;
  const meta: CheckpointMeta = {
    fingerprint: ctx.fingerprint,
    epoch: state.epoch,
    rng: state.rng.state(),
    history: state.history,
    bestEpoch: state.bestEpoch,
    bestValLoss: Number.isFinite(state.bestValLoss) ? state.bestValLoss : null,
    wait: state.wait,
    stopped: state.stopped,
    backend: tf.getBackend(),
    savedAt: new Date().toISOString(),
  };
  const optimizer = await captureOptimizer(ctx.optimizer);
  try {
    await saveCheckpoint(dir, meta, { model: ctx.model.getWeights(), best: state.best, optimizer });
  } finally {
    tf.dispose(optimizer.map((t) => t.tensor));
  }
}

function assertSameRun(saved: Record<string, string>, current: Record<string, string>, path: string): void {
  const keys = [...new Set([...Object.keys(saved), ...Object.keys(current)])];
  const differences = keys
    .filter((key) => saved[key] !== current[key])
    .map((key) => `${key}: checkpoint ${saved[key] ?? '(none)'}, now ${current[key] ?? '(none)'}`);
  if (differences.length > 0) {
    throw new CheckpointError(
      `${path} was made with different settings or data, refusing to resume (${differences.join('; ')})`,
    );
  }
}

/** What a resumed run must share with the checkpointed one. `epochs` is left out: a run may be extended. */
function fitFingerprint(
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
    model: sha256Text(JSON.stringify([layers, shapes])),
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

function sha256Text(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function validateFit(
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
