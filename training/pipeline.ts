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
import {
  assessViews,
  headline,
  VIEWS,
  type ViewMetrics,
  type ViewName,
  type ViewScores,
  type ViewsAssessment,
  viewsOf,
} from './assess.ts';
import { type BaselineFigures, compareBaselines } from './baselines/compare.ts';
import { type Dataset, type Example, loadCsv, sortLabels } from './data.ts';
import { type FeedbackUse, feedbackRows, readFeedback } from './feedback.ts';
import { type FitResult, fit } from './fit.ts';
import { createProgress, type ProgressSink } from './progress.ts';
import { Rng } from './random.ts';
import { renderReport } from './report.ts';
import { splitByTextHash } from './split.ts';

export const REFERENCE_FIGURES = [
  { name: 'TF-IDF + logistic regression (scikit-learn)', accuracy: 0.684, macroF1: 0.532, mae: 0.471 },
  { name: 'original design LSTM, PyTorch, 6 epochs', accuracy: 0.636, macroF1: 0.474, mae: 0.548 },
];

export interface Encoded {
  sequences: Int32Array[];
  labels: Int32Array;
}

export type { RunAssessment };

export interface TrainResult {
  model: tf.LayersModel;
  tokenizer: WordTokenizer;
  version: string;
  published: { uri: string; version: string } | null;
  reportDir: string;
  /** Test metrics of the first view (title + text when the data has titles), post-processed as served. */
  metrics: ViewMetrics | null;
  assessment: RunAssessment;
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

/**
 * A seeded share of rows shown without their title (the rest unchanged), so a model trained on titled
 * reviews also learns to read the text alone, which is what most API callers send. Rate 0 draws nothing.
 */
export function withTitleDropout(examples: readonly Example[], rate: number, seed: number): Example[] {
  if (rate <= 0) return [...examples];
  const rng = new Rng(seed ^ 0x7171e);
  return examples.map((example) =>
    example.title !== null && rng.next() < rate ? { ...example, title: null } : example,
  );
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
  const { fit: dataFitRows, validation: valRows } = splitValidation(
    trainSet.examples,
    config.validationSplit,
    config.seed,
  );
  // Feedback joins the fit rows only, after the validation split (training/feedback.ts).
  const feedback = config.feedback
    ? await loadFeedbackRows(config, storage, {
        labels,
        dataRows: [...trainSet.examples, ...(testSet?.examples ?? [])],
        fitRows: dataFitRows.length,
      })
    : null;
  if (feedback) log(`feedback: ${JSON.stringify(feedback.use)}`);
  const titledFitRows = feedback ? [...dataFitRows, ...feedback.rows] : dataFitRows;
  const fitRows = withTitleDropout(titledFitRows, config.titleDropout, config.seed);
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

  const assessment = assessRun(
    model,
    tokenizer,
    { config, labels, trainCounts, valRows, testSet, fitRows: titledFitRows },
    log,
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
    postprocessing: assessment.postprocessing,
    architecture: { ...architecture },
    training: {
      ...trainingRecord(config, trainSet, testSet, backend, fitResult, fitRows.length, valRows.length),
      feedback: feedback?.use ?? null,
    },
    metrics: metricsRecord(assessment),
  });
  const published = config.out ? await publishBundle(files, config.out, { storage, log }) : null;
  await writeOutputs(reportDir, {
    feedback: feedback?.use ?? null,
    config,
    trainSet,
    testSet,
    assessment,
    fitResult,
    version,
    published,
  });
  log(`report: ${join(reportDir, 'report.html')}`);
  const metrics = assessment.headlineTest;
  return { model, tokenizer, version, published, reportDir, metrics, assessment, fit: fitResult, backend };
}

async function loadFeedbackRows(
  config: TrainConfig,
  storage: Storage,
  data: { labels: string[]; dataRows: Example[]; fitRows: number },
): Promise<{ rows: Example[]; use: FeedbackUse }> {
  const uri = config.feedback as string;
  const { records, malformed } = await readFeedback(storage, uri, config.name);
  return feedbackRows(records, {
    uri,
    malformed,
    ...data,
    maxShare: config.feedbackMaxShare,
    includeTitle: config.includeTitle,
  });
}

