/**
 * `npm run bench:train`: training throughput at the default (original) settings on this machine.
 * The same sample of train.csv is fitted for one epoch from the same initial weights, with
 * length-bucketed batches and with every batch padded to maxLen, and the same model is trained in
 * PyTorch (Debian python3-torch, 2 threads, OpenBLAS) on the same word ids padded to maxLen, as the
 * original design did. Prints one JSON document; progress goes to stderr.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createModel } from '../src/model/architectures/index.ts';
import { selectBackend } from '../src/model/backend.ts';
import { reviewText } from '../src/text/review.ts';
import { padPre, WordTokenizer } from '../src/text/tokenizer.ts';
import { ORIGINAL_DEFAULTS, type TrainConfig } from '../training/args.ts';
import { makeBatches, paddingEfficiency } from '../training/batches.ts';
import { AMAZON_CSV, loadCsv } from '../training/data.ts';
import { type FitData, fit } from '../training/fit.ts';
import { architectureOf, type Encoded, encodeExamples, splitValidation } from '../training/pipeline.ts';
import type { ProgressSink } from '../training/progress.ts';
import { Rng } from '../training/random.ts';
import { machineInfo } from './lib/machine.ts';
import { printJson, progress } from './lib/output.ts';
import { round, speedup } from './lib/stats.ts';

const DATA = join(import.meta.dirname, '..', '..', 'shared', 'data', 'train.csv');
const PYTHON = '/usr/bin/python3';
const SAMPLE_ROWS = Number(process.env.BENCH_TRAIN_ROWS ?? 6144);
const VALIDATION_ROWS = 1024;
const TORCH_STEPS = 30;
const SEEDS = (process.env.BENCH_TRAIN_SEEDS ?? '42,43').split(',').map(Number);

interface ModeResult {
  samplesPerSec: number;
  epochSeconds: number;
  trainLoss: number;
  valLoss: number;
  valAccuracy: number;
  paddingEfficiency: number;
}

async function main(): Promise<void> {
  if (!existsSync(DATA)) throw new Error(`${DATA} is absent: bench:train needs ../shared/data/train.csv`);
  const config: TrainConfig = { ...ORIGINAL_DEFAULTS, data: DATA };
  const backend = await selectBackend((process.env.TFJS_BACKEND as TrainConfig['backend']) ?? 'auto');
  progress(`backend ${backend.name}; loading ${DATA}`);
  const dataset = await loadCsv(DATA, AMAZON_CSV);
  const labels = dataset.labels;
  const tokenizer = WordTokenizer.fit(dataset.examples.map(reviewText), {
    normalizer: config.normalizer,
    numWords: config.numWords,
  });
  const { fit: rows } = splitValidation(dataset.examples, 0.1, config.seed);
  const sample = new Rng(config.seed).shuffle([...rows]).slice(0, SAMPLE_ROWS + VALIDATION_ROWS);
  const train = encodeExamples(sample.slice(0, SAMPLE_ROWS), tokenizer, labels, config.maxLen);
  const validation = encodeExamples(sample.slice(SAMPLE_ROWS), tokenizer, labels, config.maxLen);

  // One seed's loss after one short epoch is noisy, so the loss check compares means over seeds.
  const runs: { seed: number; bucketed: ModeResult; padded: ModeResult }[] = [];
  for (const seed of SEEDS) {
    const seeded = { ...config, seed };
    runs.push({
      seed,
      bucketed: await timeMode('bucketed', seeded, labels.length, train, validation),
      padded: await timeMode('padded', seeded, labels.length, train, validation),
    });
  }
  const first = runs[0];
  if (!first) throw new Error('BENCH_TRAIN_SEEDS names no seed');
  const { bucketed, padded } = first;
  const meanValLoss = (mode: 'bucketed' | 'padded') =>
    runs.reduce((sum, r) => sum + r[mode].valLoss, 0) / runs.length;
  const lossGap = meanValLoss('bucketed') - meanValLoss('padded');
  const torch = await runTorch(config, labels.length, train);
  printJson({
    benchmark: 'train',
    machine: machineInfo(),
    settings: {
      backend: backend.name,
      backendDetail: backend.detail ?? null,
      architecture: {
        numWords: config.numWords,
        maxLen: config.maxLen,
        embeddingDim: config.embeddingDim,
        lstmUnits: config.lstmUnits,
        classes: labels.length,
      },
      batchSize: config.batchSize,
      learningRate: config.learningRate,
      sampleRows: train.sequences.length,
      validationRows: validation.sequences.length,
      meanTokensPerRow: round(train.sequences.reduce((n, s) => n + s.length, 0) / train.sequences.length, 1),
      epochs: 1,
      torch: { steps: TORCH_STEPS, threads: 2, input: 'the same word ids, pre-padded to maxLen' },
    },
    results: {
      tfjsBucketed: bucketed,
      tfjsPadded: padded,
      torchPadded: torch,
      lossBySeed: runs.map((r) => ({
        seed: r.seed,
        bucketedValLoss: r.bucketed.valLoss,
        paddedValLoss: r.padded.valLoss,
      })),
    },
    ratios: {
      bucketedVsPadded: speedup(1 / padded.samplesPerSec, 1 / bucketed.samplesPerSec),
      bucketedVsTorchPadded:
        'samplesPerSec' in torch ? speedup(1 / torch.samplesPerSec, 1 / bucketed.samplesPerSec) : null,
      meanValLossBucketedMinusPadded: round(lossGap, 4),
    },
    targets: [
      {
        name: 'bucketed tfjs at least as fast as padded PyTorch',
        met: 'samplesPerSec' in torch ? bucketed.samplesPerSec >= torch.samplesPerSec : null,
      },
      {
        name: 'bucketed loss no worse than padded (mean validation loss over seeds within 0.02)',
        met: lossGap <= 0.02,
      },
    ],
  });
}

async function timeMode(
  mode: 'bucketed' | 'padded',
  config: TrainConfig,
  classes: number,
  train: Encoded,
  validation: FitData,
): Promise<ModeResult> {
  progress(`tfjs ${mode}: one epoch of ${train.sequences.length} rows`);
  const model = createModel(architectureOf(config, classes));
  const { history } = await fit(model, train, validation, {
    epochs: 1,
    batchSize: config.batchSize,
    learningRate: config.learningRate,
    patience: Number.POSITIVE_INFINITY,
    classWeights: null,
    batchMode: mode,
    maxLen: config.maxLen,
    seed: config.seed,
    checkpointDir: null,
    resume: false,
    progress: quietProgress,
  });
  model.dispose();
  const epoch = history[0];
  if (!epoch) throw new Error(`tfjs ${mode}: fit returned no epoch`);
  const batches = makeBatches(train.sequences, train.labels, {
    batchSize: config.batchSize,
    mode,
    maxLen: config.maxLen,
    rng: new Rng(config.seed),
  });
  return {
    samplesPerSec: round(epoch.samplesPerSec, 1),
    epochSeconds: round(epoch.seconds, 1),
    trainLoss: round(epoch.loss, 4),
    valLoss: round(epoch.valLoss, 4),
    valAccuracy: round(epoch.valAccuracy, 4),
    paddingEfficiency: round(paddingEfficiency(batches), 3),
  };
}

async function runTorch(config: TrainConfig, classes: number, train: Encoded): Promise<TorchResult> {
  if (spawnSync(PYTHON, ['-c', 'import torch']).status !== 0) {
    return { skipped: `${PYTHON} cannot import torch: apt-get install python3-torch libopenblas0-pthread` };
  }
  progress(`pytorch padded: ${TORCH_STEPS} steps`);
  const dir = await mkdtemp(join(tmpdir(), 'bench-train-'));
  try {
    const idsFile = join(dir, 'ids.bin');
    const labelsFile = join(dir, 'labels.bin');
    await writeFile(idsFile, padPre(train.sequences, config.maxLen));
    await writeFile(labelsFile, train.labels);
    const settings = {
      idsFile,
      labelsFile,
      maxLen: config.maxLen,
      numWords: config.numWords,
      embeddingDim: config.embeddingDim,
      lstmUnits: config.lstmUnits,
      numClasses: classes,
      batchSize: config.batchSize,
      learningRate: config.learningRate,
      threads: 2,
      seed: config.seed,
      warmup: 3,
      steps: TORCH_STEPS,
    };
    const run = spawnSync(PYTHON, [join(import.meta.dirname, 'torch_lstm.py'), JSON.stringify(settings)], {
      encoding: 'utf8',
      env: { ...process.env, OPENBLAS_NUM_THREADS: '2', OMP_NUM_THREADS: '2' },
    });
    if (run.status !== 0) throw new Error(`torch_lstm.py failed: ${run.stderr}`);
    const result = JSON.parse(run.stdout) as { samplesPerSec: number };
    return { ...result, samplesPerSec: round(result.samplesPerSec, 1) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

type TorchResult = { samplesPerSec: number; [key: string]: unknown } | { skipped: string };

const quietProgress: ProgressSink = { batch() {}, epochEnd() {}, note() {} };

await main();
