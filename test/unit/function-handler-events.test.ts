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
import { createLogger, plainLogger } from '../../src/function/logger.ts';
import { createModelRegistry, fromServices, type ModelRegistry } from '../../src/function/models.ts';
import { createRankingsReader } from '../../src/function/rankings.ts';
import { createModelService, type ModelService } from '../../src/function/service.ts';
import { createLocalContext } from '../../src/local/server.ts';
import { selectBackend } from '../../src/model/backend.ts';
import type { Scorer } from '../../src/model/scorer.ts';
import { DirStore } from '../../src/storage/dir.ts';
import {
  EVENT_EXPECTATIONS,
  type EventJson,
  feedbackOf,
  listEventFiles,
  loadEvent,
  reviewsOf,
} from '../helpers/events.ts';
import { publishTestRanking } from '../helpers/ranking.ts';
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

/** Emotion labels are names, not ratings: their score is null and their v2 rating is BYTES. */
const EMOTIONS = ['anger', 'joy', 'neutral'];

before(async () => {
  // The backend is chosen before the first tensor (the tiny bundle), as the service would.
  await selectBackend('cpu');
  root = await mkdtemp(join(tmpdir(), 'handler-events-'));
  // Named as the default model, so the events/ files (also run by `npm run invoke`) fit both.
  tiny = await makeTinyBundle({ name: 'review-sentiment' });
  await writeBundleDir(join(root, 'ok'), tiny.files, 'v1', { latest: true });
  const emotion = await makeTinyBundle({ labels: EMOTIONS, version: 'e1', seed: 11 });
  await writeBundleDir(join(root, 'emotion'), emotion.files, 'e1', { latest: true });
  config = loadConfig({
    MODELS: `review-sentiment=${join(root, 'ok')},emotion=${join(root, 'emotion')}`,
    TFJS_BACKEND: 'cpu',
    CORS_ALLOW_ORIGINS: 'https://shop.example.com',
  });
  const rankings = new DirStore(join(root, 'rankings'));
  await publishTestRanking(rankings, '2014-W04');
  await publishTestRanking(rankings, '2014-W05');
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

function readyModels(): ModelRegistry {
  return createModelRegistry(config.models, config.defaultModel, { backend: config.backend });
}

/** A registry of one model, for tests about the default model alone. */
function oneModel(service: ModelService): ModelRegistry {
  return fromServices(new Map([['review-sentiment', service]]), 'review-sentiment');
}

describe('every event file through the middy chain', async () => {
  const files = await listEventFiles();
  let handler: Handler;
  const scorers: Record<string, Scorer> = {};
  let feedback: DirStore;

  before(async () => {
    const models = readyModels();
    for (const name of models.names()) scorers[name] = (await models.get(name).get()).scorer;
    const rankings = createRankingsReader({ uri: join(root, 'rankings') });
    feedback = new DirStore(join(root, 'feedback'));
    handler = createHandler({ models, config, logger: capturedLogger().logger, rankings, feedback });
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
      const scorer = scorers[config.defaultModel];
      assert.ok(scorer);
      await expectation.check(response, {
        event,
        scorer,
        scorers,
        defaultModel: config.defaultModel,
        limits: config.limits,
        corsAllowOrigins: config.corsAllowOrigins,
        feedback,
      });
      assert.deepEqual(event, pristine, 'the event file content must not be mutated');
    });
  }
});

describe('request logs', () => {
  test('one line per request with ids, status, latency, cold start, count, version; no review text', async () => {
    const { logger, lines, raw } = capturedLogger();
    const feedback = new DirStore(join(root, 'feedback-log-test'));
    const handler = createHandler({ models: readyModels(), config, logger, feedback });
    const files = await listEventFiles();
    const texts = new Set<string>();
    for (const file of files) {
      const event = await loadEvent(file);
      await invoke(handler, event);
      if (typeof event.body === 'string' && file.startsWith('v2-infer')) {
        for (const input of JSON.parse(event.body).inputs as { data: string[] }[])
          for (const text of input.data) if (text) texts.add(text);
      }
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
    const handler = createHandler({ models: readyModels(), config: withText, logger });
    const event = await loadEvent('predictions-4-reviews.json');
    await invoke(handler, event);
    const line = lines.find((l) => l.message === 'request');
    assert.deepEqual(
      line?.reviews,
      reviewsOf(event).map((review) => (typeof review === 'string' ? { text: review } : review)),
    );
  });
});

describe('CORS', () => {
  const withOrigin = async (file: string, origin: string) => {
    const event = await loadEvent(file);
    (event.headers as Record<string, string>).origin = origin;
    return event;
  };
  const allowOrigin = (response: { headers: Record<string, string> }) =>
    response.headers['Access-Control-Allow-Origin'];

  test('an allowed origin may read answers and errors; another origin gets no CORS header', async () => {
    const handler = createHandler({ models: readyModels(), config, logger: capturedLogger().logger });
    for (const file of [
      'predictions-4-reviews.json',
      'error-non-string-item.json',
      'error-unknown-route.json',
    ]) {
      const allowed = await invoke(handler, await withOrigin(file, 'https://shop.example.com'));
      assert.equal(allowOrigin(allowed), 'https://shop.example.com', file);
      assert.match(allowed.headers.Vary ?? '', /Origin/, file);
      const other = await invoke(handler, await withOrigin(file, 'https://elsewhere.example.net'));
      assert.equal(allowOrigin(other), undefined, file);
      assert.equal(other.statusCode, allowed.statusCode, 'CORS changes headers, never the answer');
    }
  });

  test('no CORS_ALLOW_ORIGINS (the default in AWS): no origin is allowed; "*" allows any', async () => {
    const event = await withOrigin('predictions-4-reviews.json', 'https://shop.example.com');
    const closed = createHandler({
      models: readyModels(),
      config: { ...config, corsAllowOrigins: [] },
      logger: capturedLogger().logger,
    });
    assert.equal(allowOrigin(await invoke(closed, event)), undefined);
    const open = createHandler({
      models: readyModels(),
      config: { ...config, corsAllowOrigins: ['*'] },
      logger: capturedLogger().logger,
    });
    assert.equal(allowOrigin(await invoke(open, event)), '*');
  });
});

/** Lets pending promise callbacks (a load that reads a folder) run until `done` holds. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 2));
  assert.ok(done(), 'condition not reached');
}

describe('model load failure and healing', () => {
  test('503 with Retry-After = the back-off left; no re-download during it; /health heals without predictions', async () => {
    const modelUri = join(root, 'broken-then-fixed');
    let now = 0;
    const { logger, lines } = capturedLogger();
    const service = createModelService({
      modelUri,
      backend: 'cpu',
      logger: plainLogger(logger),
      clock: () => now,
      random: () => 0,
    });
    const handler = createHandler({ models: oneModel(service), config, logger });
    const event = await loadEvent('predictions-4-reviews.json');
    const healthEvent = await loadEvent('health.json');
    const attempts = () => lines.filter((l) => l.message === 'model load failed').length;

    const failed = await invoke(handler, event);
    assert.equal(failed.statusCode, 503);
    assert.equal(failed.headers['retry-after'], '1', 'the first back-off is 1 s');
    assert.equal(failed.headers['content-type'], 'application/problem+json');
    const problem = JSON.parse(failed.body) as Problem;
    assert.equal(problem.instance, event.requestContext.requestId);
    assert.ok(!failed.body.includes(modelUri), 'the 503 must not reveal where the model lives');
    assert.ok(lines.some((l) => l.level === 'ERROR' && JSON.stringify(l).includes(modelUri)));

    now = 400;
    const backingOff = await invoke(handler, event);
    assert.equal(backingOff.statusCode, 503);
    assert.equal(backingOff.headers['retry-after'], '1', '600 ms left, rounded up');
    const unhealthy = await invoke(handler, healthEvent);
    assert.equal(unhealthy.statusCode, 503);
    assert.equal(unhealthy.headers['retry-after'], '1');
    assert.equal(JSON.parse(unhealthy.body).status, 'failed');
    assert.equal(attempts(), 1, 'neither the request nor the probe loaded again during the back-off');

    now = 1000;
    const retrying = await invoke(handler, healthEvent);
    assert.equal(retrying.statusCode, 200, 'the probe started a new load: loading');
    assert.equal(JSON.parse(retrying.body).status, 'loading');
    await until(() => service.status().state === 'failed');
    assert.equal(attempts(), 2);
    assert.equal(
      (await invoke(handler, healthEvent)).headers['retry-after'],
      '2',
      'the second back-off is 2 s',
    );

    await writeBundleDir(modelUri, tiny.files, 'v1', { latest: true });
    now = 3000;
    assert.equal((await invoke(handler, healthEvent)).statusCode, 200);
    await until(() => service.status().state !== 'loading');
    const healthy = await invoke(handler, healthEvent);
    assert.equal(healthy.statusCode, 200);
    assert.equal(JSON.parse(healthy.body).status, 'ready', 'recovered without a prediction request');
    const served = await invoke(handler, event);
    assert.equal(served.statusCode, 200);
    assert.equal(JSON.parse(served.body).predictions.length, 4);
  });

  test('one broken bundle never blocks the other models', async () => {
    const models = createModelRegistry(
      [
        { name: 'review-sentiment', uri: join(root, 'ok') },
        { name: 'broken', uri: join(root, 'missing') },
      ],
      'review-sentiment',
      { backend: 'cpu' },
    );
    const handler = createHandler({ models, config, logger: capturedLogger().logger });
    const event = await loadEvent('predictions-4-reviews.json');
    const broken = await invoke(handler, { ...event, rawPath: '/models/broken/predictions' });
    assert.equal(broken.statusCode, 503);
    assert.equal((await invoke(handler, event)).statusCode, 200);
    const list = JSON.parse((await invoke(handler, await loadEvent('models-list.json'))).body);
    assert.deepEqual(
      list.models.map((m: { name: string; state: string }) => `${m.name} ${m.state}`),
      ['review-sentiment ready', 'broken failed'],
    );
  });

  test('health answers "loading" without waiting for a slow load', async () => {
    const service = createModelService({ modelUri: config.modelUri, backend: 'cpu' });
    const handler = createHandler({ models: oneModel(service), config, logger: capturedLogger().logger });
    const loading = service.get();
    const response = await invoke(handler, await loadEvent('health.json'));
    assert.equal(response.statusCode, 200);
    assert.deepEqual(JSON.parse(response.body), {
      status: 'loading',
      loaded: false,
      model: null,
      runtime: null,
      backend: null,
      limits: config.limits,
    });
    await loading;
  });
});

describe('unexpected errors', () => {
  test('500 is generic: no message, no stack; the real error is logged', async () => {
    const loaded = await readyModels().default().get();
    // A real scorer whose weights were freed: predict throws a TensorFlow.js error nobody planned for.
    const broken = await createModelService({
      modelUri: config.modelUri,
      runtime: 'tfjs',
      backend: 'cpu',
    }).get();
    await broken.scorer.dispose();
    const service: ModelService = {
      get: async () => broken,
      status: () => ({ state: 'ready', modelUri: '' }),
      warm: () => undefined,
    };
    const { logger, lines } = capturedLogger();
    const handler = createHandler({ models: oneModel(service), config, logger });
    const response = await invoke(handler, await loadEvent('predictions-4-reviews.json'));
    assert.equal(response.statusCode, 500);
    const body = JSON.parse(response.body) as Problem;
    assert.deepEqual(Object.keys(body).sort(), ['detail', 'instance', 'status', 'title', 'type']);
    assert.equal(body.type, 'about:blank');
    assert.doesNotMatch(response.body, /disposed|TypeError|\bat\s|\.ts:|\.js:|node_modules/);
    const logged = lines.find((l) => l.message === 'request failed');
    assert.match(JSON.stringify(logged), /disposed/i);
    assert.match(JSON.stringify(logged), /stack/);
    assert.ok((await loaded.scorer.predict(['still fine'])).length === 1, 'other models are unaffected');
  });

  test('an event that is not from API Gateway gets 400', async () => {
    const handler = createHandler({ models: readyModels(), config, logger: capturedLogger().logger });
    const response = await handler({} as ApiGatewayEvent, createLocalContext());
    assert.equal(response.statusCode, 400);
    assert.match(JSON.parse(response.body).detail, /not an API Gateway proxy event/);
  });

  test('413 when the decoded body exceeds MAX_BODY_BYTES', async () => {
    const event = await loadEvent('predictions-base64.json');
    const decoded = Buffer.from(String(event.body), 'base64').byteLength;
    const tight = loadConfig({ MODEL_URI: config.modelUri, MAX_BODY_BYTES: String(decoded - 1) });
    const handler = createHandler({
      models: readyModels(),
      config: tight,
      logger: capturedLogger().logger,
    });
    const tooBig = await invoke(handler, event);
    assert.equal(tooBig.statusCode, 413);
    assert.match(JSON.parse(tooBig.body).detail, new RegExp(`${decoded} bytes; the limit is ${decoded - 1}`));
    const exact = loadConfig({ MODEL_URI: config.modelUri, MAX_BODY_BYTES: String(decoded) });
    const fits = createHandler({ models: readyModels(), config: exact, logger: capturedLogger().logger });
    assert.equal((await invoke(fits, event)).statusCode, 200);
  });
});
