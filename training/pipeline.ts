/**
 * The training run as named steps: load → split → tokenize → build → fit → evaluate → bundle →
 * report → publish. Each step is a function of its inputs so tests and benchmarks can call them alone.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { createBundleFiles, makeVersionId } from '../src/bundle/files.ts';
import { ordinalValues } from '../src/bundle/manifest.ts';
import { publishBundle } from '../src/bundle/publish.ts';
import { sha256Hex } from '../src/common/hash.ts';
import { type Architecture, createModel, pickArchitecture } from '../src/model/architectures/index.ts';
import { type BackendInfo, selectBackend } from '../src/model/backend.ts';
import { batchedProbabilities } from '../src/model/batching.ts';
import { createStorage, type Storage } from '../src/storage/index.ts';
import { reviewText } from '../src/text/review.ts';
import { WordTokenizer } from '../src/text/tokenizer.ts';
import type { TrainConfig } from './args.ts';
import { type Dataset, type Example, loadCsv, sortLabels } from './data.ts';
import { evaluate, type Metrics } from './evaluate.ts';
import { type FitResult, fit } from './fit.ts';
import { createProgress, type ProgressSink } from './progress.ts';
import { Rng } from './random.ts';
import { renderReport } from './report.ts';

export const REFERENCE_FIGURES = [
  { name: 'TF-IDF + logistic regression (scikit-learn)', accuracy: 0.684, macroF1: 0.532, mae: 0.471 },
  { name: 'original design LSTM, PyTorch, 6 epochs', accuracy: 0.636, macroF1: 0.474, mae: 0.548 },
];

export interface Encoded {
  sequences: Int32Array[];
  labels: Int32Array;
}

export interface TrainResult {
  model: tf.LayersModel;
  tokenizer: WordTokenizer;
  version: string;
  published: { uri: string; version: string } | null;
  reportDir: string;
  metrics: Metrics | null;
  fit: FitResult;
  backend: BackendInfo;
}

type Log = (message: string) => void;

/** Seeded split of the training rows into fit and validation parts (validation never touches the tokenizer). */
export function splitValidation(examples: readonly Example[], share: number, seed: number) {
  const order = examples.map((_, i) => i);
  new Rng(seed).shuffle(order);
  const cut = Math.round(examples.length * (1 - share));
  const pick = (idx: number[]) => idx.sort((a, b) => a - b).map((i) => examples[i] as Example);
  return { fit: pick(order.slice(0, cut)), validation: pick(order.slice(cut)) };
}

export function encodeExamples(
  examples: readonly Example[],
  tokenizer: WordTokenizer,
  labels: string[],
  maxLen: number,
): Encoded {
  const index = new Map(labels.map((label, i) => [label, i]));
  const encoded: Encoded = { sequences: [], labels: new Int32Array(examples.length) };
  examples.forEach((example, i) => {
    const label = index.get(example.label);
    if (label === undefined)
      throw new Error(
        `line ${example.line}: label ${JSON.stringify(example.label)} is not among the training labels ${labels.join(', ')}`,
      );
    encoded.sequences.push(tokenizer.encode(reviewText(example), maxLen));
    encoded.labels[i] = label;
  });
  return encoded;
}

/** Rows per class, indexed by label id. */
export function labelCounts(labels: Int32Array, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const y of labels) counts[y] = (counts[y] ?? 0) + 1;
  return counts;
}

/** `balanced`: n / (k · count), as scikit-learn; `sqrt`: its square root, a milder push toward rare classes. */
export function classWeights(counts: readonly number[], mode: TrainConfig['classWeights']): number[] | null {
  if (mode === 'none') return null;
  const rows = counts.reduce((sum, count) => sum + count, 0);
  return counts.map((count) => {
    const balanced = count === 0 ? 0 : rows / (counts.length * count);
    return mode === 'sqrt' ? Math.sqrt(balanced) : balanced;
  });
}

/** Identifies a run by its data and settings, so `--resume` with the same command finds its checkpoint. */
export function runId(config: TrainConfig, dataSha256: string): string {
  const { out, reportDir, checkpointDir, resume, backend, endpointUrl, region, ...settings } = config;
  const digest = sha256Hex(JSON.stringify({ settings, dataSha256 }));
  return `${config.name}-${digest.slice(0, 12)}`;
}

export function architectureOf(config: TrainConfig, numClasses: number): Architecture {
  return { ...pickArchitecture({ ...config, maskZero: true }), numClasses, seed: config.seed };
}

export interface TrainDependencies {
  /** Where s3:// data and output live; by default S3 with --endpoint-url / --region. */
  storage?: Storage;
  log?: Log;
  /** Where the progress bar goes; by default stderr. */
  progress?: ProgressSink;
  /** Aborting stops training at the next batch and rejects with TrainingInterrupted. */
  signal?: AbortSignal;
}