/** The training CSV (and the test set) as a run reads them: --test-split-hash and --limit applied, labels sorted. */
export async function loadData(config: TrainConfig, storage: Storage, log: Log) {
  const [trainSet, loadedTest] = await Promise.all([
    loadCsv(config.data, config, { storage }),
    config.test ? loadCsv(config.test, config, { storage }) : Promise.resolve(null),
  ]);
  let testSet = loadedTest;
  if (config.testSplitHash > 0) {
    // Before --limit and the validation split, so the test rows never change and never train.
    const { rest, test } = splitByTextHash(trainSet.examples, config.testSplitHash);
    testSet = {
      ...trainSet,
      uri: `${trainSet.uri}#sha1<${config.testSplitHash}`,
      examples: test,
      badRows: [],
      rows: test.length,
    };
    trainSet.examples = rest;
    log(`held out ${test.length} test rows of ${config.data} by text hash (share ${config.testSplitHash})`);
  }
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

interface RunAssessment extends ViewsAssessment {
  baselines: BaselineFigures | null;
  /** The test metrics of the first view (title + text when the data has titles), or null without --test. */
  headlineTest: ViewMetrics | null;
}

/**
 * Validation in every view fits the temperature and chooses the decision rule (assess.ts assessViews); the
 * test set only reports, in every view, beside the linear baselines fitted on the same rows.
 */
function assessRun(
  model: tf.LayersModel,
  tokenizer: WordTokenizer,
  run: {
    config: TrainConfig;
    labels: string[];
    trainCounts: number[];
    valRows: Example[];
    testSet: Dataset | null;
    fitRows: Example[];
  },
  log: Log,
): RunAssessment {
  const { config, labels, trainCounts } = run;
  const labelValues = ordinalValues(labels);
  const scores = (rows: readonly Example[], views: ViewName[]) =>
    Object.fromEntries(
      views.map((view) => {
        const encoded = encodeExamples(rows.map(VIEWS[view]), tokenizer, labels, config.maxLen);
        return [
          view,
          { probabilities: batchedProbabilities(model, encoded.sequences, null), labels: encoded.labels },
        ];
      }),
    ) as Partial<Record<ViewName, ViewScores>>;
  const known = run.testSet?.examples.filter((e) => labels.includes(e.label)) ?? [];
  if (run.testSet && known.length < run.testSet.examples.length) {
    log(
      `${run.testSet.uri}: ${run.testSet.examples.length - known.length} rows have labels unseen in training; not evaluated`,
    );
  }
  const testViews = viewsOf(known);
  const { postprocessing, calibration, validation, test } = assessViews(
    scores(run.valRows, viewsOf(run.valRows)),
    run.testSet ? scores(known, testViews) : null,
    { names: labels, values: labelValues, trainCounts },
    log,
    config.decisions,
  );
  const baselines =
    run.testSet && config.baselines.length > 0
      ? compareBaselines(
          config.baselines,
          run.fitRows,
          {
            views: testViews,
            examples: known,
            labels: encodeExamples(known, tokenizer, labels, config.maxLen).labels,
          },
          { names: labels, values: labelValues, counts: trainCounts },
          log,
        )
      : null;
  const headlineTest = test ? (test[testViews[0] ?? 'text-only'] ?? null) : null;
  return { postprocessing, calibration, validation, test, baselines, headlineTest };
}

function metricsRecord(a: RunAssessment) {
  const headlines = (views: Partial<Record<ViewName, ViewMetrics>>) =>
    Object.fromEntries(Object.entries(views).map(([view, m]) => [view, headline(m)]));
  return {
    ...(a.test ? { test: headlines(a.test) } : {}),
    validation: headlines(a.validation),
    calibration: a.calibration,
    ...(a.baselines ? { baselines: a.baselines } : {}),
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
    assessment: RunAssessment;
    fitResult: FitResult;
    version: string;
    published: { uri: string; version: string } | null;
    feedback: FeedbackUse | null;
  },
) {
  const metricsJson = {
    version: o.version,
    feedback: o.feedback,
    test: o.assessment.test,
    validation: o.assessment.validation,
    calibration: o.assessment.calibration,
    baselines: o.assessment.baselines,
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
      ...(o.feedback ? { feedback: o.feedback } : {}),
      ...(o.testSet
        ? { test: { uri: o.testSet.uri, rows: o.testSet.rows, badRows: o.testSet.badRows } }
        : {}),
    },
    history: o.fitResult.history,
    bestEpoch: o.fitResult.bestEpoch,
    stoppedEarly: o.fitResult.stoppedEarly,
    metrics: o.assessment.headlineTest,
    validation: o.assessment.validation[firstView(o.assessment.validation)] ?? null,
    assessment: o.assessment,
    reference: REFERENCE_FIGURES,
  });
  await writeFile(join(dir, 'report.html'), html);
}

function firstView(views: Partial<Record<ViewName, unknown>>): ViewName {
  return (Object.keys(views)[0] as ViewName | undefined) ?? 'text-only';
}

function s3Options(c: TrainConfig) {
  return { ...(c.endpointUrl ? { endpoint: c.endpointUrl } : {}), ...(c.region ? { region: c.region } : {}) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : (sorted[Math.floor((sorted.length - 1) / 2)] ?? 0);
}
