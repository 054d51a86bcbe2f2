/**
 * The whole middy chain on every file in events/, with a real model service over a tiny real bundle.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Config, loadConfig } from '../../src/function/config.ts';
import { createHandler, type Handler } from '../../src/function/handler.ts';
import type { ApiGatewayEvent } from '../../src/function/http/event.ts';
import type { Problem } from '../../src/function/http/problems.ts';
import { createLogger } from '../../src/function/logger.ts';
import { createModelService, type LoadedModel, type ModelService } from '../../src/function/service.ts';
import { createLocalContext } from '../../src/local/server.ts';
import { selectBackend } from '../../src/model/backend.ts';
import { DirStore } from '../../src/storage/dir.ts';
import {
  EVENT_EXPECTATIONS,
  type EventJson,
  feedbackOf,
  listEventFiles,
  loadEvent,
  reviewsOf,
} from '../helpers/events.ts';
import { makeTinyBundle, writeBundleDir } from '../helpers/tiny-bundle.ts';

type LogLine = Record<string, unknown>;

function capturedLogger() {
  const lines: LogLine[] = [];
  const raw: string[] = [];
  const logger = createLogger({
    level: 'INFO',
    write: (line) => {
      raw.push(line);
      lines.push(JSON.parse(line) as LogLine);
    },
  });
  return { logger, lines, raw };
}

function invoke(handler: Handler, event: EventJson) {
  return handler(structuredClone(event) as unknown as ApiGatewayEvent, createLocalContext());
}

let root: string;
let config: Config;
let tiny: Awaited<ReturnType<typeof makeTinyBundle>>;

before(async () => {
  // The backend is chosen before the first tensor (the tiny bundle), as the service would.
  await selectBackend('cpu');
  root = await mkdtemp(join(tmpdir(), 'handler-events-'));
  // Named as the default model, so the events/ files (also run by `npm run invoke`) fit both.
  tiny = await makeTinyBundle({ name: 'review-sentiment' });
  await writeBundleDir(join(root, 'ok'), tiny.files, 'v1', { latest: true });
  config = loadConfig({ MODEL_URI: join(root, 'ok'), TFJS_BACKEND: 'cpu' });
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

function readyService(): ModelService {
  return createModelService({ modelUri: config.modelUri, backend: config.backend });
}

describe('every event file through the middy chain', async () => {
  const files = await listEventFiles();
  let handler: Handler;
  let loaded: LoadedModel;
  let feedback: DirStore;

  before(async () => {
    const service = readyService();
    loaded = await service.get();
    feedback = new DirStore(join(root, 'feedback'));
    handler = createHandler({ service, config, logger: capturedLogger().logger, feedback });
  });

  test('each event file has an expectation, and each expectation a file', () => {
    assert.deepEqual(files, Object.keys(EVENT_EXPECTATIONS).sort());
  });

  for (const file of files) {
    test(file, async () => {
      const expectation = EVENT_EXPECTATIONS[file];
      assert.ok(expectation, `${file} has no entry in test/helpers/events.ts`);
      const event = await loadEvent(file);
      const pristine = structuredClone(event);
      const response = await invoke(handler, event);
      assert.equal(response.statusCode, expectation.status, response.body);
      await expectation.check(response, { event, scorer: loaded.scorer, limits: config.limits, feedback });
      assert.deepEqual(event, pristine, 'the event file content must not be mutated');
    });
  }
});

describe('request logs', () => {
  test('one line per request with ids, status, latency, cold start, count, version; no review text', async () => {
    const { logger, lines, raw } = capturedLogger();
    const feedback = new DirStore(join(root, 'feedback-log-test'));
    const handler = createHandler({ service: readyService(), config, logger, feedback });
    const files = await listEventFiles();
    const texts = new Set<string>();
    for (const file of files) {
      const event = await loadEvent(file);
      await invoke(handler, event);
      if (typeof event.body === 'string' && file.startsWith('predictions-')) {
        for (const review of reviewsOf(event)) {
          if (typeof review === 'string') texts.add(review);
          else for (const part of [review.text, review.title ?? '']) if (part) texts.add(part);
        }
      }
      if (file.includes('feedback')) texts.add(feedbackOf(event).text);
    }
    const requests = lines.filter((line) => line.message === 'request');
    assert.equal(requests.length, files.length);
    assert.deepEqual(
      requests.map((line) => line.coldStart),
      files.map((_, i) => i === 0),
    );
    for (const line of requests) {
      assert.equal(line.service, 'review-sentiment');
      assert.equal(typeof line.requestId, 'string');
      assert.equal(typeof line.statusCode, 'number');
      assert.equal(typeof line.latencyMs, 'number');
    }
    const four = requests[files.indexOf('predictions-4-reviews.json')];
    assert.equal(four?.reviewCount, 4);
    assert.equal(four?.modelVersion, 'v1');
    assert.equal(four?.statusCode, 200);
    const bad = requests[files.indexOf('error-non-string-item.json')];
    assert.equal(bad?.statusCode, 422);
    assert.equal(bad?.errorType, 'invalid-reviews');
    assert.ok(texts.size >= 8);
    for (const text of texts) {
      for (const line of raw)
        assert.ok(!line.includes(text), `log line carries review text ${JSON.stringify(text)}`);
    }
    // The malformed body is review text too, and V8's JSON.parse message would quote it.
    const malformed = String((await loadEvent('error-malformed-json.json')).body);
    for (const line of raw) assert.ok(!line.includes('The book was very poor'), line);
    assert.ok(malformed.includes('The book was very poor'));
  });

  test('LOG_REVIEW_TEXT=true puts the reviews in the request line', async () => {
    const { logger, lines } = capturedLogger();
    const withText = { ...config, logReviewText: true };
    const handler = createHandler({ service: readyService(), config: withText, logger });
    const event = await loadEvent('predictions-4-reviews.json');
    await invoke(handler, event);
    const line = lines.find((l) => l.message === 'request');
    assert.deepEqual(
      line?.reviews,
      reviewsOf(event).map((review) => (typeof review === 'string' ? { text: review } : review)),
    );
  });
});

describe('model load failure', () => {
  test('503 with Retry-After while the bundle is broken, then served once it is fixed', async () => {
    const modelUri = join(root, 'broken-then-fixed');
    const { logger, lines } = capturedLogger();
    const service = createModelService({ modelUri, backend: 'cpu' });
    const handler = createHandler({ service, config, logger });
    const event = await loadEvent('predictions-4-reviews.json');
    const healthEvent = await loadEvent('health.json');

    const failed = await invoke(handler, event);
    assert.equal(failed.statusCode, 503);
    assert.equal(failed.headers['retry-after'], '5');
    assert.equal(failed.headers['content-type'], 'application/problem+json');
    const problem = JSON.parse(failed.body) as Problem;
    assert.equal(problem.instance, event.requestContext.requestId);
    assert.ok(!failed.body.includes(modelUri), 'the 503 must not reveal where the model lives');
    assert.ok(lines.some((l) => l.level === 'ERROR' && JSON.stringify(l).includes(modelUri)));
    const unhealthy = await invoke(handler, healthEvent);
    assert.equal(unhealthy.statusCode, 503);
    assert.equal(JSON.parse(unhealthy.body).status, 'failed');

    await writeBundleDir(modelUri, tiny.files, 'v1', { latest: true });
    const served = await invoke(handler, event);
    assert.equal(served.statusCode, 200);
    assert.equal(JSON.parse(served.body).predictions.length, 4);
    const healthy = await invoke(handler, healthEvent);
    assert.equal(healthy.statusCode, 200);
    assert.equal(JSON.parse(healthy.body).status, 'ready');
  });

  test('health answers "loading" without waiting for a slow load', async () => {
    const service = createModelService({ modelUri: config.modelUri, backend: 'cpu' });
    const handler = createHandler({ service, config, logger: capturedLogger().logger });
    const loading = service.get();
    const response = await invoke(handler, await loadEvent('health.json'));
    assert.equal(response.statusCode, 200);
    assert.deepEqual(JSON.parse(response.body), {
      status: 'loading',
      loaded: false,
      model: null,
      backend: null,
      limits: config.limits,
    });
    await loading;
  });
});

describe('unexpected errors', () => {
  test('500 is generic: no message, no stack; the real error is logged', async () => {
    const loaded = await readyService().get();
    // A real scorer whose weights were freed: predict throws a TensorFlow.js error nobody planned for.
    const broken = await createModelService({ modelUri: config.modelUri, backend: 'cpu' }).get();
    broken.scorer.model.dispose();
    const service: ModelService = {
      get: async () => broken,
      status: () => ({ state: 'ready', modelUri: '' }),
    };
    const { logger, lines } = capturedLogger();
    const handler = createHandler({ service, config, logger });
    const response = await invoke(handler, await loadEvent('predictions-4-reviews.json'));
    assert.equal(response.statusCode, 500);
    const body = JSON.parse(response.body) as Problem;
    assert.deepEqual(Object.keys(body).sort(), ['detail', 'instance', 'status', 'title', 'type']);
    assert.equal(body.type, 'about:blank');
    assert.doesNotMatch(response.body, /disposed|TypeError|\bat\s|\.ts:|\.js:|node_modules/);
    const logged = lines.find((l) => l.message === 'request failed');
    assert.match(JSON.stringify(logged), /disposed/i);
    assert.match(JSON.stringify(logged), /stack/);
    assert.ok(loaded.scorer.predict(['still fine']).length === 1, 'other models are unaffected');
  });

  test('an event that is not from API Gateway gets 400', async () => {
    const handler = createHandler({ service: readyService(), config, logger: capturedLogger().logger });
    const response = await handler({} as ApiGatewayEvent, createLocalContext());
    assert.equal(response.statusCode, 400);
    assert.match(JSON.parse(response.body).detail, /not an API Gateway proxy event/);
  });

  test('413 when the decoded body exceeds MAX_BODY_BYTES', async () => {
    const event = await loadEvent('predictions-base64.json');
    const decoded = Buffer.from(String(event.body), 'base64').byteLength;
    const tight = loadConfig({ MODEL_URI: config.modelUri, MAX_BODY_BYTES: String(decoded - 1) });
    const handler = createHandler({
      service: readyService(),
      config: tight,
      logger: capturedLogger().logger,
    });
    const tooBig = await invoke(handler, event);
    assert.equal(tooBig.statusCode, 413);
    assert.match(JSON.parse(tooBig.body).detail, new RegExp(`${decoded} bytes; the limit is ${decoded - 1}`));
    const exact = loadConfig({ MODEL_URI: config.modelUri, MAX_BODY_BYTES: String(decoded) });
    const fits = createHandler({ service: readyService(), config: exact, logger: capturedLogger().logger });
    assert.equal((await invoke(fits, event)).statusCode, 200);
  });
});
