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
import * as tf from '@tensorflow/tfjs';
import { ConflictError } from '../src/errors.ts';
import { type Batch, makeBatches } from './batches.ts';
import {
  type CheckpointMeta,
  captureOptimizer,
  checkpointPath,
  loadCheckpoint,
  restoreOptimizer,
  saveCheckpoint,
} from './checkpoint.ts';
import { type FitOptions, fitFingerprint, validateFit } from './fit-checks.ts';
import type { EpochRecord, FitResult } from './history.ts';
import { countCorrect, crossEntropy, evaluateLoss, type FitData } from './loss.ts';
import { Rng } from './random.ts';

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
      throw new ConflictError(
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
    throw new ConflictError(
      `${path} was made with different settings or data, refusing to resume (${differences.join('; ')})`,
    );
  }
}

export type { FitOptions } from './fit-checks.ts';
export type { EpochRecord, FitResult } from './history.ts';
export type { FitData } from './loss.ts';
