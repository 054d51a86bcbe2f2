import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UnavailableError } from '../../src/errors.ts';
import { invalidReviews, modelUnavailable, type Problem } from '../../src/function/http/problems.ts';
import { healthResponse, problemResponse } from '../../src/function/http/responses.ts';
import type { ModelStatus } from '../../src/function/service.ts';

const LIMITS = { maxReviews: 100, maxReviewChars: 10_000, maxBodyBytes: 1_100_000 };

describe('problemResponse', () => {
  test('a 422 lists its field errors, with the request id as instance', () => {
    const error = invalidReviews([{ pointer: '/reviews/3', detail: 'review is empty' }]);
    const response = problemResponse(error, 'req-1');
    assert.equal(response.statusCode, 422);
    assert.equal(response.headers['content-type'], 'application/problem+json');
    assert.deepEqual(JSON.parse(response.body), {
      type: 'tag:review-sentiment,2026:problems/invalid-reviews',
      title: 'Invalid reviews',
      status: 422,
      detail: 'the request body has 1 problem; see errors',
      instance: 'req-1',
      errors: [{ pointer: '/reviews/3', detail: 'review is empty' }],
    });
  });

  test('a 503 carries Retry-After but not its cause', () => {
    const cause = new Error('s3://secret-bucket/models: AccessDenied');
    const problem = modelUnavailable(7);
    const response = problemResponse(
      new UnavailableError(`cannot load the model: ${cause.message}`, { cause, problem }),
      'req-2',
    );
    assert.equal(response.statusCode, 503);
    assert.equal(response.headers['retry-after'], '7');
    assert.ok(!response.body.includes('secret-bucket'));
  });

  test('anything else is a generic 500 without message or stack', () => {
    const error = new TypeError('Cannot read properties of undefined (reading "weights")');
    const response = problemResponse(error, 'req-3');
    const body = JSON.parse(response.body) as Problem;
    assert.equal(response.statusCode, 500);
    assert.equal(body.type, 'about:blank');
    assert.equal(body.instance, 'req-3');
    assert.ok(!response.body.includes('weights'));
    assert.ok(!response.body.includes('TypeError'));
  });
});

describe('healthResponse', () => {
  const ready: ModelStatus = {
    state: 'ready',
    modelUri: 's3://bucket/models/',
    runtime: 'tfjs',
    backend: 'wasm',
    model: { name: 'review-sentiment', version: '20261121T210000Z-3f2a9c1b' },
  };

  test('ready: 200 with model, backend and the published limits; never the model location', () => {
    const response = healthResponse(ready, LIMITS);
    assert.equal(response.statusCode, 200);
    assert.deepEqual(JSON.parse(response.body), {
      status: 'ready',
      loaded: true,
      model: ready.model,
      runtime: 'tfjs',
      backend: 'wasm',
      limits: LIMITS,
    });
    assert.ok(!response.body.includes('bucket'));
  });

  test('idle and loading: 200, not loaded', () => {
    for (const state of ['idle', 'loading'] as const) {
      const response = healthResponse({ state, modelUri: '/m' }, LIMITS);
      assert.equal(response.statusCode, 200);
      assert.equal(JSON.parse(response.body).loaded, false);
    }
  });

  test('failed: 503 with Retry-After (the back-off left, at least 1 s); the error text stays in the logs', () => {
    const failed: ModelStatus = { state: 'failed', modelUri: '/m', error: 'ENOENT /m/latest' };
    const response = healthResponse({ ...failed, retryAfterSeconds: 4 }, LIMITS);
    assert.equal(response.statusCode, 503);
    assert.equal(response.headers['retry-after'], '4');
    assert.equal(healthResponse({ ...failed, retryAfterSeconds: 0 }, LIMITS).headers['retry-after'], '1');
    assert.equal(JSON.parse(response.body).status, 'failed');
    assert.ok(!response.body.includes('ENOENT'));
  });
});
