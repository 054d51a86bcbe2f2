/**
 * What turns a model's probabilities into the answer, shared by serving and training's evaluation so the
 * figures in a report are the figures the API gives: a temperature fitted on validation (calibration;
 * Guo et al., ICML 2017) and, for ordered labels, the decision rule (the most probable rating, or the
 * distribution's median, which minimises the expected absolute error in stars).
 */

export type DecisionRule = 'argmax' | 'median';
export const DECISION_RULES: readonly DecisionRule[] = ['argmax', 'median'];

export interface Postprocessing {
  /** softmax(log p / T): 1 leaves the probabilities as the model gave them. */
  temperature: number;
  decision: DecisionRule;
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

export function decideClass(row: ArrayLike<number>, rule: DecisionRule): number {
  return rule === 'median' ? medianClass(row) : argmax(row);
}
