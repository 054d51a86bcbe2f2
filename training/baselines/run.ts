/**
 * Measures the TF-IDF + logistic regression baselines on held-out data and prints JSON: for each setup,
 * the test metrics on title + text and on text only (what API callers send), calibration (ECE, NLL),
 * the MAE of the median rule next to argmax's, the solver's end state and the time taken.
 *
 *   node training/baselines/run.ts --train ../shared/data/train.csv --test ../shared/data/test.csv
 *   node training/baselines/run.ts --emotion ../shared/data/emotion.csv
 */
import { parseArgs } from 'node:util';
import { reviewText } from '../../src/text/review.ts';
import {
  decide,
  expectedCalibrationError,
  meanAbsoluteError,
  negativeLogLikelihood,
} from '../calibration.ts';
import { AMAZON_CSV, type CsvOptions, type Example, loadCsv } from '../data.ts';
import { evaluate } from '../evaluate.ts';
import { splitByTextHash } from '../split.ts';
import { BASELINE_SETUPS, fitTfidfLogreg, type TfidfLogregOptions } from './tfidf-logreg.ts';

/** The GUIDE's scikit-learn figures (accuracy, macro-F1, MAE) for comparison in the output. */
const REFERENCE = {
  amazon: {
    'words-2000': { 'title+text': [0.684, 0.532, 0.471], 'text-only': [0.633, 0.462, 0.573] },
    'bigrams-200k': { 'title+text': [0.695, 0.553, 0.44], 'text-only': [0.65, 0.478, 0.527] },
  },
  emotion: { accuracy: '0.58-0.59', macroF1: 0.58 },
};

const HELP = `Usage: node training/baselines/run.ts [options]
  --train PATH          training CSV (default ../shared/data/train.csv)
  --test PATH           test CSV (default ../shared/data/test.csv)
  --header              the CSVs have a header row (default: no header, Amazon Review Full shape)
  --label-column C      column name or 0-based index (default 0)
  --text-column C       (default 2)
  --title-column C      (default 1; "none" for no title: then only the text view is measured)
  --test-header, --test-label-column C, --test-text-column C, --test-title-column C
                        the test CSV's own shape when it differs (default: the training CSV's), e.g.
                        product_reviews.csv: --test-header --test-label-column rating
                        --test-text-column text --test-title-column title
  --emotion PATH        instead of --train/--test: a label,text CSV split 90/10 by text hash
                        (sha1 of the lower-cased text in the first 10 % of the hash space → test: the rows
                        npm run train -- --test-split-hash 0.1 holds out; training/split.ts)
  --setups LIST         comma-separated: ${Object.keys(BASELINE_SETUPS).join(', ')} (default: all)
  --tolerance X         solver stop: max |gradient| (default 1e-4, sklearn's tol)
  --max-iter N          solver iterations (default 1000)
  --help`;

const EMOTION_TEST_SHARE = 0.1;

