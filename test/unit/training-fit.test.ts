import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { formatDuration } from '../../src/common/duration.ts';
import { createModel } from '../../src/model/architectures/index.ts';
import { selectBackend } from '../../src/model/backend.ts';
import { WordTokenizer } from '../../src/text/tokenizer.ts';
import { type EpochRecord, type FitData, type FitOptions, fit } from '../../training/fit.ts';
import { crossEntropy, evaluateLoss } from '../../training/loss.ts';
import {
  type BatchProgress,
  createProgress,
  type EpochEnd,
  formatBatch,
  type ProgressSink,
} from '../../training/progress.ts';
import { Rng } from '../../training/random.ts';

const FILLER = 'the a product it was i this item and to for my of with is very arrived box use'.split(' ');
const MAX_LEN = 12;

/** Label 0 when the text holds "awful", 2 when it holds "great", else 1: decided by one word's presence. */
function toyTexts(n: number, seed: number): { texts: string[]; labels: Int32Array } {
  const rng = new Rng(seed);
  const labels = Int32Array.from({ length: n }, () => rng.int(3));
  const texts = Array.from(labels, (label) => {
    const words = Array.from({ length: 2 + rng.int(MAX_LEN - 2) }, () => FILLER[rng.int(FILLER.length)]);
    if (label !== 1) words[rng.int(words.length)] = label === 0 ? 'awful' : 'great';
    return words.join(' ');
  });
  return { texts, labels };
}

const trainTexts = toyTexts(480, 1);
const validationTexts = toyTexts(120, 2);
const tokenizer = WordTokenizer.fit(trainTexts.texts, { normalizer: 'keras-original-v1', numWords: 40 });
const encode = (t: { texts: string[]; labels: Int32Array }): FitData => ({
  sequences: t.texts.map((text) => tokenizer.encode(text, MAX_LEN)),
  labels: t.labels,
});
const train = encode(trainTexts);
const validation = encode(validationTexts);

const tinyModel = (dropout = 0.1) =>
  createModel({
    arch: 'lstm',
    buckets: 0,
    pooling: 'mean',
    numWords: tokenizer.numWords,
    numClasses: 3,
    embeddingDim: 8,
    lstmUnits: 8,
    bidirectional: false,
    dropout,
    maskZero: true,
    seed: 4,
  });

const baseOptions: FitOptions = {
  epochs: 3,
  batchSize: 32,
  learningRate: 0.02,
  patience: 3,
  classWeights: null,
  batchMode: 'bucketed',
  maxLen: MAX_LEN,
  seed: 7,
  checkpointDir: null,
  resume: false,
};

/** History without the wall-clock fields, which legitimately differ between runs. */
const numbers = (history: EpochRecord[]) =>
  history.map(({ samplesPerSec: _s, seconds: _t, ...rest }) => rest);
const weightsOf = (model: tf.LayersModel) => model.getWeights().map((w) => Array.from(w.dataSync()));

function recorder(): ProgressSink & { batches: BatchProgress[]; ends: EpochEnd[]; notes: string[] } {
  const batches: BatchProgress[] = [];
  const ends: EpochEnd[] = [];
  const notes: string[] = [];
  return {
    batches,
    ends,
    notes,
    batch: (p) => batches.push(p),
    epochEnd: (e) => ends.push(e),
    note: (m) => notes.push(m),
  };
}

before(async () => {
  await selectBackend('wasm');
});

