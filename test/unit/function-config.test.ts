import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { BadRequestError } from '../../src/errors.ts';
import {
  DEFAULT_FEEDBACK_URI,
  DEFAULT_MODEL_URI,
  defaultMaxBodyBytes,
  loadConfig,
} from '../../src/function/config.ts';

describe('loadConfig', () => {
  test('defaults: the repo bundle folder, published limits, auto backend, INFO, no review text', () => {
    assert.deepEqual(loadConfig({}), {
      modelUri: DEFAULT_MODEL_URI,
      feedbackUri: DEFAULT_FEEDBACK_URI,
      limits: { maxReviews: 100, maxReviewChars: 10_000, maxBodyBytes: 1_100_000 },
      backend: 'auto',
      logLevel: 'INFO',
      logReviewText: false,
    });
    assert.equal(DEFAULT_MODEL_URI, join(import.meta.dirname, '..', '..', 'models', 'review-sentiment'));
    assert.ok(
      existsSync(join(DEFAULT_MODEL_URI, '..', '..', 'package.json')),
      'resolved from the package root',
    );
  });

  test('every variable is read', () => {
    const config = loadConfig({
      MODEL_URI: 's3://bucket/models/review-sentiment/',
      MAX_REVIEWS: '5',
      MAX_REVIEW_CHARS: '200',
      MAX_BODY_BYTES: '4096',
      TFJS_BACKEND: 'wasm',
      LOG_LEVEL: 'debug',
      LOG_REVIEW_TEXT: 'true',
      FEEDBACK_URI: 's3://bucket/feedback/',
    });
    assert.deepEqual(config, {
      modelUri: 's3://bucket/models/review-sentiment/',
      feedbackUri: 's3://bucket/feedback/',
      limits: { maxReviews: 5, maxReviewChars: 200, maxBodyBytes: 4096 },
      backend: 'wasm',
      logLevel: 'DEBUG',
      logReviewText: true,
    });
  });

  test('feedback: runs/feedback locally, off in Lambda unless set, "none" turns it off', () => {
    assert.equal(DEFAULT_FEEDBACK_URI, join(import.meta.dirname, '..', '..', 'runs', 'feedback'));
    const lambda = { AWS_LAMBDA_FUNCTION_NAME: 'fn', MODEL_URI: 's3://b/m/' };
    assert.equal(loadConfig(lambda).feedbackUri, null);
    assert.equal(loadConfig({ ...lambda, FEEDBACK_URI: 's3://b/f/' }).feedbackUri, 's3://b/f/');
    assert.equal(loadConfig({ FEEDBACK_URI: 'none' }).feedbackUri, null);
  });

  test('the body limit follows the other limits unless set', () => {
    const config = loadConfig({ MAX_REVIEWS: '10', MAX_REVIEW_CHARS: '1000' });
    assert.equal(config.limits.maxBodyBytes, defaultMaxBodyBytes(10, 1000));
    assert.equal(defaultMaxBodyBytes(10, 1000), 11_000);
  });

  test('empty values mean "use the default"', () => {
    assert.deepEqual(loadConfig({ MAX_REVIEWS: '', LOG_LEVEL: ' ', TFJS_BACKEND: '' }), loadConfig({}));
  });

  test('bad values fail naming the variable', () => {
    const cases: Record<string, string> = {
      MAX_REVIEWS: '0',
      MAX_REVIEW_CHARS: '1e4',
      MAX_BODY_BYTES: '-5',
      TFJS_BACKEND: 'gpu',
      LOG_LEVEL: 'verbose',
      LOG_REVIEW_TEXT: 'yes',
    };
    for (const [name, value] of Object.entries(cases)) {
      assert.throws(
        () => loadConfig({ [name]: value }),
        (error: unknown) => error instanceof BadRequestError && error.message.startsWith(`${name} `),
        name,
      );
    }
    assert.throws(
      () => loadConfig({ MAX_REVIEWS: '99999999999999999999' }),
      /MAX_REVIEWS must be a positive integer/,
    );
  });

  test('in Lambda MODEL_URI is required', () => {
    assert.throws(
      () => loadConfig({ AWS_LAMBDA_FUNCTION_NAME: 'fn' }),
      /^BadRequestError: MODEL_URI is not set/,
    );
    assert.equal(
      loadConfig({ AWS_LAMBDA_FUNCTION_NAME: 'fn', MODEL_URI: 's3://b/p/' }).modelUri,
      's3://b/p/',
    );
  });
});
