/**
 * What turns a model's probabilities into the answer, shared by serving and training's evaluation so the
 * figures in a report are the figures the API gives: a temperature fitted on validation (calibration;
 * Guo et al., ICML 2017) and the decision rule: the most probable label; for ordered labels the
 * distribution's median, which minimises the expected absolute error in stars; or the most probable label
 * after per-class offsets on the log-probabilities, fitted on validation to raise macro-F1 (argmax
 * under-answers rare classes, which macro-F1 weighs as much as common ones).
 */

export interface Postprocessing {
  /** softmax(log p / T): 1 leaves the probabilities as the model gave them. */
  temperature: number;
  decision: DecisionRule;
  /**
   * Decision `offsets` only: b_k, one per label, added to log p_k (after the temperature) before taking
   * the most probable label. The first is 0 (only differences matter). Absent for the other rules.
   */
  offsets?: number[];
}

/** The part of the post-processing that picks the answer from (tempered) probabilities. */
export type Decision = Pick<Postprocessing, 'decision' | 'offsets'>;

/** Each rule: the class index to answer for one row of (tempered) probabilities. */
const DECISIONS = {
  argmax: (row: ArrayLike<number>) => argmax(row),
  median: (row: ArrayLike<number>) => medianClass(row),
  offsets: (row: ArrayLike<number>, decision: Decision) => offsetArgmax(row, decision.offsets ?? []),
} satisfies Record<string, (row: ArrayLike<number>, decision: Decision) => number>;

export type DecisionRule = keyof typeof DECISIONS;
export const DECISION_RULES = Object.keys(DECISIONS) as readonly DecisionRule[];

export function isDecisionRule(value: unknown): value is DecisionRule {
  return typeof value === 'string' && Object.hasOwn(DECISIONS, value);
}

export const IDENTITY_POSTPROCESSING: Postprocessing = Object.freeze({ temperature: 1, decision: 'argmax' });

/** One row re-tempered: softmax(log p / T). T > 1 flattens, T < 1 sharpens; zeros stay zero. */
export function temperRow(row: ArrayLike<number>, temperature: number): Float32Array {
  if (temperature === 1) return Float32Array.from(row);
  const scaled = Float64Array.from(row, (p) => Math.log(p) / temperature);
  let max = Number.NEGATIVE_INFINITY;
  for (const v of scaled) max = Math.max(max, v);
  let total = 0;
  for (const v of scaled) total += Math.exp(v - max);
  return Float32Array.from(scaled, (v) => Math.exp(v - max) / total);
}

export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < row.length; k++) if ((row[k] ?? 0) > (row[best] ?? 0)) best = k;
  return best;
}

/**
 * argmax_k (log p_k + b_k): the first such class on a tie, class 0 when every p_k is 0 (as argmax). A
 * probability of 0 is never answered. With every b_k equal this is argmax.
 */
export function offsetArgmax(row: ArrayLike<number>, offsets: readonly number[]): number {
  let best = 0;
  let bestValue = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < row.length; k++) {
    const value = Math.log(row[k] ?? 0) + (offsets[k] ?? 0);
    if (value > bestValue) {
      best = k;
      bestValue = value;
    }
  }
  return best;
}

/**
 * The first class whose cumulative probability reaches half the row's mass: for ordered labels it
 * minimises the expected absolute error (45 % one star and 45 % five stars answers 3, not 1). When the
 * cumulative mass is exactly one half, the next class is as good; the lower one is returned.
 */
export function medianClass(row: ArrayLike<number>): number {
  let mass = 0;
  for (let k = 0; k < row.length; k++) mass += row[k] ?? 0;
  let cumulative = 0;
  for (let k = 0; k < row.length; k++) {
    cumulative += row[k] ?? 0;
    if (cumulative >= mass / 2) return k;
  }
  return row.length - 1;
}

/** The class to answer for one row of tempered probabilities; a bare rule name means no offsets. */
export function decideClass(row: ArrayLike<number>, decision: Decision | DecisionRule): number {
  const d = typeof decision === 'string' ? { decision } : decision;
  return DECISIONS[d.decision](row, d);
}
