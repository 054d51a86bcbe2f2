import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backoffDelay, createBackoff, retryAfterSeconds } from '../../src/function/backoff.ts';

describe('back-off of failed model loads', () => {
  test('1 s doubling to a 60 s cap', () => {
    const delays = Array.from({ length: 9 }, (_, i) => backoffDelay(i + 1, () => 0));
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000]);
  });

  test('jitter shortens a delay by up to 20%, never lengthens it past the cap', () => {
    assert.equal(
      backoffDelay(1, () => 0.5),
      900,
    );
    assert.equal(
      backoffDelay(3, () => 0.999),
      3201,
    );
    for (let failures = 1; failures < 12; failures++) {
      for (const r of [0, 0.25, 0.5, 0.75, 0.9999]) {
        const delay = backoffDelay(failures, () => r);
        assert.ok(delay <= 60_000 && delay >= 0.8 * Math.min(60_000, 1000 * 2 ** (failures - 1)));
      }
    }
  });

  test('remaining time follows the clock; a success starts over from 1 s', () => {
    let now = 10_000;
    const backoff = createBackoff(
      () => now,
      () => 0,
    );
    assert.equal(backoff.remainingMs(), 0, 'nothing failed yet');
    assert.equal(backoff.fail(), 1000);
    now += 250;
    assert.equal(backoff.remainingMs(), 750);
    assert.equal(backoff.fail(), 2000);
    assert.equal(backoff.remainingMs(), 2000);
    backoff.reset();
    assert.equal(backoff.remainingMs(), 0);
    assert.equal(backoff.fail(), 1000);
  });

  test('Retry-After rounds up to whole seconds, at least 1', () => {
    assert.deepEqual([1, 999, 1000, 1001, 0, 59_001].map(retryAfterSeconds), [1, 1, 1, 2, 1, 60]);
  });
});
