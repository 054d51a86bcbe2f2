/**
 * Repeats an operation and records each run's wall time. Warm-up runs come first and are not recorded
 * (JIT, kernel compilation, caches); per-run setup is excluded from the timed span.
 */

export interface TimingOptions<T> {
  run: (input: T) => unknown;
  /** Builds the input of one run outside the timed span (e.g. a fresh copy of a request). */
  setup?: () => T;
  warmup: number;
  iterations: number;
  /** Stops early once the recorded runs took this long in total... */
  budgetMs?: number;
  /** ...but never before this many runs. Default 5. */
  minIterations?: number;
}

function checkCount(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`timeIterations: ${name} must be an integer >= ${min}, got ${value}`);
  }
}

/** Millisecond samples, one per recorded run, in run order. A promise result is awaited inside the span. */
export async function timeIterations<T = undefined>(options: TimingOptions<T>): Promise<number[]> {
  const { run, setup, warmup, iterations, budgetMs = Number.POSITIVE_INFINITY } = options;
  const minIterations = Math.min(options.minIterations ?? 5, iterations);
  checkCount('warmup', warmup, 0);
  checkCount('iterations', iterations, 1);
  const once = async (): Promise<number> => {
    const input = setup ? setup() : (undefined as T);
    const start = performance.now();
    const result = run(input);
    if (result instanceof Promise) await result;
    return performance.now() - start;
  };
  for (let i = 0; i < warmup; i++) await once();
  const samples: number[] = [];
  let total = 0;
  while (samples.length < iterations && (samples.length < minIterations || total < budgetMs)) {
    const ms = await once();
    samples.push(ms);
    total += ms;
  }
  return samples;
}
