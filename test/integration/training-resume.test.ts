/**
 * Checkpoint + resume on the real file system: an interrupted run (aborted in-process, or a child process
 * killed with SIGKILL) resumed from its last checkpoint ends exactly where an uninterrupted run does.
 * Run as a child with TRAINING_RESUME_CHILD=<dir>, this file trains into <dir> until it is killed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { createModel } from '../../src/model/architectures/index.ts';
import { selectBackend } from '../../src/model/backend.ts';
import { CHECKPOINT_FILE, checkpointPath } from '../../training/checkpoint.ts';
import type { EpochRecord, FitData, FitOptions, FitResult } from '../../training/fit.ts';
import { fit } from '../../training/fit.ts';
import type { BatchProgress, ProgressSink } from '../../training/progress.ts';
import { Rng } from '../../training/random.ts';

const EPOCHS = 3;
const TOLERANCE = 1e-6;

/** Word ids 3..29 with id 2 marking class 1 and id 1 marking class 2; lengths 1..16. */
function toyData(n: number, seed: number): FitData {
  const rng = new Rng(seed);
  const labels = Int32Array.from({ length: n }, () => rng.int(3));
  const sequences = Array.from(labels, (label) => {
    const seq = Int32Array.from({ length: 1 + rng.int(16) }, () => 3 + rng.int(27));
    if (label > 0) seq[rng.int(seq.length)] = 3 - label;
    return seq;
  });
  return { sequences, labels };
}

const train = toyData(640, 1);
const validation = toyData(160, 2);
const newModel = () =>
  createModel({
    arch: 'lstm',
    buckets: 0,
    pooling: 'mean',
    numWords: 30,
    numClasses: 3,
    embeddingDim: 8,
    lstmUnits: 8,
    bidirectional: false,
    dropout: 0.2,
    maskZero: true,
    seed: 11,
  });
const options = (checkpointDir: string, extra: Partial<FitOptions> = {}): FitOptions => ({
  epochs: EPOCHS,
  batchSize: 32,
  learningRate: 0.01,
  patience: 5,
  classWeights: [1, 1.5, 1],
  batchMode: 'bucketed',
  maxLen: 16,
  seed: 5,
  checkpointDir,
  resume: false,
  ...extra,
});

const quiet: ProgressSink = { batch: () => {}, epochEnd: () => {}, note: () => {} };

async function trainInto(
  dir: string,
  extra: Partial<FitOptions> = {},
): Promise<{ result: FitResult; weights: number[][] }> {
  const model = newModel();
  try {
    const result = await fit(model, train, validation, options(dir, extra));
    return { result, weights: model.getWeights().map((w) => Array.from(w.dataSync())) };
  } finally {
    model.dispose();
  }
}

function assertClose(actual: number[][], expected: number[][], what: string): void {
  assert.equal(actual.length, expected.length);
  let worst = 0;
  actual.forEach((row, i) => {
    row.forEach((v, j) => {
      worst = Math.max(worst, Math.abs(v - (expected[i]?.[j] ?? Number.NaN)));
    });
  });
  assert.ok(worst <= TOLERANCE, `${what}: max difference ${worst}`);
}

function assertSameHistory(actual: EpochRecord[], expected: EpochRecord[]): void {
  const numbers = (h: EpochRecord[]) => h.map((r) => [r.epoch, r.loss, r.accuracy, r.valLoss, r.valAccuracy]);
  assertClose(numbers(actual), numbers(expected), 'history');
}

