/**
 * When a failed model load may be tried again. Without it every request (and every health probe) would
 * re-download the bundle while S3 or the bundle is broken; with it the environment retries after 1 s,
 * 2 s, 4 s … up to 60 s, each delay shortened by up to 20% at random so that many environments that
 * failed together do not retry together.
 */

export const BACKOFF_INITIAL_MS = 1000;
export const BACKOFF_MAX_MS = 60_000;
/** Each delay is shortened by up to this fraction: jitter that never exceeds the cap. */
export const BACKOFF_JITTER = 0.2;

/** Milliseconds since an arbitrary origin (Date.now by default); tests pass their own. */
export type Clock = () => number;
/** A number in [0, 1) (Math.random by default). */
export type Random = () => number;

export interface Backoff {
  /** Records a failure and returns the delay (ms) before the next attempt. */
  fail(): number;
  /** Records a success: the next failure starts from the initial delay again. */
  reset(): void;
  /** Milliseconds until a new attempt is allowed; 0 when it is (or nothing failed). */
  remainingMs(): number;
}

export function backoffDelay(failures: number, random: Random): number {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_INITIAL_MS * 2 ** Math.max(0, failures - 1));
  return Math.round(base * (1 - BACKOFF_JITTER * random()));
}

export function createBackoff(clock: Clock = Date.now, random: Random = Math.random): Backoff {
  let failures = 0;
  let retryAt = 0;
  return {
    fail: () => {
      failures += 1;
      const delay = backoffDelay(failures, random);
      retryAt = clock() + delay;
      return delay;
    },
    reset: () => {
      failures = 0;
      retryAt = 0;
    },
    remainingMs: () => Math.max(0, retryAt - clock()),
  };
}

/** Retry-After is whole seconds: round up, so a client never comes back before the back-off ends. */
export function retryAfterSeconds(remainingMs: number): number {
  return Math.max(1, Math.ceil(remainingMs / 1000));
}
