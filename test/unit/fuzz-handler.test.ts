/**
 * Property-based: the real handler (middy chain, real model service over a tiny real bundle) on
 * arbitrary bodies and arbitrary API Gateway events never answers 500, never throws, answers in time,
 * and every 200 carries one prediction per review, in input order, equal to scoring the reviews directly.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { type Config, loadConfig } from '../../src/function/config.ts';
import { createHandler, type Handler } from '../../src/function/handler.ts';
import type { ApiGatewayEvent } from '../../src/function/http/event.ts';
import type { HttpResponse } from '../../src/function/http/responses.ts';
import { createLogger } from '../../src/function/logger.ts';
import { fromServices } from '../../src/function/models.ts';
import { createModelService, type LoadedModel } from '../../src/function/service.ts';
import { createLocalContext } from '../../src/local/server.ts';
import { selectBackend } from '../../src/model/backend.ts';
import type { Review } from '../../src/text/review.ts';
import { anyText, FUZZ_SEED, fuzzParameters } from '../helpers/fuzz.ts';
import { makeTinyBundle, writeBundleDir } from '../helpers/tiny-bundle.ts';

/** Generous for a shared 2-core machine; a hang or a quadratic path takes far longer. */
const TIME_BOUND_MS = 2000;

let root: string;
let config: Config;
let handler: Handler;
let loaded: LoadedModel;