describe('fit', () => {
  test('learns a word-presence task well above chance in a few epochs', async () => {
    const model = tinyModel();
    const result = await fit(model, train, validation, { ...baseOptions, epochs: 6 });
    const final = evaluateLoss(model, validation, 'bucketed', MAX_LEN);
    assert.ok(final.accuracy > 0.9, `validation accuracy ${final.accuracy} (chance 1/3)`);
    const first = result.history[0];
    const best = result.history[result.bestEpoch - 1];
    assert.ok(first && best && best.valLoss < first.valLoss / 2, 'validation loss fell');
    assert.ok(result.history.every((h) => h.samplesPerSec > 0 && h.seconds > 0));
    model.dispose();
  });

  test('same seed and data give the same history and weights; another seed does not', async () => {
    const run = async (seed: number) => {
      const model = tinyModel();
      const result = await fit(model, train, validation, { ...baseOptions, epochs: 2, seed });
      const weights = weightsOf(model);
      model.dispose();
      return { history: numbers(result.history), weights };
    };
    const a = await run(7);
    assert.deepEqual(await run(7), a);
    assert.notDeepEqual((await run(8)).history, a.history);
  });

  test('padded mode (every batch padded to maxLen) trains too', async () => {
    const model = tinyModel(0);
    const result = await fit(model, train, validation, { ...baseOptions, epochs: 2, batchMode: 'padded' });
    assert.ok((result.history[1]?.valAccuracy ?? 0) > 0.5, 'padded mode learns too');
    model.dispose();
  });

  test('trains on empty and one-token texts (a single RNN step breaks tfjs backprop)', async () => {
    const model = tinyModel();
    const short = { sequences: train.sequences.map((s, i) => s.subarray(0, i % 2)), labels: train.labels };
    for (const batchMode of ['bucketed', 'padded'] as const) {
      const result = await fit(model, short, validation, { ...baseOptions, epochs: 1, maxLen: 1, batchMode });
      assert.ok(Number.isFinite(result.history[0]?.loss));
    }
    model.dispose();
  });

  test('tensor count stays flat across epochs and nothing leaks', async () => {
    const model = tinyModel();
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    const sink = { ...recorder(), epochEnd: () => counts.push(tf.memory().numTensors) };
    await fit(model, train, validation, { ...baseOptions, epochs: 4, progress: sink });
    assert.equal(new Set(counts.slice(1)).size, 1, `tensors per epoch: ${counts.join(', ')}`);
    assert.equal(tf.memory().numTensors, before, 'only the model weights remain after fit');
    model.dispose();
  });

  test('early stopping after `patience` epochs without improvement restores the best weights', async () => {
    // Random labels: nothing to learn, so validation loss soon rises while the model memorises.
    const rng = new Rng(3);
    const noisy = {
      sequences: train.sequences.slice(0, 96),
      labels: Int32Array.from({ length: 96 }, () => rng.int(3)),
    };
    const model = tinyModel(0);
    const sink = recorder();
    const patience = 2;
    const result = await fit(model, noisy, validation, {
      ...baseOptions,
      epochs: 40,
      learningRate: 0.05,
      patience,
      progress: sink,
    });
    assert.ok(result.stoppedEarly, 'stopped early');
    assert.equal(result.history.length, result.bestEpoch + patience);
    const valLosses = result.history.map((h) => h.valLoss);
    assert.equal(valLosses[result.bestEpoch - 1], Math.min(...valLosses));
    const now = evaluateLoss(model, validation, 'bucketed', MAX_LEN);
    assert.ok(
      Math.abs(now.loss - Math.min(...valLosses)) < 1e-5,
      `model holds epoch ${result.bestEpoch}'s weights`,
    );
    const improved = valLosses.map((loss, i) => loss < Math.min(...valLosses.slice(0, i)));
    assert.deepEqual(
      sink.ends.map((e) => e.best),
      improved,
    );
    assert.ok(sink.notes.some((n) => n.includes(`epoch ${result.bestEpoch}`)));
    model.dispose();
  });

  test('class weights: batch loss is mean(w[y] * ce), and they change training', async () => {
    const p = [
      [0.7, 0.2, 0.1],
      [0.1, 0.1, 0.8],
      [0.3, 0.4, 0.3],
      [1, 0, 0],
    ];
    const y = [0, 2, 1, 1];
    const w = [1, 3, 0.5];
    const ce = y.map((label, i) => -Math.log(Math.min(1 - 1e-7, Math.max(1e-7, p[i]?.[label] ?? 0))));
    const expectWeighted = ce.reduce((s, c, i) => s + (w[y[i] ?? 0] ?? 0) * c, 0) / y.length;
    const expectPlain = ce.reduce((s, c) => s + c, 0) / y.length;
    const [weighted, plain] = tf.tidy(() => {
      const probs = tf.tensor2d(p);
      const labels = tf.tensor1d(y, 'int32');
      return [
        crossEntropy(probs, labels, tf.tensor1d(w)).dataSync()[0],
        crossEntropy(probs, labels, null).dataSync()[0],
      ];
    });
    assert.ok(Math.abs((weighted ?? 0) - expectWeighted) < 1e-5, `${weighted} vs ${expectWeighted}`);
    assert.ok(Math.abs((plain ?? 0) - expectPlain) < 1e-5, `${plain} vs ${expectPlain}`);

    const run = async (classWeights: number[] | null) => {
      const model = tinyModel();
      const result = await fit(model, train, validation, { ...baseOptions, epochs: 1, classWeights });
      model.dispose();
      return numbers(result.history);
    };
    const none = await run(null);
    assert.deepEqual(await run([1, 1, 1]), none, 'unit weights are no weights');
    const skewed = await run([1, 6, 1]);
    assert.notEqual(skewed[0]?.loss, none[0]?.loss);
  });

  test('abort stops before the next batch and leaks nothing', async () => {
    const model = tinyModel();
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    const sink = { ...recorder(), batch: (p: BatchProgress) => p.samplesDone >= 64 && controller.abort() };
    await assert.rejects(
      fit(model, train, validation, { ...baseOptions, progress: sink, signal: controller.signal }),
      { name: 'AbortError' },
    );
    assert.equal(tf.memory().numTensors, before);
    model.dispose();
  });

  test('reports progress for every batch and every epoch', async () => {
    const model = tinyModel();
    const sink = recorder();
    const result = await fit(model, train, validation, { ...baseOptions, epochs: 2, progress: sink });
    const lastOfEpoch = sink.batches.filter((b) => b.samplesDone === b.samples);
    assert.deepEqual(
      lastOfEpoch.map((b) => b.epoch),
      [1, 2],
    );
    for (const b of sink.batches) assert.ok(b.samplesDone <= b.samples && b.epochs === 2);
    assert.deepEqual(
      sink.ends.map((e) => e.record),
      result.history,
    );
    model.dispose();
  });

  test('bad settings and data are named', async () => {
    const model = tinyModel();
    const bad = (options: Partial<FitOptions>, data: FitData = train) =>
      fit(model, data, validation, { ...baseOptions, ...options });
    await assert.rejects(
      bad({ classWeights: [1, 2] }),
      /classWeights has 2 entries, the model has 3 classes/,
    );
    await assert.rejects(bad({ classWeights: [1, Number.NaN, 1] }), /classWeights must be finite/);
    await assert.rejects(bad({ resume: true }), /resume needs a checkpointDir/);
    await assert.rejects(bad({ learningRate: 0 }), /learningRate/);
    await assert.rejects(bad({ patience: -1 }), /patience/);
    await assert.rejects(bad({ batchSize: 0 }), /batchSize/);
    const outOfRange = { sequences: train.sequences.slice(0, 2), labels: Int32Array.from([0, 3]) };
    await assert.rejects(bad({}, outOfRange), /training data: label 3 at row 1 is outside 0\.\.2/);
    await assert.rejects(bad({}, { sequences: [], labels: new Int32Array(0) }), /training data is empty/);
    model.dispose();
  });
});

