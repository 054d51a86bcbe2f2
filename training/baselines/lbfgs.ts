/**
 * Limited-memory BFGS (Nocedal & Wright, Numerical Optimization, algorithms 7.4 and 3.5/3.6) for smooth
 * unconstrained problems. scikit-learn's `lbfgs` solver is scipy's L-BFGS-B with no bounds, memory 10 and
 * stops when the largest gradient component is at most `gtol`; the same rule here lets a strictly convex
 * objective reach the same optimum.
 */

/** Writes the gradient at `x` into `gradient` and returns the objective's value. */
export type Objective = (x: Float64Array, gradient: Float64Array) => number;

export interface LbfgsOptions {
  /** Correction pairs kept (scipy's maxcor). */
  memory: number;
  maxIterations: number;
  /** Stop when max |gradient_i| <= this (scipy's gtol; sklearn passes its `tol`). */
  gradientTolerance: number;
  /** Stop when the relative decrease of the value is at most this (scipy's ftol; sklearn: 64 ε). */
  valueTolerance: number;
  /** Objective evaluations allowed per line search (scipy's maxls, as sklearn sets it). */
  maxLineSearch: number;
}

export const LBFGS_DEFAULTS: LbfgsOptions = Object.freeze({
  memory: 10,
  maxIterations: 1000,
  gradientTolerance: 1e-4,
  valueTolerance: 64 * Number.EPSILON,
  maxLineSearch: 50,
});

export interface LbfgsResult {
  x: Float64Array;
  value: number;
  /** max |gradient_i| at x. */
  gradientMax: number;
  iterations: number;
  evaluations: number;
  converged: boolean;
  reason: 'gradient' | 'value' | 'max-iterations' | 'line-search';
}

export function minimizeLbfgs(
  f: Objective,
  x0: Float64Array,
  options: Partial<LbfgsOptions> = {},
): LbfgsResult {
  const o = { ...LBFGS_DEFAULTS, ...options };
  const n = x0.length;
  const state = new LbfgsState(n, o.memory);
  const x = Float64Array.from(x0);
  const g = new Float64Array(n);
  const direction = new Float64Array(n);
  const trial = { x: new Float64Array(n), g: new Float64Array(n) };
  let value = f(x, g);
  let evaluations = 1;
  let iterations = 0;
  let reason: LbfgsResult['reason'] = 'max-iterations';
  while (true) {
    if (maxAbs(g) <= o.gradientTolerance) {
      reason = 'gradient';
      break;
    }
    if (iterations >= o.maxIterations) break;
    state.direction(g, direction);
    let slope = dot(g, direction);
    if (!(slope < 0)) {
      // Not a descent direction (rounding): forget the curvature pairs and go downhill.
      state.reset();
      for (let i = 0; i < n; i++) direction[i] = -(g[i] ?? 0);
      slope = dot(g, direction);
    }
    const first = iterations === 0 ? 1 / Math.sqrt(dot(direction, direction)) : 1;
    const search = lineSearch(f, x, value, slope, direction, first, trial, o.maxLineSearch);
    evaluations += search.evaluations;
    if (search.step === 0) {
      reason = 'line-search';
      break;
    }
    state.push(x, g, trial.x, trial.g);
    const previous = value;
    x.set(trial.x);
    g.set(trial.g);
    value = search.value;
    iterations++;
    if ((previous - value) / Math.max(Math.abs(previous), Math.abs(value), 1) <= o.valueTolerance) {
      reason = 'value';
      break;
    }
  }
  return {
    x,
    value,
    gradientMax: maxAbs(g),
    iterations,
    evaluations,
    converged: reason !== 'max-iterations' && reason !== 'line-search',
    reason,
  };
}

/** The last `memory` pairs s = Δx, y = Δgradient, in a ring, and the two-loop recursion over them. */
class LbfgsState {
  readonly #s: Float64Array[] = [];
  readonly #y: Float64Array[] = [];
  readonly #rho: number[] = [];
  readonly #alpha: Float64Array;
  readonly #memory: number;
  readonly #n: number;
  #count = 0;
  #next = 0;

  constructor(n: number, memory: number) {
    this.#n = n;
    this.#memory = memory;
    this.#alpha = new Float64Array(memory);
  }

  reset(): void {
    this.#count = 0;
    this.#next = 0;
  }

  push(x: Float64Array, g: Float64Array, xNew: Float64Array, gNew: Float64Array): void {
    const slot = this.#next;
    this.#s[slot] ??= new Float64Array(this.#n);
    this.#y[slot] ??= new Float64Array(this.#n);
    const s = this.#s[slot];
    const y = this.#y[slot];
    for (let i = 0; i < this.#n; i++) {
      s[i] = (xNew[i] ?? 0) - (x[i] ?? 0);
      y[i] = (gNew[i] ?? 0) - (g[i] ?? 0);
    }
    const sy = dot(s, y);
    // Skip a pair without positive curvature: it would make the inverse Hessian indefinite.
    if (!(sy > 1e-10 * Math.sqrt(dot(s, s) * dot(y, y)))) return;
    this.#rho[slot] = 1 / sy;
    this.#next = (slot + 1) % this.#memory;
    this.#count = Math.min(this.#count + 1, this.#memory);
  }