before(async () => {
  await selectBackend('cpu');
  root = await mkdtemp(join(tmpdir(), 'fuzz-handler-'));
  await writeBundleDir(join(root, 'ok'), (await makeTinyBundle()).files, 'v1', { latest: true });
  // Small limits so 413 and 422 are reachable by generated inputs.
  config = loadConfig({
    MODEL_URI: join(root, 'ok'),
    TFJS_BACKEND: 'cpu',
    MAX_REVIEWS: '6',
    MAX_REVIEW_CHARS: '80',
  });
  const service = createModelService({ modelUri: config.modelUri, backend: config.backend });
  loaded = await service.get();
  handler = createHandler({
    models: fromServices(new Map([['review-sentiment', service]]), 'review-sentiment'),
    config,
    logger: createLogger({ level: 'SILENT' }),
  });
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Invokes the handler and checks what holds for every answer; returns the response. */
async function invokeChecked(event: unknown): Promise<HttpResponse> {
  const started = performance.now();
  const response = await handler(event as ApiGatewayEvent, createLocalContext());
  const ms = performance.now() - started;
  assert.ok(ms < TIME_BOUND_MS, `answered in ${ms.toFixed(0)} ms`);
  assert.ok(Number.isInteger(response.statusCode), `status ${response.statusCode}`);
  assert.ok(
    response.statusCode >= 200 && response.statusCode < 500,
    `status ${response.statusCode}: ${response.body}`,
  );
  // Answers are JSON except the try-it page (HTML) and bodiless ones (204 preflights, HEAD).
  if (response.statusCode === 204) assert.equal(response.body, '');
  const type = response.headers['content-type'] ?? '';
  const body = /json/.test(type) ? (JSON.parse(response.body) as Record<string, unknown>) : {};
  if (response.statusCode >= 400) {
    assert.equal(response.headers['content-type'], 'application/problem+json');
    assert.equal(body.status, response.statusCode);
  }
  return response;
}

/** A 200 carries one prediction per review in input order: the scorer's answer for exactly those reviews. */
async function assertPredictions(
  response: HttpResponse,
  reviews: readonly (string | Review)[],
): Promise<void> {
  assert.equal(response.statusCode, 200, response.body);
  const { predictions } = JSON.parse(response.body) as { predictions: unknown[] };
  assert.equal(predictions.length, reviews.length);
  assert.deepEqual(predictions, await loaded.scorer.predict(reviews));
}

const v2 = (body: string | undefined, extra: Record<string, unknown> = {}) => ({
  version: '2.0',
  routeKey: '$default',
  rawPath: '/predictions',
  rawQueryString: '',
  headers: { 'content-type': 'application/json' },
  requestContext: { http: { method: 'POST', path: '/predictions' }, requestId: 'fuzz', stage: '$default' },
  isBase64Encoded: false,
  ...(body === undefined ? {} : { body }),
  ...extra,
});

const review: fc.Arbitrary<string | Review> = fc.oneof(
  anyText(100),
  fc.record({ text: anyText(100), title: fc.option(anyText(20), { nil: null }) }, { requiredKeys: ['text'] }),
);

const header = fc.oneof(
  fc.constantFrom('content-type', 'Content-Type', 'content-encoding', 'Content-Length', 'host', 'x-junk'),
  anyText(12),
);
const headerValue = fc.oneof(
  fc.constantFrom(
    'application/json',
    'text/plain',
    'application/json; charset=latin1',
    'gzip',
    'br',
    'identity',
  ),
  anyText(20),
);
const odd = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.integer(),
  fc.boolean(),
  fc.object(),
  anyText(20),
);
const method = fc.oneof(fc.constantFrom('POST', 'post', 'GET', 'DELETE', 'OPTIONS'), anyText(8));
const path = fc.oneof(
  fc.constantFrom('/predictions', '/predictions/', '/health', '/prod/predictions', '//', '', '/%ZZ'),
  anyText(30),
);

/** A body as an API Gateway event may carry it: reviews, other JSON, junk, gzip, base64 or not, or none. */
const body = fc.oneof(
  fc.array(review, { maxLength: 8 }).map((r) => ({ text: JSON.stringify(r), base64: false })),
  fc.jsonValue().map((v) => ({ text: JSON.stringify(v) ?? '', base64: false })),
  fc.tuple(anyText(60), fc.boolean()).map(([text, base64]) => ({ text, base64 })),
  fc.array(review, { maxLength: 8 }).map((r) => ({
    text: gzipSync(JSON.stringify(r)).toString('base64'),
    base64: true,
    encoding: 'gzip',
  })),
  fc
    .uint8Array({ maxLength: 64 })
    .map((bytes) => ({ text: Buffer.from(bytes).toString('base64'), base64: true })),
);

const v2Event = fc
  .record({
    version: fc.oneof(fc.constant('2.0'), odd),
    rawPath: fc.oneof(path, odd),
    method,
    stage: fc.oneof(fc.constantFrom('$default', 'prod'), odd),
    headers: fc.oneof(fc.dictionary(header, fc.oneof(headerValue, odd), { maxKeys: 4 }), odd),
    body,
    base64Flag: fc.oneof(fc.boolean(), odd),
    requestId: fc.oneof(anyText(10), odd),
  })
  .map((e) => ({
    version: e.version,
    rawPath: e.rawPath,
    headers: e.headers,
    requestContext: { http: { method: e.method }, stage: e.stage, requestId: e.requestId },
    body: e.body.text,
    isBase64Encoded: typeof e.base64Flag === 'boolean' ? e.base64Flag || e.body.base64 : e.base64Flag,
  }));

const v1Event = fc
  .record({
    httpMethod: fc.oneof(method, odd),
    path: fc.oneof(path, odd),
    headers: fc.oneof(fc.dictionary(header, fc.oneof(headerValue, odd), { maxKeys: 4 }), odd),
    multiValueHeaders: odd,
    body,
    requestContext: fc.oneof(fc.record({ requestId: fc.oneof(anyText(10), odd) }), odd),
  })
  .map(({ body: b, ...rest }) => ({ ...rest, body: b.text, isBase64Encoded: b.base64 }));

describe(`the handler on arbitrary input (fast-check, seed ${FUZZ_SEED})`, () => {
  test('arbitrary review lists (any code points): 200 in input order, or 422 for the invalid ones', async () => {
    let scored = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(review, { maxLength: 8 }), fc.boolean(), async (reviews, wrapped) => {
        const response = await invokeChecked(v2(JSON.stringify(wrapped ? { reviews } : reviews)));
        if (response.statusCode === 200) {
          await assertPredictions(response, reviews);
          scored++;
        } else assert.equal(response.statusCode, 422, response.body);
      }),
      fuzzParameters(300),
    );
    // The property is only worth something if the generator reaches the scoring path often.
    assert.ok(scored >= 60, `only ${scored} of 300 runs were scored`);
  });

  test('arbitrary JSON values as the body: never 500, a 200 only for a list of reviews', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (value) => {
        const response = await invokeChecked(v2(JSON.stringify(value)));
        if (response.statusCode === 200) {
          const reviews = Array.isArray(value) ? value : (value as { reviews: unknown[] }).reviews;
          await assertPredictions(response, reviews as (string | Review)[]);
        }
      }),
      fuzzParameters(300),
    );
  });

  test('arbitrary v1 and v2 events, odd fields, base64 flags and headers: never 500, never throws', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(v2Event, v1Event, fc.anything()), async (event) => {
        await invokeChecked(event);
      }),
      fuzzParameters(1000),
    );
  });
});