describe('progress rendering', () => {
  const event = (samplesDone: number, epoch = 1): BatchProgress => ({
    epoch,
    epochs: 10,
    samplesDone,
    samples: 1000,
    loss: 0.9123,
    accuracy: 0.6119,
    samplesPerSec: 50,
  });
  const capture = (isTTY: boolean) => {
    const chunks: string[] = [];
    let clock = 0;
    const sink = createProgress({
      stream: { write: (c: string) => chunks.push(c) },
      isTTY,
      now: () => clock,
    });
    return { chunks, sink, tick: (ms: number) => (clock += ms) };
  };

  test('formats the bar with counts, metrics, speed and ETA', () => {
    assert.equal(
      formatBatch(event(610)),
      'epoch 1/10 [############........] 61% 610/1000 loss 0.912 acc 0.612 50 samples/s ETA 0:08',
    );
    assert.equal(formatDuration(3725), '1:02:05');
    assert.equal(formatDuration(Number.NaN), '?');
  });

  test('on a terminal: redraws in place at most ~10x/s, always the final state', () => {
    const { chunks, sink, tick } = capture(true);
    for (let done = 10; done <= 1000; done += 10) {
      tick(10);
      sink.batch(event(done));
    }
    const draws = chunks.filter((c) => c.startsWith('\r'));
    assert.ok(draws.length >= 9 && draws.length <= 12, `${draws.length} redraws in 1 s`);
    assert.ok(draws.at(-1)?.includes('1000/1000'));
    assert.ok(
      chunks.every((c) => !c.includes('\n')),
      'no new lines while the bar runs',
    );
  });

  test('in logs: plain lines every 10% (or 30 s), then the epoch summary', () => {
    const { chunks, sink, tick } = capture(false);
    for (let done = 10; done <= 1000; done += 10) {
      tick(10);
      sink.batch(event(done));
    }
    assert.equal(chunks.length, 10);
    assert.ok(chunks.every((c) => !c.includes('\r') && c.endsWith('\n')));
    const slow = capture(false);
    for (let done = 1; done <= 5; done++) {
      slow.tick(31_000);
      slow.sink.batch(event(done, 2));
    }
    assert.equal(slow.chunks.length, 5, 'a line every 30 s even without 10% progress');
    const record = {
      epoch: 2,
      loss: 0.5,
      accuracy: 0.8,
      valLoss: 0.6,
      valAccuracy: 0.7,
      samplesPerSec: 812,
      seconds: 43,
    };
    slow.sink.epochEnd({ epochs: 10, record, best: false, wait: 1, patience: 3 });
    assert.match(
      slow.chunks.at(-1) ?? '',
      /val_loss 0\.600 val_acc 0\.700 .*no improvement for 1 \(patience 3\)/,
    );
  });
});