if (process.env.TRAINING_RESUME_CHILD) {
  await selectBackend('wasm');
  await fit(newModel(), train, validation, options(process.env.TRAINING_RESUME_CHILD, { progress: quiet }));
} else {
  describe('training checkpoints and resume', () => {
    let root = '';
    let straight: { result: FitResult; weights: number[][] };

    before(async () => {
      await selectBackend('wasm');
      root = await mkdtemp(join(tmpdir(), 'training-resume-'));
      straight = await trainInto(join(root, 'straight'));
    });
    after(async () => {
      await rm(root, { recursive: true, force: true });
    });

    test('the uninterrupted run checkpointed every epoch and did not resume', () => {
      assert.equal(straight.result.resumedFrom, null);
      assert.equal(straight.result.history.length, EPOCHS);
      assert.ok(existsSync(join(root, 'straight', CHECKPOINT_FILE)));
    });

    test('aborted mid-epoch 2, resumed: identical weights and history', async () => {
      const dir = join(root, 'aborted');
      const controller = new AbortController();
      const abortIn2: ProgressSink = {
        ...quiet,
        batch: (p: BatchProgress) => {
          if (p.epoch === 2 && p.samplesDone >= p.samples / 2) controller.abort();
        },
      };
      await assert.rejects(trainInto(dir, { progress: abortIn2, signal: controller.signal }), {
        name: 'AbortError',
      });
      const resumed = await trainInto(dir, { resume: true });
      assert.equal(resumed.result.resumedFrom, 1);
      assertSameHistory(resumed.result.history, straight.result.history);
      assertClose(resumed.weights, straight.weights, 'weights');
      assert.equal(resumed.result.bestEpoch, straight.result.bestEpoch);
    });

    test('stopped after epoch 1, extended to 3 with resume: identical to 3 straight', async () => {
      const dir = join(root, 'extended');
      const first = await trainInto(dir, { epochs: 1 });
      assert.equal(first.result.history.length, 1);
      const resumed = await trainInto(dir, { resume: true });
      assert.equal(resumed.result.resumedFrom, 1);
      assertSameHistory(resumed.result.history, straight.result.history);
      assertClose(resumed.weights, straight.weights, 'weights');
    });

    test('a process killed with SIGKILL resumes from its last complete checkpoint', async (t) => {
      const dir = join(root, 'killed');
      const child = spawn(process.execPath, [fileURLToPath(import.meta.url)], {
        env: { ...process.env, TRAINING_RESUME_CHILD: dir },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
      });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      let alive = true;
      void exited.then(() => {
        alive = false;
      });
      const path = checkpointPath(dir);
      const deadline = Date.now() + 60_000;
      while (alive && !existsSync(path) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      child.kill('SIGKILL');
      const code = await exited;
      assert.ok(existsSync(path), `the child wrote no checkpoint (exit ${code}): ${stderr}`);
      // A torn temp file from a kill mid-write must not matter.
      await writeFile(`${path}.tmp`, 'half a checkpoint');
      const resumed = await trainInto(dir, { resume: true });
      assert.ok((resumed.result.resumedFrom ?? 0) >= 1, 'resumed from a checkpoint');
      t.diagnostic(`child killed after epoch ${resumed.result.resumedFrom} of ${EPOCHS}`);
      assertSameHistory(resumed.result.history, straight.result.history);
      assertClose(resumed.weights, straight.weights, 'weights');
    });

    test('refuses to resume with other settings or data, naming what differs', async () => {
      const dir = join(root, 'straight');
      await assert.rejects(
        trainInto(dir, { resume: true, batchSize: 16 }),
        /different settings.*batchSize: checkpoint 32, now 16/,
      );
      await assert.rejects(trainInto(dir, { resume: true, seed: 6 }), /seed: checkpoint 5, now 6/);
      const model = newModel();
      const otherData = { sequences: train.sequences.slice(1), labels: train.labels.slice(1) };
      await assert.rejects(
        fit(model, otherData, validation, options(dir, { resume: true })),
        /trainData: checkpoint/,
      );
      model.dispose();
    });

    test('refuses to overwrite a checkpoint unless resuming; resume without one starts fresh', async () => {
      await assert.rejects(trainInto(join(root, 'straight')), /already holds epoch 3 of a run: resume it/);
      const fresh = await trainInto(join(root, 'fresh'), { resume: true, epochs: 1 });
      assert.equal(fresh.result.resumedFrom, null);
    });

    test('resuming a finished run returns its result and the best weights without training', async () => {
      const before = tf.memory().numTensors;
      const again = await trainInto(join(root, 'straight'), { resume: true });
      assert.equal(again.result.resumedFrom, EPOCHS);
      assertSameHistory(again.result.history, straight.result.history);
      assertClose(again.weights, straight.weights, 'weights');
      assert.equal(tf.memory().numTensors, before);
    });

    test('a corrupted checkpoint is refused with a clear error', async () => {
      const dir = join(root, 'corrupt');
      await trainInto(dir, { epochs: 1 });
      const bytes = await readFile(checkpointPath(dir));
      bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0xff;
      await writeFile(checkpointPath(dir), bytes);
      await assert.rejects(trainInto(dir, { resume: true }), /checkpoint\.bin: tensor data fails its sha256/);
      await writeFile(checkpointPath(dir), 'not a checkpoint');
      await assert.rejects(trainInto(dir, { resume: true }), /not a training checkpoint/);
    });
  });
}
