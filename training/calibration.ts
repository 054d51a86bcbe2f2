/**
 * Calibration and ordinal decisions for a classifier's probabilities: how far its confidence is from its
 * accuracy (ECE), one temperature that fixes most of that (Guo et al., "On Calibration of Modern Neural
 * Networks", ICML 2017), and which rating to answer with when the labels are ordered (stars), where
 * the most probable rating is not the one with the smallest expected error. Pure functions over
 * Float32Array rows (one per example, one value per class) and Int32Array class indexes.
 */

import { argmax, type DecisionRule, decideClass, temperRow } from '../src/model/postprocess.ts';

/** Bad arguments (shapes, ranges): a programming error, so a plain RangeError. */
const CalibrationError = RangeError;

export interface ReliabilityBin {
  /** The bin holds confidences in (lower, upper]; the first also holds 0. */
  lower: number;
  upper: number;
  count: number;
  /** Mean top-class probability of the bin's rows (0 when empty). */
  confidence: number;
  /** Share of the bin's rows whose top class is the true one (0 when empty). */
  accuracy: number;
}

/** Rows grouped by top-class probability into `bins` equal-width bins, as in Guo et al.'s reliability diagrams. */
export function reliabilityBins(
  probabilities: readonly Float32Array[],
  labels: Int32Array,
  bins = 10,
): ReliabilityBin[] {
  check(probabilities, labels);
  if (!Number.isInteger(bins) || bins < 1)
    throw new CalibrationError(`bins must be a positive integer, got ${bins}`);
  const count = new Float64Array(bins);
  const confidence = new Float64Array(bins);
  const correct = new Float64Array(bins);
  probabilities.forEach((row, i) => {
    const top = argmax(row);
    const p = row[top] ?? 0;
    // Float32 stores 0.6 as 0.6000000238; the slack keeps an edge value in the bin it names.
    const b = Math.min(bins - 1, Math.max(0, Math.ceil(p * bins - 1e-6) - 1));
    count[b] = (count[b] ?? 0) + 1;
    confidence[b] = (confidence[b] ?? 0) + p;
    if (top === labels[i]) correct[b] = (correct[b] ?? 0) + 1;
  });
  return Array.from(count, (n, b) => ({
    lower: b / bins,
    upper: (b + 1) / bins,
    count: n,
    confidence: n > 0 ? (confidence[b] ?? 0) / n : 0,
    accuracy: n > 0 ? (correct[b] ?? 0) / n : 0,
  }));
}

/** ECE = Σ_bins (rows in bin / rows) · |accuracy − mean confidence|, on the top-class probability. */
export function expectedCalibrationError(
  probabilities: readonly Float32Array[],
  labels: Int32Array,
  bins = 10,
): number {
  let total = 0;
  for (const bin of reliabilityBins(probabilities, labels, bins)) {
    total += bin.count * Math.abs(bin.accuracy - bin.confidence);
  }
  return total / probabilities.length;
}

/** Mean −log p(true class); a probability of 0 counts as the smallest positive float32 so the mean stays finite. */
export function negativeLogLikelihood(probabilities: readonly Float32Array[], labels: Int32Array): number {
  check(probabilities, labels);
  let total = 0;
  probabilities.forEach((row, i) => {
    total -= Math.log(Math.max(row[labels[i] ?? 0] ?? 0, MIN_PROBABILITY));
  });
  return total / probabilities.length;
}

const MIN_PROBABILITY = 1.401298464324817e-45;

/** softmax(z / T) of each row; z may be logits or log-probabilities (they differ by a per-row constant). */
export function softmaxWithTemperature(logits: readonly Float32Array[], temperature: number): Float32Array[] {
  checkTemperature(temperature);
  return logits.map((z) => {
    const scaled = Float64Array.from(z, (v) => v / temperature);
    const lse = logSumExp(scaled);
    return Float32Array.from(scaled, (v) => Math.exp(v - lse));
  });
}

/** Re-tempers probability rows: softmax(log p / T), row by row as serving does. */
export function applyTemperature(
  probabilities: readonly Float32Array[],
  temperature: number,
): Float32Array[] {
  checkTemperature(temperature);
  return probabilities.map((row) => temperRow(row, temperature));
}

export function logProbabilities(probabilities: readonly Float32Array[]): Float32Array[] {
  return probabilities.map((row) => Float32Array.from(row, (p) => Math.log(p)));
}

/** Mean NLL of softmax(z / T) against the labels, in float64 (no rounding to float32 rows). */
export function temperatureNll(
  logits: readonly Float32Array[],
  labels: Int32Array,
  temperature: number,
): number {
  check(logits, labels);
  checkTemperature(temperature);
  let total = 0;
  const scaled = new Float64Array(logits[0]?.length ?? 0);
  logits.forEach((z, i) => {
    for (let k = 0; k < scaled.length; k++) scaled[k] = (z[k] ?? 0) / temperature;
    total += logSumExp(scaled) - (scaled[labels[i] ?? 0] ?? 0);
  });
  return total / logits.length;
}

export interface TemperatureFit {
  temperature: number;
  /** Validation NLL at T = 1 and at the fitted T. */
  nllBefore: number;
  nllAfter: number;
  /** True when the optimum lies at a bound of the search range (widen it, or the model is degenerate). */
  atBound: boolean;
}

export interface TemperatureOptions {
  min: number;
  max: number;
  /** Width of the final bracket in log T. */
  tolerance: number;
}

const TEMPERATURE_DEFAULTS: TemperatureOptions = Object.freeze({ min: 0.01, max: 100, tolerance: 1e-7 });

