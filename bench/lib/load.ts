/**
 * A closed-loop load generator: `concurrency` clients each send their next request as soon as the
 * previous one answered, until `requests` have been sent. The first failure stops every client.
 */

export interface LoadOptions {
  requests: number;
  concurrency: number;
}

export interface LoadResult {
  requests: number;
  concurrency: number;
  /** Per request, from send to complete answer, in completion order. */
  latenciesMs: number[];
  elapsedMs: number;
  requestsPerSec: number;
}

export async function closedLoop(
  send: (index: number) => Promise<void>,
  options: LoadOptions,
): Promise<LoadResult> {
  const { requests, concurrency } = options;
  if (!Number.isInteger(requests) || requests < 1) {
    throw new RangeError(`closedLoop: requests must be a positive integer, got ${requests}`);
  }
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`closedLoop: concurrency must be a positive integer, got ${concurrency}`);
  }
  const latenciesMs: number[] = [];
  let next = 0;
  let failed = false;
  const client = async (): Promise<void> => {
    while (!failed && next < requests) {
      const index = next++;
      const start = performance.now();
      try {
        await send(index);
      } catch (error) {
        failed = true;
        throw error;
      }
      latenciesMs.push(performance.now() - start);
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, requests) }, client));
  const elapsedMs = performance.now() - start;
  return { requests, concurrency, latenciesMs, elapsedMs, requestsPerSec: (requests * 1000) / elapsedMs };
}
