/**
 * Calibration and ordinal decisions for a classifier's probabilities: how far its confidence is from its
 * accuracy (ECE), one temperature that fixes most of that (Guo et al., "On Calibration of Modern Neural
 * Networks", ICML 2017), and which rating to answer with when the labels are ordered (stars), where
 * the most probable rating is not the one with the smallest expected error. Pure functions over
 * Float32Array rows (one per example, one value per class) and Int32Array class indexes.
 */

import {
  argmax,
  DECISION_RULES,
  type Decision,
  type DecisionRule,
  decideClass,
  temperRow,
} from '../src/model/postprocess.ts';

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

/** The class to answer for each row (src/model/postprocess.ts, as serving decides); a bare rule has no offsets. */
export function decide(
  probabilities: readonly Float32Array[],
  decision: Decision | DecisionRule,
): Int32Array {
  return Int32Array.from(probabilities, (row) => decideClass(row, decision));
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

export interface OffsetFit {
  /** b_k per class, b_0 = 0. */
  offsets: number[];
  /** Macro-F1 of argmax_k(log p_k + b_k) on the rows fitted. */
  macroF1: number;
  /** Sweeps over the classes until none raised macro-F1. */
  sweeps: number;
}

export interface OffsetOptions {
  /** Offsets stay within ±bound (a class pushed to the bound is almost never, or almost always, answered). */
  bound: number;
  maxSweeps: number;
}

const OFFSET_DEFAULTS: OffsetOptions = Object.freeze({ bound: 4, maxSweeps: 20 });

/**
 * Per-class offsets b (b_0 = 0) maximising the macro-F1 of argmax_k(log p_k + b_k) on these rows, by
 * exact coordinate ascent. With the other offsets fixed, row i answers k exactly when
 * b_k > t_i = max_{j≠k}(log p_j + b_j) − log p_k, and its best other class otherwise: macro-F1 as a
 * function of b_k only changes at the t_i, so one pass over them in order scores every interval. b_k
 * moves to the middle of the best one (clipped to ±bound; of equally good ones, the nearest to its current
 * value), only when that strictly raises macro-F1, so the sweeps over k = 1..K−1 end. Macro-F1 as
 * training/evaluate.ts computes it: the mean F1 over classes that occur in the labels or the answers.
 */
export function fitOffsets(
  probabilities: readonly Float32Array[],
  labels: Int32Array,
  options: Partial<OffsetOptions> = {},
): OffsetFit {
  check(probabilities, labels);
  const o = { ...OFFSET_DEFAULTS, ...options };
  const classes = probabilities[0]?.length ?? 0;
  const n = labels.length;
  const logp = probabilities.map((row) => Float64Array.from(row, (p) => Math.log(p)));
  const support = new Float64Array(classes);
  for (const y of labels) support[y] = (support[y] ?? 0) + 1;
  const offsets = new Array<number>(classes).fill(0);
  const answers = decide(probabilities, 'argmax');
  let best = macroF1Of(answers, labels, classes);
  const threshold = new Float64Array(n);
  const other = new Int32Array(n);
  let sweeps = 0;
  for (let changed = true; changed && sweeps < o.maxSweeps; sweeps++) {
    changed = false;
    for (let k = 1; k < classes; k++) {
      // Every row answers its best other class; then, in order of t_i, rows switch to k.
      const tp = new Float64Array(classes);
      const predicted = new Float64Array(classes);
      for (let i = 0; i < n; i++) {
        const row = logp[i] as Float64Array;
        let c = -1;
        let m = Number.NEGATIVE_INFINITY;
        for (let j = 0; j < classes; j++) {
          const v = (row[j] ?? 0) + (offsets[j] ?? 0);
          if (j !== k && (c < 0 || v > m)) {
            c = j;
            m = v;
          }
        }
        const t = m - (row[k] ?? 0);
        threshold[i] = Number.isNaN(t) ? Number.POSITIVE_INFINITY : t;
        other[i] = c;
        predicted[c] = (predicted[c] ?? 0) + 1;
        if (labels[i] === c) tp[c] = (tp[c] ?? 0) + 1;
      }
      const order = Array.from({ length: n }, (_, i) => i).sort(
        (a, b) => (threshold[a] ?? 0) - (threshold[b] ?? 0),
      );
      const clip = (x: number): number => Math.min(o.bound, Math.max(-o.bound, x));
      const current = offsets[k] ?? 0;
      let pick: { f1: number; value: number } | null = null;
      const consider = (lower: number, upper: number): void => {
        const lo = clip(lower);
        const hi = clip(upper);
        if (!(hi > lo)) return;
        const f1 = macroF1FromCounts(tp, predicted, support);
        const middle = (lo + hi) / 2;
        const rounded = Math.round(middle * 1e4) / 1e4 + 0;
        const value = rounded > lo && rounded < hi ? rounded : middle;
        const better = pick === null || f1 > pick.f1 + 1e-12;
        const nearer =
          pick !== null &&
          Math.abs(f1 - pick.f1) <= 1e-12 &&
          Math.abs(value - current) < Math.abs(pick.value - current);
        if (better || nearer) pick = { f1, value };
      };
      let lower = Number.NEGATIVE_INFINITY;
      let r = 0;
      while (r < n) {
        const t = threshold[order[r] ?? 0] ?? 0;
        consider(lower, t);
        if (t === Number.POSITIVE_INFINITY) break;
        for (; r < n && threshold[order[r] ?? 0] === t; r++) {
          const i = order[r] ?? 0;
          const c = other[i] ?? 0;
          predicted[c] = (predicted[c] ?? 0) - 1;
          predicted[k] = (predicted[k] ?? 0) + 1;
          if (labels[i] === c) tp[c] = (tp[c] ?? 0) - 1;
          if (labels[i] === k) tp[k] = (tp[k] ?? 0) + 1;
        }
        lower = t;
      }
      if (r >= n) consider(lower, Number.POSITIVE_INFINITY);
      const chosen = pick as { f1: number; value: number } | null;
      if (chosen && chosen.f1 > best + 1e-12) {
        offsets[k] = chosen.value;
        best = chosen.f1;
        changed = true;
      }
    }
  }
  // The fitted figure as the answers give it (the counts above track it; this is the definition).
  return {
    offsets,
    macroF1: macroF1Of(decide(probabilities, { decision: 'offsets', offsets }), labels, classes),
    sweeps,
  };
}

function macroF1Of(answers: Int32Array, labels: Int32Array, classes: number): number {
  const tp = new Float64Array(classes);
  const predicted = new Float64Array(classes);
  const support = new Float64Array(classes);
  labels.forEach((y, i) => {
    const a = answers[i] ?? 0;
    support[y] = (support[y] ?? 0) + 1;
    predicted[a] = (predicted[a] ?? 0) + 1;
    if (a === y) tp[y] = (tp[y] ?? 0) + 1;
  });
  return macroF1FromCounts(tp, predicted, support);
}

function macroF1FromCounts(tp: Float64Array, predicted: Float64Array, support: Float64Array): number {
  let total = 0;
  let present = 0;
  for (let k = 0; k < tp.length; k++) {
    const denominator = (support[k] ?? 0) + (predicted[k] ?? 0);
    if (denominator > 0) {
      total += (2 * (tp[k] ?? 0)) / denominator;
      present++;
    }
  }
  return present > 0 ? total / present : 0;
}

/** Validation figures of one decision rule, as the choice saw them. */
export interface DecisionCandidate {
  decision: DecisionRule;
  accuracy: number;
  macroF1: number;
  /** Null when the labels have no values. */
  mae: number | null;
  /** Mean paired per-row |error| − argmax's |error| (positive: worse than argmax), and its standard error. */
  maeDifference: number | null;
  maeDifferenceStandardError: number | null;
  /** Its MAE is not worse than argmax's by more than two standard errors. */
  eligible: boolean;
  /** offsets: the figures are cross-fitted (each fold answered with offsets fitted on the other folds). */
  crossFitted: boolean;
  /** offsets: fitted on every row (what would ship), with their in-sample figures (optimistic). */
  offsets?: number[];
  inSample?: { accuracy: number; macroF1: number; mae: number | null };
}

export interface DecisionChoice {
  decision: Decision;
  candidates: DecisionCandidate[];
  /** Folds of the offsets' cross-fitting (0 when there were too few groups to fit offsets). */
  folds: number;
}

export interface DecisionOptions {
  /** Rows that must share a fold (e.g. one review's views); default: each row its own. */
  groups?: Int32Array;
  /** The rules that may be chosen; argmax is always a candidate (the reference). Default: all. */
  rules: readonly DecisionRule[];
  folds: number;
  offsets: Partial<OffsetOptions>;
}

export const DECISION_SELECTION =
  'the highest validation macro-F1 (offsets cross-fitted) among the rules whose validation MAE is not worse than ' +
  "argmax's by more than two standard errors of the paired per-row difference; argmax on a tie";

/**
 * Chooses how to answer on validation rows: argmax, the median (ordinal labels) and per-class offsets
 * (fitOffsets) compete on macro-F1, which weighs rare ratings as much as common ones, while MAE guards
 * the ordinal error: a rule whose MAE is worse than argmax's by more than two standard errors of the
 * paired per-row difference is out (DECISION_SELECTION). Offsets are fitted on the rows they would be
 * scored on, so their in-sample macro-F1 is optimistic by construction (argmax is one of the offsets
 * tried); they are judged on cross-fitted answers instead: groups (all views of a review together) go to
 * fold g mod `folds`, each fold answered by offsets fitted on the others. What ships are offsets fitted
 * on all rows.
 */
export function chooseDecision(
  probabilities: readonly Float32Array[],
  labels: Int32Array,
  values: readonly number[] | null,
  options: Partial<DecisionOptions> = {},
): DecisionChoice {
  check(probabilities, labels);
  const folds = options.folds ?? 5;
  const groups = options.groups ?? Int32Array.from(labels, (_, i) => i);
  if (groups.length !== labels.length)
    throw new CalibrationError(`${groups.length} groups for ${labels.length} rows`);
  const classes = probabilities[0]?.length ?? 0;
  const argmaxes = decide(probabilities, 'argmax');
  const errorOf = (answers: Int32Array, i: number): number =>
    values ? Math.abs((values[answers[i] ?? 0] ?? Number.NaN) - (values[labels[i] ?? 0] ?? Number.NaN)) : 0;
  const figures = (answers: Int32Array) => ({
    accuracy: answers.reduce((n, a, i) => n + (a === labels[i] ? 1 : 0), 0) / labels.length,
    macroF1: macroF1Of(answers, labels, classes),
    mae: values ? meanAbsoluteError(answers, labels, values) : null,
  });
  const candidate = (
    decision: DecisionRule,
    answers: Int32Array,
    crossFitted: boolean,
  ): DecisionCandidate => {
    const paired = values
      ? pairedDifference(labels.length, (i) => errorOf(answers, i) - errorOf(argmaxes, i))
      : null;
    return {
      decision,
      ...figures(answers),
      maeDifference: paired?.mean ?? null,
      maeDifferenceStandardError: paired?.standardError ?? null,
      eligible: paired === null || paired.mean <= 2 * paired.standardError,
      crossFitted,
    };
  };
  const candidates = [candidate('argmax', argmaxes, false)];
  const rules = new Set(options.rules ?? DECISION_RULES);
  if (values && rules.has('median'))
    candidates.push(candidate('median', decide(probabilities, 'median'), false));
  const distinct = new Set(groups).size;
  const usedFolds = rules.has('offsets') && distinct >= folds && folds >= 2 ? folds : 0;
  let offsets: number[] | null = null;
  if (usedFolds > 0) {
    const crossFitted = new Int32Array(labels.length);
    for (let f = 0; f < usedFolds; f++) {
      const held: number[] = [];
      const kept: number[] = [];
      groups.forEach((g, i) => {
        (((g % usedFolds) + usedFolds) % usedFolds === f ? held : kept).push(i);
      });
      const fit = fitOffsets(
        kept.map((i) => probabilities[i] as Float32Array),
        Int32Array.from(kept, (i) => labels[i] ?? 0),
        options.offsets,
      );
      for (const i of held)
        crossFitted[i] = decideClass(probabilities[i] as Float32Array, {
          decision: 'offsets',
          offsets: fit.offsets,
        });
    }
    offsets = fitOffsets(probabilities, labels, options.offsets).offsets;
    candidates.push({
      ...candidate('offsets', crossFitted, true),
      offsets,
      inSample: figures(decide(probabilities, { decision: 'offsets', offsets })),
    });
  }
  let chosen = candidates[0] as DecisionCandidate;
  for (const c of candidates) if (c.eligible && c.macroF1 > chosen.macroF1 + 1e-12) chosen = c;
  const decision: Decision =
    chosen.decision === 'offsets' && offsets
      ? { decision: 'offsets', offsets }
      : { decision: chosen.decision };
  return { decision, candidates, folds: usedFolds };
}

/** Mean of per-row differences and the standard error of that mean. */
function pairedDifference(n: number, difference: (i: number) => number) {
  const d = Float64Array.from({ length: n }, (_, i) => difference(i));
  const mean = d.reduce((sum, x) => sum + x, 0) / n;
  const variance = n > 1 ? d.reduce((sum, x) => sum + (x - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, standardError: Math.sqrt(variance / n) };
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