/**
 * The T > 0 minimising validation NLL of softmax(z / T). NLL is convex in 1/T (a log-sum-exp of a linear
 * function minus a linear one), hence unimodal in log T, so golden-section search on log T cannot stop
 * at a false minimum and needs no gradient or starting point.
 */
export function fitTemperature(
  logits: readonly Float32Array[],
  labels: Int32Array,
  options: Partial<TemperatureOptions> = {},
): TemperatureFit {
  const o = { ...TEMPERATURE_DEFAULTS, ...options };
  if (!(o.min > 0 && o.max > o.min)) throw new CalibrationError(`need 0 < min < max, got ${o.min}, ${o.max}`);
  const nll = (logT: number): number => temperatureNll(logits, labels, Math.exp(logT));
  const logT = goldenSectionMinimum(nll, Math.log(o.min), Math.log(o.max), o.tolerance);
  const margin = 10 * o.tolerance;
  return {
    temperature: Math.exp(logT),
    nllBefore: nll(0),
    nllAfter: nll(logT),
    atBound: logT - Math.log(o.min) < margin || Math.log(o.max) - logT < margin,
  };
}

/** Minimiser of a unimodal f on [a, b] to within `tolerance`. */
export function goldenSectionMinimum(
  f: (x: number) => number,
  a: number,
  b: number,
  tolerance: number,
): number {
  const ratio = (Math.sqrt(5) - 1) / 2;
  let lo = a;
  let hi = b;
  let x1 = hi - ratio * (hi - lo);
  let x2 = lo + ratio * (hi - lo);
  let f1 = f(x1);
  let f2 = f(x2);
  while (hi - lo > tolerance) {
    if (f1 <= f2) {
      hi = x2;
      x2 = x1;
      f2 = f1;
      x1 = hi - ratio * (hi - lo);
      f1 = f(x1);
    } else {
      lo = x1;
      x1 = x2;
      f1 = f2;
      x2 = lo + ratio * (hi - lo);
      f2 = f(x2);
    }
  }
  return (lo + hi) / 2;
}

export type OrdinalRule = DecisionRule;

/** The class to answer for each row under `rule` (src/model/postprocess.ts, as serving decides). */
export function decide(probabilities: readonly Float32Array[], rule: OrdinalRule): Int32Array {
  return Int32Array.from(probabilities, (row) => decideClass(row, rule));
}

/** Mean |values[predicted] − values[true]|; values default to the class indexes (equally spaced labels). */
export function meanAbsoluteError(
  predicted: Int32Array,
  labels: Int32Array,
  values?: readonly number[],
): number {
  if (predicted.length !== labels.length || labels.length === 0) {
    throw new CalibrationError(`${predicted.length} predictions for ${labels.length} labels`);
  }
  const value = (k: number): number => (values ? (values[k] ?? Number.NaN) : k);
  let total = 0;
  for (let i = 0; i < labels.length; i++) total += Math.abs(value(predicted[i] ?? 0) - value(labels[i] ?? 0));
  return total / labels.length;
}

export interface RuleChoice {
  rule: OrdinalRule;
  mae: Record<OrdinalRule, number>;
  /** Standard error of the paired per-row difference |argmax error| − |median error|. */
  standardError: number;
}

/**
 * Argmax is the accuracy- and F1-optimal answer; the median trades some of both for a lower expected
 * error in stars. So the median is chosen only when it lowers validation MAE by more than two standard
 * errors of the paired per-row difference: a gain within noise does not cost accuracy. Argmax on a tie.
 */
export function chooseOrdinalRule(
  probabilities: readonly Float32Array[],
  labels: Int32Array,
  values?: readonly number[],
): RuleChoice {
  check(probabilities, labels);
  const value = (k: number): number => (values ? (values[k] ?? Number.NaN) : k);
  const argmaxes = decide(probabilities, 'argmax');
  const medians = decide(probabilities, 'median');
  const gains = Float64Array.from(labels, (y, i) => {
    const truth = value(y);
    return Math.abs(value(argmaxes[i] ?? 0) - truth) - Math.abs(value(medians[i] ?? 0) - truth);
  });
  const n = gains.length;
  const mean = gains.reduce((sum, g) => sum + g, 0) / n;
  const variance = n > 1 ? gains.reduce((sum, g) => sum + (g - mean) ** 2, 0) / (n - 1) : 0;
  const standardError = Math.sqrt(variance / n);
  const mae = {
    argmax: meanAbsoluteError(argmaxes, labels, values),
    median: meanAbsoluteError(medians, labels, values),
  };
  return { rule: mean > 2 * standardError && mean > 0 ? 'median' : 'argmax', mae, standardError };
}

function logSumExp(z: Float64Array): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of z) max = Math.max(max, v);
  if (max === Number.NEGATIVE_INFINITY) return max;
  let total = 0;
  for (const v of z) total += Math.exp(v - max);
  return max + Math.log(total);
}

function checkTemperature(temperature: number): void {
  if (!(temperature > 0 && Number.isFinite(temperature))) {
    throw new CalibrationError(`temperature must be a positive finite number, got ${temperature}`);
  }
}

function check(rows: readonly Float32Array[], labels: Int32Array): void {
  if (rows.length === 0) throw new CalibrationError('no rows');
  if (rows.length !== labels.length)
    throw new CalibrationError(`${rows.length} rows but ${labels.length} labels`);
  const k = rows[0]?.length ?? 0;
  rows.forEach((row, i) => {
    if (row.length !== k) throw new CalibrationError(`row ${i} has ${row.length} values, row 0 has ${k}`);
    const y = labels[i] ?? -1;
    if (y < 0 || y >= k)
      throw new CalibrationError(`labels[${i}] = ${y} is not a class index in 0..${k - 1}`);
  });
}