interface Views {
  train: Example[];
  labels: string[];
  /** Test examples per view name; every view has the same rows in the same order. */
  test: Record<string, Example[]>;
  data: Record<string, unknown>;
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      train: { type: 'string', default: '../shared/data/train.csv' },
      test: { type: 'string', default: '../shared/data/test.csv' },
      header: { type: 'boolean', default: false },
      'label-column': { type: 'string', default: '0' },
      'text-column': { type: 'string', default: '2' },
      'title-column': { type: 'string', default: '1' },
      'test-header': { type: 'boolean' },
      'test-label-column': { type: 'string' },
      'test-text-column': { type: 'string' },
      'test-title-column': { type: 'string' },
      emotion: { type: 'string' },
      setups: { type: 'string', default: Object.keys(BASELINE_SETUPS).join(',') },
      tolerance: { type: 'string', default: '1e-4' },
      'max-iter': { type: 'string', default: '1000' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const started = performance.now();
  const views = values.emotion
    ? await emotionViews(values.emotion)
    : await csvViews(values.train, values.test, shapeOf(values), shapeOf(testShape(values)));
  const solver = { tolerance: Number(values.tolerance), maxIterations: Number(values['max-iter']) };
  const results: Record<string, unknown> = {};
  for (const name of values.setups.split(',')) {
    const setup = BASELINE_SETUPS[name];
    if (!setup)
      throw new Error(
        `unknown setup ${JSON.stringify(name)}; known: ${Object.keys(BASELINE_SETUPS).join(', ')}`,
      );
    results[name] = runSetup({ ...setup, ...solver }, views);
  }
  const reference = values.emotion ? REFERENCE.emotion : REFERENCE.amazon;
  const seconds = round((performance.now() - started) / 1000);
  console.log(JSON.stringify({ data: views.data, setups: results, reference, seconds }, null, 2));
  return 0;
}

interface ShapeFlags {
  header: boolean;
  'label-column': string;
  'text-column': string;
  'title-column': string;
}

interface TestShapeFlags {
  'test-header'?: boolean | undefined;
  'test-label-column'?: string | undefined;
  'test-text-column'?: string | undefined;
  'test-title-column'?: string | undefined;
}

/** The test CSV's shape flags: each --test-* flag, else the training CSV's. */
function testShape(values: ShapeFlags & TestShapeFlags): ShapeFlags {
  return {
    header: values['test-header'] ?? values.header,
    'label-column': values['test-label-column'] ?? values['label-column'],
    'text-column': values['test-text-column'] ?? values['text-column'],
    'title-column': values['test-title-column'] ?? values['title-column'],
  };
}

function shapeOf(values: ShapeFlags): CsvOptions {
  const column = (c: string): string | number => (/^\d+$/.test(c) ? Number(c) : c);
  const title = values['title-column'] === 'none' ? null : column(values['title-column']);
  return {
    ...AMAZON_CSV,
    header: values.header,
    labelColumn: column(values['label-column']),
    textColumn: column(values['text-column']),
    titleColumn: title,
    includeTitle: title !== null,
  };
}

async function csvViews(
  trainUri: string,
  testUri: string,
  trainShape: CsvOptions,
  shape: CsvOptions,
): Promise<Views> {
  const train = await loadCsv(trainUri, trainShape);
  const test = await loadCsv(testUri, shape);
  const views: Record<string, Example[]> = { [shape.includeTitle ? 'title+text' : 'text']: test.examples };
  if (shape.includeTitle) {
    const textOnly = await loadCsv(testUri, { ...shape, includeTitle: false });
    // Same rows (a row is bad for an empty text, not an empty title), so the views compare like with like.
    if (textOnly.examples.some((e, i) => e.line !== test.examples[i]?.line))
      throw new Error('views differ in rows');
    views['text-only'] = textOnly.examples;
  }
  const describe = (d: typeof train) => ({
    uri: d.uri,
    rows: d.examples.length,
    badRows: d.badRows.length,
    sha256: d.sha256,
  });
  return {
    train: train.examples,
    labels: train.labels,
    test: views,
    data: { train: describe(train), test: describe(test) },
  };
}

async function emotionViews(uri: string): Promise<Views> {
  const shape: CsvOptions = {
    ...AMAZON_CSV,
    header: true,
    labelColumn: 'label',
    textColumn: 'text',
    titleColumn: null,
    includeTitle: false,
  };
  const all = await loadCsv(uri, shape);
  // The same rows `npm run train -- --test-split-hash 0.1` holds out (training/split.ts).
  const { rest: train, test } = splitByTextHash(all.examples, EMOTION_TEST_SHARE);
  const data = { uri, rows: all.examples.length, train: train.length, test: test.length, sha256: all.sha256 };
  return { train, labels: all.labels, test: { text: test }, data };
}

function runSetup(options: TfidfLogregOptions, views: Views): Record<string, unknown> {
  const labelIndex = (examples: Example[]): Int32Array =>
    Int32Array.from(examples, (e) => views.labels.indexOf(e.label));
  const trainLabels = labelIndex(views.train);
  const t0 = performance.now();
  const model = fitTfidfLogreg(views.train.map(reviewText), trainLabels, views.labels, options);
  const fitSeconds = round((performance.now() - t0) / 1000);
  const counts = views.labels.map((_, k) => trainLabels.filter((y) => y === k).length);
  const metrics: Record<string, unknown> = {};
  let predictSeconds = 0;
  for (const [view, examples] of Object.entries(views.test)) {
    const t1 = performance.now();
    const probabilities = model.predictProba(examples.map(reviewText));
    predictSeconds += (performance.now() - t1) / 1000;
    metrics[view] = viewMetrics(probabilities, labelIndex(examples), views.labels, counts);
  }
  const { ngramRange, maxFeatures, C, tolerance, maxIterations } = options;
  return {
    options: { ngramRange, maxFeatures, C, tolerance, maxIterations },
    features: model.vectorizer.vocabulary.length,
    solver: model.solver,
    fitSeconds,
    predictSeconds: round(predictSeconds),
    metrics,
  };
}

function viewMetrics(probabilities: Float32Array[], truth: Int32Array, labels: string[], counts: number[]) {
  const numeric = labels.every((l) => /^-?\d+(\.\d+)?$/.test(l));
  const values = numeric ? labels.map(Number) : null;
  const m = evaluate(truth, probabilities, labels, values, counts);
  return {
    n: m.n,
    accuracy: round(m.accuracy),
    macroF1: round(m.macroF1),
    mae: m.mae === null ? null : round(m.mae),
    maeMedianRule: values ? round(meanAbsoluteError(decide(probabilities, 'median'), truth, values)) : null,
    withinOne: m.withinOne === null ? null : round(m.withinOne),
    ece: round(expectedCalibrationError(probabilities, truth)),
    nll: round(negativeLogLikelihood(probabilities, truth)),
    majorityBaseline: {
      accuracy: round(m.majorityBaseline.accuracy),
      macroF1: round(m.majorityBaseline.macroF1),
      mae: m.majorityBaseline.mae === null ? null : round(m.majorityBaseline.mae),
    },
  };
}

function round(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