/** Training was stopped by `signal`; the last completed epoch (if any) is checkpointed in `checkpointDir`. */
export class TrainingInterrupted extends Error {
  readonly checkpointDir: string;
  constructor(checkpointDir: string, options: { cause: unknown }) {
    super(`training interrupted; checkpoints are in ${checkpointDir}`, options);
    this.name = 'TrainingInterrupted';
    this.checkpointDir = checkpointDir;
  }
}

export async function train(config: TrainConfig, deps: TrainDependencies = {}): Promise<TrainResult> {
  const log = deps.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const backend = await selectBackend(config.backend);
  log(`backend: ${backend.name} (${backend.package})`);
  const storage = deps.storage ?? createStorage({ s3: s3Options(config) });
  const { train: trainSet, test: testSet } = await loadData(config, storage, log);
  const labels = trainSet.labels;
  const { fit: fitRows, validation: valRows } = splitValidation(
    trainSet.examples,
    config.validationSplit,
    config.seed,
  );
  const tokenizer = WordTokenizer.fit(fitRows.map(reviewText), {
    normalizer: config.normalizer,
    numWords: config.numWords,
    oov: config.oov,
  });
  const fitData = encodeExamples(fitRows, tokenizer, labels, config.maxLen);
  const valData = encodeExamples(valRows, tokenizer, labels, config.maxLen);
  log(
    `rows: ${fitRows.length} fit, ${valRows.length} validation, ${testSet?.examples.length ?? 0} test; vocabulary ${tokenizer.vocabulary.length}`,
  );

  const reportDir = config.reportDir ?? join('runs', runId(config, trainSet.sha256));
  await mkdir(reportDir, { recursive: true });
  const trainCounts = labelCounts(fitData.labels, labels.length);
  const architecture = architectureOf(config, labels.length);
  const model = createModel(architecture);
  const checkpointDir = config.checkpointDir ?? join(reportDir, 'checkpoint');
  const fitResult = await fit(model, fitData, valData, {
    epochs: config.epochs,
    batchSize: config.batchSize,
    learningRate: config.learningRate,
    patience: config.patience,
    classWeights: classWeights(trainCounts, config.classWeights),
    batchMode: config.batchMode,
    maxLen: config.maxLen,
    seed: config.seed,
    checkpointDir,
    resume: config.resume,
    progress: deps.progress ?? createProgress(),
    ...(deps.signal ? { signal: deps.signal } : {}),
  }).catch((error: unknown) => {
    if (deps.signal?.aborted) throw new TrainingInterrupted(checkpointDir, { cause: error });
    throw error;
  });

  // Validation metrics are what settings should be chosen on; the test set only reports.
  const validation = evaluateEncoded(model, valData, labels, trainCounts);
  const metrics = testSet ? evaluateOn(model, tokenizer, testSet, labels, config, trainCounts, log) : null;
  log(
    `validation: accuracy ${validation.accuracy.toFixed(3)} macro-F1 ${validation.macroF1.toFixed(3)} MAE ${validation.mae?.toFixed(3)}`,
  );
  const version = makeVersionId(new Date(), trainSet.sha256);
  const files = await createBundleFiles({
    model,
    tokenizer,
    name: config.name,
    version,
    labels,
    maxLen: config.maxLen,
    maskZero: true,
    architecture: { ...architecture },
    training: trainingRecord(config, trainSet, testSet, backend, fitResult, fitRows.length, valRows.length),
    metrics: { ...(metrics ? summary(metrics) : {}), validation: summary(validation) },
  });
  const published = config.out ? await publishBundle(files, config.out, { storage, log }) : null;
  await writeOutputs(reportDir, {
    config,
    trainSet,
    testSet,
    metrics,
    validation,
    fitResult,
    version,
    published,
  });
  log(`report: ${join(reportDir, 'report.html')}`);
  return { model, tokenizer, version, published, reportDir, metrics, fit: fitResult, backend };
}

async function loadData(config: TrainConfig, storage: Storage, log: Log) {
  const [trainSet, testSet] = await Promise.all([
    loadCsv(config.data, config, { storage }),
    config.test ? loadCsv(config.test, config, { storage }) : Promise.resolve(null),
  ]);
  if (config.limit !== null && config.limit < trainSet.examples.length) {
    // A seeded sample, not the first rows: the file is ordered by source, so a prefix can miss whole classes.
    const order = trainSet.examples.map((_, i) => i);
    new Rng(config.seed ^ 0x5eed).shuffle(order);
    const keep = order.slice(0, config.limit).sort((a, b) => a - b);
    trainSet.examples = keep.map((i) => trainSet.examples[i] as Example);
  }
  for (const set of [trainSet, testSet]) {
    if (set && set.badRows.length > 0)
      log(`${set.uri}: skipped ${set.badRows.length} malformed rows (see report)`);
  }
  trainSet.labels = sortLabels(trainSet.examples.map((e) => e.label));
  if (trainSet.labels.length < 2) throw new Error(`${config.data}: needs at least two distinct labels`);
  return { train: trainSet, test: testSet };
}

