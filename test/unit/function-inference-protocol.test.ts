/**
 * The Open Inference Protocol (KServe v2) routes against the protocol's own published examples
 * (test/fixtures/kserve-v2/): our answers must have their shapes. Real handler, real tiny bundles.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Config, loadConfig } from '../../src/function/config.ts';
import { createHandler, type Handler } from '../../src/function/handler.ts';
import type { ApiGatewayEvent } from '../../src/function/http/event.ts';
import { createLogger } from '../../src/function/logger.ts';
import { createModelRegistry, type ModelRegistry } from '../../src/function/models.ts';
import { createLocalContext } from '../../src/local/server.ts';
import { selectBackend } from '../../src/model/backend.ts';
import { makeTinyBundle, TINY_TEXTS, writeBundleDir } from '../helpers/tiny-bundle.ts';

const FIXTURES = resolve(import.meta.dirname, '..', 'fixtures', 'kserve-v2');
const fixture = (name: string): unknown => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'));

type Json = Record<string, unknown>;

/**
 * The JSON "shape" of a value: object keys with their shapes, an array as the shape of its first element,
 * a primitive as its type. Tensor `data` is any array (its element type follows the tensor's datatype).
 */
function skeleton(value: unknown, key = ''): unknown {
  if (key === 'data') return Array.isArray(value) ? 'tensor data' : typeof value;
  if (Array.isArray(value)) return [skeleton(value[0])];
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, skeleton(v, k)]),
    );
  }
  return typeof value;
}

let root: string;
let config: Config;
let models: ModelRegistry;
let handler: Handler;

before(async () => {
  await selectBackend('cpu');
  root = await mkdtemp(join(tmpdir(), 'kserve-v2-'));
  await writeBundleDir(join(root, 'stars'), (await makeTinyBundle()).files, 'v1', { latest: true });
  const emotion = await makeTinyBundle({ labels: ['anger', 'joy', 'neutral'], version: 'e1', seed: 3 });
  await writeBundleDir(join(root, 'emotion'), emotion.files, 'e1', { latest: true });
  config = loadConfig({
    MODELS: `review-sentiment=${join(root, 'stars')},emotion=${join(root, 'emotion')},broken=${join(root, 'nothing')}`,
    MAX_REVIEWS: '5',
    MAX_REVIEW_CHARS: '50',
  });
  models = createModelRegistry(config.models, config.defaultModel, { backend: 'cpu' });
  handler = createHandler({ models, config, logger: createLogger({ level: 'SILENT' }) });
});
after(() => rm(root, { recursive: true, force: true }));

async function call(method: string, path: string, body?: unknown) {
  const event = {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    requestContext: { http: { method, path }, requestId: 'kserve-test', stage: '$default' },
    isBase64Encoded: false,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  };
  const response = await handler(event as unknown as ApiGatewayEvent, createLocalContext());
  return { ...response, json: response.body === '' ? undefined : (JSON.parse(response.body) as Json) };
}

const texts = (data: unknown, shape = [Array.isArray(data) ? data.flat(3).length : 0]) => ({
  inputs: [{ name: 'text', shape, datatype: 'BYTES', data }],
});

