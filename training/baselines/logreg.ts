/**
 * Multinomial logistic regression on sparse rows, the objective of scikit-learn's
 * `LogisticRegression(C, solver='lbfgs')`: mean cross-entropy + ||W||² / (2·C·n), intercepts not
 * penalised. The objective is strictly convex in W, so any solver run to a small gradient lands on
 * sklearn's coefficients; L-BFGS with sklearn's stopping rule is used here.
 */
import { LBFGS_DEFAULTS, type LbfgsResult, minimizeLbfgs } from './lbfgs.ts';
import type { Csr } from './sparse.ts';

export interface LogregOptions {
  /** Inverse regularisation strength (sklearn's C). */
  C: number;
  maxIterations: number;
  /** Stop when max |gradient| of the mean objective is at most this (sklearn's tol). */
  tolerance: number;
}

export const LOGREG_DEFAULTS: LogregOptions = Object.freeze({ C: 1, maxIterations: 1000, tolerance: 1e-4 });

export interface LogregModel {
  classes: number;
  features: number;
  /** features × classes, feature-major: a sparse row touches `classes` adjacent weights per non-zero. */
  weights: Float64Array;
  intercept: Float64Array;
}

export interface LogregFit {
  model: LogregModel;
  solver: Pick<LbfgsResult, 'value' | 'gradientMax' | 'iterations' | 'evaluations' | 'converged' | 'reason'>;
}

export function fitLogreg(
  x: Csr,
  labels: ArrayLike<number>,
  classes: number,
  options: Partial<LogregOptions> = {},
): LogregFit {
  const o = { ...LOGREG_DEFAULTS, ...options };
  if (labels.length !== x.rows) throw new RangeError(`${x.rows} rows but ${labels.length} labels`);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i] ?? -1;
    if (!Number.isInteger(y) || y < 0 || y >= classes)
      throw new RangeError(`labels[${i}] = ${y} is not in 0..${classes - 1}`);
  }
  const objective = (params: Float64Array, gradient: Float64Array): number =>
    lossAndGradient(x, labels, classes, 1 / (o.C * x.rows), params, gradient);
  const start = new Float64Array(x.columns * classes + classes);
  const result = minimizeLbfgs(objective, start, {
    ...LBFGS_DEFAULTS,
    maxIterations: o.maxIterations,
    gradientTolerance: o.tolerance,
  });
  const { x: params, ...solver } = result;
  return { model: unpack(params, x.columns, classes), solver };
}

/** Class scores W·x + b of every row. */
export function decisionFunction(model: LogregModel, x: Csr): Float32Array[] {
  if (x.columns !== model.features) throw new RangeError(`${x.columns} columns, model has ${model.features}`);
  const scores = new Float64Array(model.classes);
  return Array.from({ length: x.rows }, (_, r) => {
    rowScores(x, r, model.weights, model.intercept, model.classes, scores);
    return Float32Array.from(scores);
  });
}

/** Softmax of the class scores, computed in float64 and stored as float32. */
export function predictProba(model: LogregModel, x: Csr): Float32Array[] {
  const scores = new Float64Array(model.classes);
  return Array.from({ length: x.rows }, (_, r) => {
    rowScores(x, r, model.weights, model.intercept, model.classes, scores);
    const lse = logSumExp(scores);
    return Float32Array.from(scores, (z) => Math.exp(z - lse));
  });
}

/**
 * Mean cross-entropy + l2/2·||W||² and its gradient. params = [W (features × classes), b (classes)].
 * One pass over the rows: scores, then the residual p - onehot(y) spread back over the row's features.
 */
export function lossAndGradient(
  x: Csr,
  labels: ArrayLike<number>,
  k: number,
  l2: number,
  params: Float64Array,
  gradient: Float64Array,
): number {
  const wEnd = x.columns * k;
  const weights = params.subarray(0, wEnd);
  const intercept = params.subarray(wEnd);
  gradient.fill(0);
  const scores = new Float64Array(k);
  const inverseN = 1 / x.rows;
  let loss = 0;
  for (let r = 0; r < x.rows; r++) {
    rowScores(x, r, weights, intercept, k, scores);
    const lse = logSumExp(scores);
    const y = labels[r] ?? 0;
    loss += lse - (scores[y] ?? 0);
    for (let c = 0; c < k; c++) scores[c] = (Math.exp((scores[c] ?? 0) - lse) - (c === y ? 1 : 0)) * inverseN;
    for (let p = x.indptr[r] ?? 0, end = x.indptr[r + 1] ?? 0; p < end; p++) {
      const base = (x.indices[p] ?? 0) * k;
      const v = x.values[p] ?? 0;
      for (let c = 0; c < k; c++) gradient[base + c] = (gradient[base + c] ?? 0) + v * (scores[c] ?? 0);
    }
    for (let c = 0; c < k; c++) gradient[wEnd + c] = (gradient[wEnd + c] ?? 0) + (scores[c] ?? 0);
  }
  let squares = 0;
  for (let i = 0; i < wEnd; i++) {
    const w = weights[i] ?? 0;
    squares += w * w;
    gradient[i] = (gradient[i] ?? 0) + l2 * w;
  }
  return loss * inverseN + 0.5 * l2 * squares;
}

function rowScores(
  x: Csr,
  r: number,
  weights: Float64Array,
  intercept: Float64Array,
  k: number,
  out: Float64Array,
): void {
  out.set(intercept);
  for (let p = x.indptr[r] ?? 0, end = x.indptr[r + 1] ?? 0; p < end; p++) {
    const base = (x.indices[p] ?? 0) * k;
    const v = x.values[p] ?? 0;
    for (let c = 0; c < k; c++) out[c] = (out[c] ?? 0) + v * (weights[base + c] ?? 0);
  }
}

function logSumExp(z: Float64Array): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of z) max = Math.max(max, v);
  let total = 0;
  for (const v of z) total += Math.exp(v - max);
  return max + Math.log(total);
}

function unpack(params: Float64Array, features: number, classes: number): LogregModel {
  const end = features * classes;
  return { classes, features, weights: params.slice(0, end), intercept: params.slice(end) };
}