function evaluateOn(
  model: tf.LayersModel,
  tokenizer: WordTokenizer,
  set: Dataset,
  labels: string[],
  config: TrainConfig,
  trainCounts: number[],
  log: Log,
): Metrics {
  const known = set.examples.filter((e) => labels.includes(e.label));
  if (known.length < set.examples.length) {
    log(
      `${set.uri}: ${set.examples.length - known.length} rows have labels unseen in training; not evaluated`,
    );
  }
  return evaluateEncoded(model, encodeExamples(known, tokenizer, labels, config.maxLen), labels, trainCounts);
}

/** Metrics of the model on encoded rows; the majority baseline predicts the most frequent training class. */
function evaluateEncoded(
  model: tf.LayersModel,
  data: Encoded,
  labels: string[],
  trainCounts: number[],
): Metrics {
  const probabilities = batchedProbabilities(model, data.sequences, null);
  return evaluate(data.labels, probabilities, labels, ordinalValues(labels), trainCounts);
}

function summary(m: Metrics) {
  return {
    n: m.n,
    accuracy: m.accuracy,
    macroF1: m.macroF1,
    mae: m.mae,
    withinOne: m.withinOne,
    majorityBaseline: m.majorityBaseline,
  };
}

function trainingRecord(
  c: TrainConfig,
  trainSet: Dataset,
  testSet: Dataset | null,
  backend: BackendInfo,
  r: FitResult,
  fitRows: number,
  valRows: number,
) {
  return {
    data: {
      uri: trainSet.uri,
      sha256: trainSet.sha256,
      rows: trainSet.rows,
      badRows: trainSet.badRows.length,
      fitRows,
      validationRows: valRows,
    },
    test: testSet ? { uri: testSet.uri, sha256: testSet.sha256, rows: testSet.rows } : null,
    settings: {
      ...c,
      out: undefined,
      reportDir: undefined,
      checkpointDir: undefined,
      endpointUrl: undefined,
    },
    backend: backend.name,
    epochs: r.history.length,
    bestEpoch: r.bestEpoch,
    stoppedEarly: r.stoppedEarly,
    samplesPerSec: median(r.history.map((h) => h.samplesPerSec)),
  };
}

async function writeOutputs(
  dir: string,
  o: {
    config: TrainConfig;
    trainSet: Dataset;
    testSet: Dataset | null;
    metrics: Metrics | null;
    validation: Metrics;
    fitResult: FitResult;
    version: string;
    published: { uri: string; version: string } | null;
  },
) {
  const metricsJson = {
    version: o.version,
    test: o.metrics,
    validation: o.validation,
    history: o.fitResult.history,
    bestEpoch: o.fitResult.bestEpoch,
    stoppedEarly: o.fitResult.stoppedEarly,
    badRows: { train: o.trainSet.badRows, test: o.testSet?.badRows ?? [] },
    reference: REFERENCE_FIGURES,
  };
  await writeFile(join(dir, 'metrics.json'), `${JSON.stringify(metricsJson, null, 2)}\n`);
  const html = renderReport({
    title: `${o.config.name} ${o.version}`,
    createdAt: new Date().toISOString(),
    bundle: { name: o.config.name, version: o.version, uri: o.published?.uri ?? '(not published)' },
    settings: { ...o.config },
    data: {
      train: { uri: o.trainSet.uri, rows: o.trainSet.rows, badRows: o.trainSet.badRows },
      ...(o.testSet
        ? { test: { uri: o.testSet.uri, rows: o.testSet.rows, badRows: o.testSet.badRows } }
        : {}),
    },
    history: o.fitResult.history,
    bestEpoch: o.fitResult.bestEpoch,
    stoppedEarly: o.fitResult.stoppedEarly,
    metrics: o.metrics,
    validation: o.validation,
    reference: REFERENCE_FIGURES,
  });
  await writeFile(join(dir, 'report.html'), html);
}

function s3Options(c: TrainConfig) {
  return { ...(c.endpointUrl ? { endpoint: c.endpointUrl } : {}), ...(c.region ? { region: c.region } : {}) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : (sorted[Math.floor((sorted.length - 1) / 2)] ?? 0);
}