describe('Open Inference Protocol answers have the published shapes', () => {
  test('infer: the response has the example response`s shape, with model_name and model_version', async () => {
    const request = fixture('infer-request.json') as Json;
    const ours = {
      id: '42',
      inputs: [
        { name: 'text', shape: [2], datatype: 'BYTES', data: ['Very nice!', 'The book was very poor'] },
      ],
      outputs: [{ name: 'probabilities' }],
    };
    assert.deepEqual(
      skeleton({ ...ours, inputs: ours.inputs.slice(0, 1) }),
      skeleton({ ...request, inputs: (request.inputs as unknown[]).slice(0, 1) }),
    );
    const response = await call('POST', '/v2/models/review-sentiment/infer', ours);
    assert.equal(response.statusCode, 200);
    const example = fixture('infer-response.json') as Json;
    const { model_name, model_version, ...rest } = response.json ?? {};
    assert.equal(model_name, 'review-sentiment');
    assert.equal(model_version, 'v1');
    assert.deepEqual(skeleton(rest), skeleton(example));
    const [output] = (response.json?.outputs ?? []) as Json[];
    assert.deepEqual(output?.shape, [2, 5]);
    assert.equal((output?.data as number[] | undefined)?.length, 10);
  });

  test('model metadata has the example`s shape', async () => {
    const response = await call('GET', '/v2/models/emotion');
    assert.equal(response.statusCode, 200);
    assert.deepEqual(skeleton(response.json), skeleton(fixture('model-metadata-response.json')));
    // Emotions are not ordinal: rating is the label name (BYTES) and there is no score.
    assert.deepEqual(response.json?.outputs, [
      { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
      { name: 'rating', datatype: 'BYTES', shape: [-1] },
    ]);
  });

  test('health and model ready have the example shapes; not ready is 503 with Retry-After', async () => {
    const live = await call('GET', '/v2/health/live');
    assert.equal(live.statusCode, 200);
    assert.deepEqual(skeleton(live.json), skeleton(fixture('server-live-response.json')));
    await models.default().get();
    const ready = await call('GET', '/v2/health/ready');
    assert.deepEqual([ready.statusCode, ready.json], [200, { ready: true }]);
    const model = await call('GET', '/v2/models/review-sentiment/ready');
    assert.equal(model.statusCode, 200);
    assert.deepEqual(skeleton(model.json), skeleton(fixture('model-ready-response.json')));
    assert.deepEqual(model.json, { name: 'review-sentiment', ready: true });
    const broken = await call('GET', '/v2/models/broken/ready');
    assert.deepEqual([broken.statusCode, broken.json], [503, { name: 'broken', ready: false }]);
    await models
      .get('broken')
      .get()
      .catch(() => undefined);
    const failed = await call('GET', '/v2/models/broken/ready');
    assert.equal(failed.statusCode, 503);
    assert.match(failed.headers['retry-after'] ?? '', /^\d+$/);
  });

  test('errors have the example error`s shape, with the protocol`s statuses', async () => {
    const shape = skeleton(fixture('error-response.json'));
    const cases: [string, string, unknown, number, RegExp][] = [
      [
        'POST',
        '/v2/models/review-sentiment/infer',
        fixture('infer-request.json'),
        400,
        /unknown input "input0"/,
      ],
      ['POST', '/v2/models/nope/infer', texts(['hi']), 404, /no model named "nope"/],
      ['GET', '/v2/models/nope', undefined, 404, /no model named "nope"/],
      ['POST', '/v2/models/review-sentiment/infer', '{"inputs": [', 400, /not valid JSON/],
      ['GET', '/v2/models/review-sentiment/infer', undefined, 405, /use POST/],
      ['GET', '/v2/nowhere', undefined, 404, /no route/],
    ];
    for (const [method, path, body, status, message] of cases) {
      const response = await call(method, path, body);
      assert.equal(response.statusCode, status, `${method} ${path}`);
      assert.equal(response.headers['content-type'], 'application/json');
      assert.deepEqual(skeleton(response.json), shape);
      assert.match(String(response.json?.error), message);
    }
  });
});

describe('v2 inference', () => {
  test('returns the probabilities POST /predictions returns for the same texts', async () => {
    const reviews = TINY_TEXTS.slice(0, 4);
    const ours = await call('POST', '/predictions', reviews);
    const v2 = await call('POST', '/v2/models/review-sentiment/infer', texts(reviews));
    const predictions = (ours.json?.predictions ?? []) as {
      probabilities: Json;
      rating: number;
      score: number;
    }[];
    const [probabilities, rating, score] = (v2.json?.outputs ?? []) as { name: string; data: unknown[] }[];
    assert.deepEqual(
      probabilities?.data,
      predictions.flatMap((p) => ['1', '2', '3', '4', '5'].map((label) => p.probabilities[label])),
    );
    assert.deepEqual(
      rating?.data,
      predictions.map((p) => p.rating),
    );
    assert.deepEqual(
      score?.data,
      predictions.map((p) => p.score),
    );
  });

  test('titles, nested data, output selection, id echoed, parameters ignored', async () => {
    const response = await call('POST', '/v2/models/emotion/infer', {
      id: 'batch-7',
      parameters: { binary_data_output: false },
      inputs: [
        { name: 'text', shape: [2], datatype: 'BYTES', data: [['Very nice!'], ['Broke after one day']] },
        { name: 'title', shape: [2], datatype: 'BYTES', data: ['Great value', ''] },
      ],
      outputs: [{ name: 'rating' }],
    });
    assert.equal(response.statusCode, 200, response.body);
    const direct = await (await models.get('emotion').get()).scorer.predict([
      { text: 'Very nice!', title: 'Great value' },
      { text: 'Broke after one day' },
    ]);
    assert.deepEqual(response.json, {
      model_name: 'emotion',
      model_version: 'e1',
      id: 'batch-7',
      outputs: [{ name: 'rating', datatype: 'BYTES', shape: [2], data: direct.map((p) => p.rating) }],
    });
  });

  test('bad tensors and the /predictions limits are 400 {"error"} naming the problem', async () => {
    const cases: [unknown, RegExp][] = [
      [{}, /"inputs" must be a non-empty array/],
      [texts(['a', 'b'], [3]), /shape \[3\] but 2 data elements/],
      [texts(['a'], [1, 1]), /must have shape \[N\]/],
      [{ inputs: [{ name: 'text', shape: [1], datatype: 'FP32', data: [1] }] }, /datatype BYTES/],
      [texts(['a', 2]), /element 1 is not a string/],
      [
        { inputs: [{ name: 'title', shape: [1], datatype: 'BYTES', data: ['t'] }] },
        /input "text".*is required/,
      ],
      [{ ...texts(['a']), outputs: [{ name: 'logits' }] }, /unknown output "logits"/],
      [texts(['a', 'b', 'c', 'd', 'e', 'f']), /6 elements; at most 5/],
      [
        texts(['fine', ' ', 'x'.repeat(51)]),
        /text\[1\]: text is empty; text\[2\]: text has 51 characters; at most 50/,
      ],
      [{ ...texts(['a']), id: 7 }, /"id" must be a string/],
    ];
    for (const [body, message] of cases) {
      const response = await call('POST', '/v2/models/review-sentiment/infer', body);
      assert.equal(response.statusCode, 400, JSON.stringify(body));
      assert.match(String(response.json?.error), message);
    }
    const noScore = await call('POST', '/v2/models/emotion/infer', {
      ...texts(['a']),
      outputs: [{ name: 'score' }],
    });
    assert.equal(noScore.statusCode, 400);
    assert.match(String(noScore.json?.error), /model "emotion" has no output "score"/);
  });
});

describe('HEAD and the model routes', () => {
  test('HEAD answers like GET without a body on every GET route; Allow lists HEAD', async () => {
    await models.default().get();
    for (const path of [
      '/health',
      '/models',
      '/v2/health/live',
      '/v2/health/ready',
      '/v2/models/emotion',
      '/v2/models/emotion/ready',
    ]) {
      const get = await call('GET', path);
      const head = await call('HEAD', path);
      assert.equal(head.statusCode, get.statusCode, path);
      assert.equal(head.body, '', path);
      assert.equal(head.headers['content-type'], get.headers['content-type'], path);
    }
    const notFound = await call('HEAD', '/v2/models/nope');
    assert.deepEqual([notFound.statusCode, notFound.body], [404, '']);
    const wrong = await call('DELETE', '/health');
    assert.equal(wrong.headers.allow, 'GET, HEAD');
    assert.equal((await call('HEAD', '/predictions')).headers.allow, 'POST');
  });

  test('GET /models lists every model with its state; unknown names are 404 problems', async () => {
    const list = await call('GET', '/models');
    assert.equal(list.json?.default, 'review-sentiment');
    const byName = Object.fromEntries(((list.json?.models ?? []) as Json[]).map((m) => [m.name, m]));
    assert.equal(byName['review-sentiment']?.default, true);
    assert.equal(byName.emotion?.default, false);
    assert.deepEqual(byName.emotion?.labels, ['anger', 'joy', 'neutral']);
    assert.equal(byName.broken?.state, 'failed');
    assert.equal(byName.broken?.version, null);
    const unknown = await call('POST', '/models/nope/predictions', ['hi']);
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.headers['content-type'], 'application/problem+json');
    assert.match(String(unknown.json?.type), /problems\/model-not-found$/);
    const emotion = await call('POST', '/models/emotion/predictions', ['Very nice!']);
    const [prediction] = (emotion.json?.predictions ?? []) as Json[];
    assert.equal(prediction?.score, null, 'labels that are not ratings have no expected score');
    assert.ok(['anger', 'joy', 'neutral'].includes(String(prediction?.rating)));
  });
});
