/**
 * `node bench/ensemble-probe.ts`: would averaging the served model with a linear TF-IDF model hold up in
 * another product category? A question for the next model (issue 8), not a served path. Prints one JSON
 * document: accuracy, macro-F1 and MAE of the default bundle's probabilities (as served: tempered,
 * argmax), of TF-IDF 1-2-grams (200k) + logistic regression fitted on the bundle's own fit rows, and of
 * their average, on test.csv and on the shop's product_reviews.csv, in both views.
 *
 * MODEL_URI (default models/review-sentiment/) as for the function; needs ../shared/data. Takes about
 * two minutes here (the regression's fit).
 */
import { join, resolve } from 'node:path';
import { loadBundle } from '../src/bundle/read.ts';
import { buildScorer } from '../src/model/build.ts';
import { temperRow } from '../src/model/postprocess.ts';
import { reviewText } from '../src/text/review.ts';
import { VIEWS, type ViewName } from '../training/assess.ts';
import { fitTfidfLogreg, SKLEARN_BIGRAMS_200K } from '../training/baselines/tfidf-logreg.ts';
import { AMAZON_CSV, type Example, loadCsv } from '../training/data.ts';
import { evaluate } from '../training/evaluate.ts';
import { splitValidation } from '../training/pipeline.ts';
import { machineInfo } from './lib/machine.ts';
import { printJson, progress } from './lib/output.ts';
import { round } from './lib/stats.ts';

const ROOT = resolve(import.meta.dirname, '..');
const DATA = resolve(ROOT, '..', 'shared', 'data');
const LINEAR_WEIGHTS = [0, 0.5, 1];
const PRODUCT_CSV = {
  ...AMAZON_CSV,
  header: true,
  labelColumn: 'rating',
  textColumn: 'text',
  titleColumn: 'title',
};

async function main(): Promise<void> {
  const bundle = await loadBundle(process.env.MODEL_URI ?? join(ROOT, 'models', 'review-sentiment'));
  const { labels, labelValues } = bundle.manifest;
  const settings = (bundle.manifest.training as { settings?: { validationSplit?: number; seed?: number } })
    .settings;
  const train = (await loadCsv(join(DATA, 'train.csv'), AMAZON_CSV)).examples;
  const { fit } = splitValidation(train, settings?.validationSplit ?? 0.1, settings?.seed ?? 42);
  progress(`fitting TF-IDF 1-2-grams + LR on ${fit.length} rows`);
  const index = (e: Example) => labels.indexOf(e.label);
  const linear = fitTfidfLogreg(
    fit.map(reviewText),
    Int32Array.from(fit, index),
    labels,
    SKLEARN_BIGRAMS_200K,
  );
  const scorer = await buildScorer(bundle);
  const temperature = bundle.manifest.postprocessing?.temperature ?? 1;
  const sets = {
    'test.csv': (await loadCsv(join(DATA, 'test.csv'), AMAZON_CSV)).examples,
    'product_reviews.csv': (await loadCsv(join(DATA, 'product_reviews.csv'), PRODUCT_CSV)).examples,
  };
  const results: Record<string, Record<string, unknown>> = {};
  for (const [name, rows] of Object.entries(sets)) {
    for (const view of ['title+text', 'text-only'] as ViewName[]) {
      progress(`${name}, ${view}`);
      const examples = rows.map(VIEWS[view]);
      const truth = Int32Array.from(examples, index);
      const served = (await scorer.probabilities(scorer.encode(examples))).map((r) =>
        temperRow(r, temperature),
      );
      const lin = linear.predictProba(examples.map(reviewText));
      results[`${name} ${view}`] = Object.fromEntries(
        LINEAR_WEIGHTS.map((w) => {
          const mixed = served.map((r, i) =>
            Float32Array.from(r, (p, k) => (1 - w) * p + w * (lin[i]?.[k] ?? 0)),
          );
          const m = evaluate(truth, mixed, labels, labelValues);
          return [
            `linearWeight ${w}`,
            {
              accuracy: round(m.accuracy, 4),
              macroF1: round(m.macroF1, 4),
              mae: m.mae === null ? null : round(m.mae, 4),
            },
          ];
        }),
      );
    }
  }
  await printJson({
    benchmark: 'ensemble-probe',
    machine: machineInfo(),
    settings: {
      model: bundle.version,
      linear: SKLEARN_BIGRAMS_200K,
      fitRows: fit.length,
      decision: 'argmax',
    },
    results,
  });
}

if (import.meta.main) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`ensemble-probe: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
