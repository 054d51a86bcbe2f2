import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { BadRequestError } from '../../src/errors.ts';
import {
  BUNDLED_MODELS,
  DEFAULT_FEEDBACK_URI,
  DEFAULT_MODEL_URI,
  DEFAULT_RANKINGS_URI,
  defaultMaxBodyBytes,
  loadConfig,
} from '../../src/function/config.ts';

describe('loadConfig', () => {
  test('defaults: the bundled models, published limits, auto backend, INFO, no review text', () => {
    const models = join(import.meta.dirname, '..', '..', 'models');
    assert.deepEqual(loadConfig({}), {
      modelUri: DEFAULT_MODEL_URI,
      models: [
        { name: 'review-sentiment', uri: join(models, 'review-sentiment') },
        { name: 'emotion', uri: join(models, 'emotion') },
      ],
      defaultModel: 'review-sentiment',
      metricsNamespace: 'ReviewSentiment',
      feedbackUri: DEFAULT_FEEDBACK_URI,
      limits: { maxReviews: 100, maxReviewChars: 20_000, maxBodyBytes: 2_200_000 },
      runtime: 'auto',
      backend: 'auto',
      logLevel: 'INFO',
      logReviewText: false,
      corsAllowOrigins: [],
      rankingsUri: DEFAULT_RANKINGS_URI,
    });
    assert.equal(DEFAULT_RANKINGS_URI, join(import.meta.dirname, '..', '..', 'runs', 'rankings'));
    assert.equal(DEFAULT_MODEL_URI, join(models, 'review-sentiment'));
    assert.ok(
      existsSync(join(DEFAULT_MODEL_URI, '..', '..', 'package.json')),
      'resolved from the package root',
    );
    for (const { name, uri } of BUNDLED_MODELS) {
      assert.ok(existsSync(join(uri, 'latest')), `${name}: a bundle root with a latest pointer in models/`);
    }
  });

  test('unconfigured, DEFAULT_MODEL picks one of the bundled models, and only one of them', () => {
    const emotion = loadConfig({ DEFAULT_MODEL: 'emotion' });
    assert.equal(emotion.defaultModel, 'emotion');
    assert.equal(emotion.modelUri, BUNDLED_MODELS[1].uri);
    assert.deepEqual(emotion.models, loadConfig({}).models);
    assert.throws(
      () => loadConfig({ DEFAULT_MODEL: 'stars' }),
      /^BadRequestError: DEFAULT_MODEL "stars" is not in the bundled models \(review-sentiment, emotion\)/,
    );
  });

  test('every variable is read', () => {
    const config = loadConfig({
      MODEL_URI: 's3://bucket/models/review-sentiment/',
      MAX_REVIEWS: '5',
      MAX_REVIEW_CHARS: '200',
      MAX_BODY_BYTES: '4096',
      TFJS_BACKEND: 'wasm',
      RUNTIME: 'tfjs',
      LOG_LEVEL: 'debug',
      LOG_REVIEW_TEXT: 'true',
      CORS_ALLOW_ORIGINS: 'https://shop.example.com, http://localhost:5173,https://*.example.org',
      RANKINGS_URI: 's3://bucket/rankings/',
      DEFAULT_MODEL: 'stars',
      METRICS_NAMESPACE: 'Team/Reviews',
      FEEDBACK_URI: 's3://bucket/feedback/',
    });
    assert.deepEqual(config, {
      modelUri: 's3://bucket/models/review-sentiment/',
      models: [{ name: 'stars', uri: 's3://bucket/models/review-sentiment/' }],
      defaultModel: 'stars',
      metricsNamespace: 'Team/Reviews',
      feedbackUri: 's3://bucket/feedback/',
      limits: { maxReviews: 5, maxReviewChars: 200, maxBodyBytes: 4096 },
      runtime: 'tfjs',
      backend: 'wasm',
      logLevel: 'DEBUG',
      logReviewText: true,
      corsAllowOrigins: ['https://shop.example.com', 'http://localhost:5173', 'https://*.example.org'],
      rankingsUri: 's3://bucket/rankings/',
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
      RUNTIME: 'torch',
      LOG_LEVEL: 'verbose',
      LOG_REVIEW_TEXT: 'yes',
      CORS_ALLOW_ORIGINS: 'https://shop.example.com/',
      RANKINGS_URI: 'gs://bucket/rankings/',
      METRICS_NAMESPACE: 'AWS/Lambda',
      DEFAULT_MODEL: 'Stars',
      MODELS: 'Review=s3://b/p/',
    };
    for (const [name, value] of Object.entries(cases)) {
      assert.throws(
        () => loadConfig({ [name]: value }),
        (error: unknown) => error instanceof BadRequestError && error.message.startsWith(`${name} `),
        name,
      );
    }
    for (const origins of ['shop.example.com', 'https://a.example, ftp://b.example', '*/']) {
      assert.throws(
        () => loadConfig({ CORS_ALLOW_ORIGINS: origins }),
        /^BadRequestError: CORS_ALLOW_ORIGINS /,
      );
    }
    assert.deepEqual(loadConfig({ CORS_ALLOW_ORIGINS: '*' }).corsAllowOrigins, ['*']);
    assert.throws(
      () => loadConfig({ MAX_REVIEWS: '99999999999999999999' }),
      /MAX_REVIEWS must be a positive integer/,
    );
  });

  test('in Lambda RANKINGS_URI has no default: unset means no rankings (GET /rankings/* answer 404)', () => {
    const lambda = { AWS_LAMBDA_FUNCTION_NAME: 'fn', MODEL_URI: 's3://bucket/m/' };
    assert.equal(loadConfig(lambda).rankingsUri, null);
    assert.equal(loadConfig({ ...lambda, RANKINGS_URI: 's3://bucket/r/' }).rankingsUri, 's3://bucket/r/');
  });

  test('MODELS: several bundles by name; the first is the default unless DEFAULT_MODEL says otherwise', () => {
    const models = 'review-sentiment=s3://b/models/review-sentiment/, emotion=/opt/models/emotion,';
    const config = loadConfig({ MODELS: models, AWS_LAMBDA_FUNCTION_NAME: 'fn' });
    assert.deepEqual(config.models, [
      { name: 'review-sentiment', uri: 's3://b/models/review-sentiment/' },
      { name: 'emotion', uri: '/opt/models/emotion' },
    ]);
    assert.equal(config.defaultModel, 'review-sentiment');
    assert.equal(config.modelUri, 's3://b/models/review-sentiment/');
    const emotion = loadConfig({ MODELS: models, DEFAULT_MODEL: 'emotion' });
    assert.equal(emotion.defaultModel, 'emotion');
    assert.equal(emotion.modelUri, '/opt/models/emotion');
  });

  test('MODELS refuses duplicates, bad names, bad entries, an unknown default, and MODEL_URI beside it', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ MODELS: 'a=s3://b/a/,a=s3://b/other/' }, /^MODELS names "a" twice/],
      [{ MODELS: 'Emotion=s3://b/e/' }, /^MODELS has an invalid model name "Emotion": use lower-case/],
      [{ MODELS: 'emo_tion=s3://b/e/' }, /^MODELS has an invalid model name "emo_tion"/],
      [{ MODELS: '-emotion=s3://b/e/' }, /^MODELS has an invalid model name "-emotion"/],
      [{ MODELS: 's3://b/e/' }, /^MODELS entries are name=uri/],
      [{ MODELS: 'emotion=' }, /^MODELS entries are name=uri/],
      [{ MODELS: ' , ' }, /^MODELS is set but lists no model/],
      [{ MODELS: 'a=s3://b/a/', DEFAULT_MODEL: 'b' }, /^DEFAULT_MODEL "b" is not in MODELS \(a\)/],
      [{ MODELS: 'a=s3://b/a/', MODEL_URI: 's3://b/a/' }, /^MODELS and MODEL_URI are both set/],
    ];
    for (const [env, message] of cases) {
      assert.throws(
        () => loadConfig(env),
        (error: unknown) => error instanceof BadRequestError && message.test(error.message),
        JSON.stringify(env),
      );
    }
  });

  test('MODEL_URI alone serves one model named after its folder (or DEFAULT_MODEL)', () => {
    const named = (uri: string) => loadConfig({ MODEL_URI: uri }).defaultModel;
    assert.equal(named('s3://bucket/models/review-sentiment/'), 'review-sentiment');
    assert.equal(named('s3://bucket/models/review-sentiment/20261121T224246Z-43eb3d8f/'), 'review-sentiment');
    assert.equal(named('file:///opt/Models/Emotion_v2'), 'emotion-v2');
    assert.equal(named('s3://___/'), 'default');
    assert.equal(loadConfig({ MODEL_URI: 's3://b/m/', DEFAULT_MODEL: 'stars' }).defaultModel, 'stars');
  });

  test('in Lambda MODEL_URI (or MODELS) is required: the bundled models are no default there', () => {
    for (const env of [{}, { DEFAULT_MODEL: 'emotion' }]) {
      assert.throws(
        () => loadConfig({ AWS_LAMBDA_FUNCTION_NAME: 'fn', ...env }),
        /^BadRequestError: MODEL_URI is not set/,
      );
    }
    assert.equal(
      loadConfig({ AWS_LAMBDA_FUNCTION_NAME: 'fn', MODEL_URI: 's3://b/p/' }).modelUri,
      's3://b/p/',
    );
  });
});
