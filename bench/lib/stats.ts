/**
 * Percentiles and summaries of timing samples. Percentiles interpolate linearly between the closest
 * ranks (numpy's default, Hyndman-Fan type 7), so p50 of an even count is the mean of the middle two.
 */

export function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function checkedSamples(values: readonly number[], what: string): number[] {
  if (values.length === 0) throw new RangeError(`${what}: no samples`);
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad !== -1)
    throw new RangeError(`${what}: sample ${bad} is ${String(values[bad])}, not a finite number`);
  return [...values].sort((a, b) => a - b);
}

function percentileOfSorted(sorted: readonly number[], p: number): number {
  const rank = (p / 100) * (sorted.length - 1);
  const below = Math.floor(rank);
  const low = sorted[below] ?? Number.NaN;
  const high = sorted[Math.min(below + 1, sorted.length - 1)] ?? low;
  return low + (high - low) * (rank - below);
}

/** The p-th percentile (0-100) of the samples. */
export function percentile(values: readonly number[], p: number): number {
  if (!Number.isFinite(p) || p < 0 || p > 100) throw new RangeError(`percentile: p must be 0-100, got ${p}`);
  return percentileOfSorted(checkedSamples(values, 'percentile'), p);
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export interface Summary {
  n: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  minMs: number;
  maxMs: number;
}

/** Latency summary of millisecond samples, rounded to `digits` decimals for printing. */
export function summarize(samplesMs: readonly number[], digits = 3): Summary {
  const sorted = checkedSamples(samplesMs, 'summarize');
  const mean = sorted.reduce((sum, v) => sum + v, 0) / sorted.length;
  return {
    n: sorted.length,
    p50Ms: round(percentileOfSorted(sorted, 50), digits),
    p99Ms: round(percentileOfSorted(sorted, 99), digits),
    meanMs: round(mean, digits),
    minMs: round(sorted[0] ?? Number.NaN, digits),
    maxMs: round(sorted.at(-1) ?? Number.NaN, digits),
  };
}

/** How many times faster `measured` is than `reference` (both durations); 2 means twice as fast. */
export function speedup(referenceMs: number, measuredMs: number, digits = 2): number {
  if (!(referenceMs > 0) || !(measuredMs > 0)) {
    throw new RangeError(`speedup: durations must be positive, got ${referenceMs} and ${measuredMs}`);
  }
  return round(referenceMs / measuredMs, digits);
}
