/**
 * Held-out metrics for a classifier over (possibly ordinal) labels. The classes are imbalanced (about
 * half of the Amazon reviews are 5-star), so accuracy is always reported with macro-F1, the star error
 * (MAE) and the score of always predicting the majority training class.
 */
import { InternalError } from '../src/errors.ts';

export interface ClassMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  /** Rows whose true label is this class. */
  support: number;
}

export interface Metrics {
  n: number;
  accuracy: number;
  macroF1: number;
  /** Mean |value(predicted) - value(true)|, e.g. in stars; null when the labels are not ordinal. */
  mae: number | null;
  /** Share of rows predicted within one label value of the truth; null when not ordinal. */
  withinOne: number | null;
  perClass: ClassMetrics[];
  /** confusion[true][predicted] row counts. */
  confusion: number[][];
  labels: string[];
  majorityBaseline: { label: string; accuracy: number; macroF1: number; mae: number | null };
}

/**
 * Scores predictions (argmax of each probability row, or the classes given in `predictedIdx`, e.g. by
 * the median rule) against true class indexes. The majority baseline
 * predicts the most frequent training class (from `trainLabelCounts`, else the most frequent true class)
 * for every row.
 */
export function evaluate(
  trueIdx: ArrayLike<number>,
  probabilities: readonly ArrayLike<number>[],
  labels: string[],
  labelValues: number[] | null,
  trainLabelCounts?: number[],
  predictedIdx?: ArrayLike<number>,
): Metrics {
  validate(trueIdx, probabilities, labels, labelValues, trainLabelCounts);
  const truth = Array.from(trueIdx);
  const argmaxes = probabilities.map((row, i) => argmax(row, `probabilities[${i}]`));
  const predicted = predictedIdx ? Array.from(predictedIdx) : argmaxes;
  if (predicted.length !== truth.length)
    throw new InternalError(`evaluate: ${predicted.length} predictions for ${truth.length} rows`);
  const scores = score(truth, predicted, labels.length, labelValues);
  const counts = trainLabelCounts ?? scores.support;
  const majority = argmax(counts, 'trainLabelCounts');
  const baseline = score(
    truth,
    truth.map(() => majority),
    labels.length,
    labelValues,
  );
  return {
    n: truth.length,
    accuracy: scores.accuracy,
    macroF1: scores.macroF1,
    mae: scores.mae,
    withinOne: scores.withinOne,
    perClass: scores.perClass.map((c, k) => ({ label: labels[k] ?? String(k), ...c })),
    confusion: scores.confusion,
    labels: [...labels],
    majorityBaseline: {
      label: labels[majority] ?? String(majority),
      accuracy: baseline.accuracy,
      macroF1: baseline.macroF1,
      mae: baseline.mae,
    },
  };
}

interface Scores {
  accuracy: number;
  macroF1: number;
  mae: number | null;
  withinOne: number | null;
  perClass: Omit<ClassMetrics, 'label'>[];
  confusion: number[][];
  support: number[];
}

function score(truth: number[], predicted: number[], k: number, values: number[] | null): Scores {
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let correct = 0;
  let absError = 0;
  let withinOne = 0;
  truth.forEach((t, i) => {
    const p = predicted[i] ?? -1;
    const row = confusion[t];
    if (row) row[p] = (row[p] ?? 0) + 1;
    if (p === t) correct++;
    if (values) {
      const diff = Math.abs((values[p] ?? Number.NaN) - (values[t] ?? Number.NaN));
      absError += diff;
      if (diff <= 1) withinOne++;
    }
  });
  const support = confusion.map((row) => sum(row));
  const predictedCounts = confusion.map((_, c) => sum(confusion.map((row) => row[c] ?? 0)));
  const perClass = confusion.map((row, c) =>
    classScores(row[c] ?? 0, predictedCounts[c] ?? 0, support[c] ?? 0),
  );
  // Like scikit-learn's f1_score(average='macro') without `labels=`: average over the classes that occur
  // in the truth or the predictions; a class absent from both has no meaningful F1.
  const present = perClass.filter((_, c) => (support[c] ?? 0) > 0 || (predictedCounts[c] ?? 0) > 0);
  const n = truth.length;
  return {
    accuracy: correct / n,
    macroF1: sum(present.map((c) => c.f1)) / present.length,
    mae: values ? absError / n : null,
    withinOne: values ? withinOne / n : null,
    perClass,
    confusion,
    support,
  };
}

/**
 * A class never predicted has precision 0/0 and a class absent from the truth recall 0/0; both count
 * as 0 (scikit-learn's zero_division=0), so a model that never predicts a class gets F1 = 0 for it.
 */
function classScores(truePositives: number, predicted: number, support: number): Omit<ClassMetrics, 'label'> {
  const precision = predicted > 0 ? truePositives / predicted : 0;
  const recall = support > 0 ? truePositives / support : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1, support };
}

/** Index of the largest value; the first one on ties (as tf.argMax and numpy.argmax). */
function argmax(values: ArrayLike<number>, name: string): number {
  let best = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] ?? Number.NaN;
    if (Number.isNaN(v)) throw new InternalError(`${name}[${i}] is NaN`);
    if (v > (values[best] ?? Number.NaN)) best = i;
  }
  return best;
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

function validate(
  trueIdx: ArrayLike<number>,
  probabilities: readonly ArrayLike<number>[],
  labels: string[],
  labelValues: number[] | null,
  trainLabelCounts: number[] | undefined,
): void {
  const k = labels.length;
  const fail = (why: string): never => {
    throw new InternalError(`evaluate: ${why}`);
  };
  if (k < 2) fail(`needs at least two labels, got ${k}`);
  if (trueIdx.length === 0) fail('no examples to evaluate');
  if (probabilities.length !== trueIdx.length) {
    fail(`${trueIdx.length} true labels but ${probabilities.length} probability rows`);
  }
  for (let i = 0; i < trueIdx.length; i++) {
    const t = trueIdx[i];
    if (t === undefined || !Number.isInteger(t) || t < 0 || t >= k) {
      fail(`trueIdx[${i}] = ${t} is not a class index in 0..${k - 1}`);
    }
    const width = probabilities[i]?.length;
    if (width !== k) fail(`probabilities[${i}] has ${width} values, expected one per label (${k})`);
  }
  if (labelValues !== null && (labelValues.length !== k || !labelValues.every(Number.isFinite))) {
    fail(`labelValues must be null or ${k} finite numbers, got ${JSON.stringify(labelValues)}`);
  }
  if (trainLabelCounts !== undefined) {
    const ok = trainLabelCounts.length === k && trainLabelCounts.every((c) => Number.isInteger(c) && c >= 0);
    if (!ok)
      fail(`trainLabelCounts must be ${k} non-negative counts, got ${JSON.stringify(trainLabelCounts)}`);
  }
}