  /** direction = -H·g, H the implicit inverse Hessian scaled by s·y / y·y of the newest pair. */
  direction(g: Float64Array, out: Float64Array): void {
    const n = this.#n;
    for (let i = 0; i < n; i++) out[i] = -(g[i] ?? 0);
    const slots = Array.from(
      { length: this.#count },
      (_, k) => (this.#next - 1 - k + this.#memory) % this.#memory,
    );
    for (const [k, slot] of slots.entries()) {
      const s = this.#s[slot] as Float64Array;
      const a = (this.#rho[slot] ?? 0) * dot(s, out);
      this.#alpha[k] = a;
      axpy(-a, this.#y[slot] as Float64Array, out);
    }
    const newest = slots[0];
    if (newest !== undefined) {
      const y = this.#y[newest] as Float64Array;
      scale(out, 1 / ((this.#rho[newest] ?? 1) * dot(y, y)));
    }
    for (let k = slots.length - 1; k >= 0; k--) {
      const slot = slots[k] ?? 0;
      const b = (this.#rho[slot] ?? 0) * dot(this.#y[slot] as Float64Array, out);
      axpy((this.#alpha[k] ?? 0) - b, this.#s[slot] as Float64Array, out);
    }
  }
}

interface Trial {
  x: Float64Array;
  g: Float64Array;
}

/**
 * Strong Wolfe line search (c1 = 1e-4, c2 = 0.9): bracket a step, then zoom with safeguarded quadratic
 * interpolation. On success `trial` holds the accepted point and its gradient; step 0 means no decrease.
 */
function lineSearch(
  f: Objective,
  x: Float64Array,
  value: number,
  slope: number,
  direction: Float64Array,
  firstStep: number,
  trial: Trial,
  maxEvaluations: number,
): { step: number; value: number; evaluations: number } {
  const c1 = 1e-4;
  const c2 = 0.9;
  let evaluations = 0;
  const at = (step: number): { value: number; slope: number } => {
    for (let i = 0; i < x.length; i++) trial.x[i] = (x[i] ?? 0) + step * (direction[i] ?? 0);
    evaluations++;
    const v = f(trial.x, trial.g);
    return { value: v, slope: dot(trial.g, direction) };
  };
  let lo = { step: 0, value, slope };
  let hi: { step: number; value: number; slope: number } | null = null;
  let step = firstStep;
  while (evaluations < maxEvaluations) {
    const point = at(step);
    const sufficient = point.value <= value + c1 * step * slope && Number.isFinite(point.value);
    if (sufficient && Math.abs(point.slope) <= -c2 * slope) return { step, value: point.value, evaluations };
    // Moving on from lo towards hi (or outwards while unbracketed) would go uphill: lo becomes hi.
    const uphill = hi === null ? point.slope >= 0 : point.slope * (hi.step - lo.step) >= 0;
    if (!sufficient || point.value >= lo.value) hi = { step, ...point };
    else if (uphill) {
      hi = lo;
      lo = { step, ...point };
    } else lo = { step, ...point };
    step = hi === null ? step * 2 : interpolate(lo, hi);
  }
  // Out of evaluations: keep the best sufficient-decrease point found, if any.
  if (lo.step === 0) return { step: 0, value, evaluations };
  const last = at(lo.step);
  return { step: lo.step, value: last.value, evaluations };
}

/** Minimiser of the quadratic through lo's value and slope and hi's value, kept inside the bracket's middle 80 %. */
function interpolate(
  lo: { step: number; value: number; slope: number },
  hi: { step: number; value: number; slope: number },
): number {
  const d = hi.step - lo.step;
  const curvature = hi.value - lo.value - lo.slope * d;
  const candidate = curvature > 0 ? lo.step - (lo.slope * d * d) / (2 * curvature) : Number.NaN;
  const a = Math.min(lo.step, hi.step);
  const b = Math.max(lo.step, hi.step);
  const margin = 0.1 * (b - a);
  if (Number.isFinite(candidate) && candidate > a + margin && candidate < b - margin) return candidate;
  return (lo.step + hi.step) / 2;
}

function dot(a: Float64Array, b: Float64Array): number {
  let total = 0;
  for (let i = 0; i < a.length; i++) total += (a[i] ?? 0) * (b[i] ?? 0);
  return total;
}

function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i] = (y[i] ?? 0) + a * (x[i] ?? 0);
}

function scale(x: Float64Array, a: number): void {
  for (let i = 0; i < x.length; i++) x[i] = (x[i] ?? 0) * a;
}

function maxAbs(x: Float64Array): number {
  let best = 0;
  for (const v of x) best = Math.max(best, Math.abs(v));
  return best;
}
