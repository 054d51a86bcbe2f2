/**
 * POST /feedback through the whole middy chain with a folder store: idempotent ids, create-only writes
 * under races, label and model checks against the served model, limits, and logs without the text.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseFeedbackRecord } from '../../src/feedback/record.ts';
import { loadConfig } from '../../src/function/config.ts';
import { createHandler, type HandlerDependencies } from '../../src/function/handler.ts';
import type { ApiGatewayEvent } from '../../src/function/http/event.ts';
import { createLogger } from '../../src/function/logger.ts';
import { fromServices } from '../../src/function/models.ts';
import { createModelService } from '../../src/function/service.ts';
import { createLocalContext } from '../../src/local/server.ts';
import { selectBackend } from '../../src/model/backend.ts';
import { DirStore } from '../../src/storage/dir.ts';
import type { Store } from '../../src/storage/index.ts';
import { loadEvent } from '../helpers/events.ts';
import { makeTinyBundle, writeBundleDir } from '../helpers/tiny-bundle.ts';

const LABELS = ['anger', 'fear', 'joy'];
let root: string;
let modelUri: string;

before(async () => {
  await selectBackend('cpu');
  root = await mkdtemp(join(tmpdir(), 'feedback-'));
  modelUri = join(root, 'model');
  const tiny = await makeTinyBundle({ name: 'emotion', labels: LABELS });
  await writeBundleDir(modelUri, tiny.files, 'v1', { latest: true });
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

function setup(feedback: Store | null, env: Record<string, string> = {}) {
  const raw: string[] = [];
  const logger = createLogger({ level: 'INFO', write: (line) => raw.push(line) });
  const config = loadConfig({ MODEL_URI: modelUri, TFJS_BACKEND: 'cpu', ...env });
  const service = createModelService({ modelUri, backend: 'cpu' });
  const deps: HandlerDependencies = {
    // The bundle's manifest names it emotion; the registry serves it under the same name.
    models: fromServices(new Map([['emotion', service]]), 'emotion'),
    config,
    logger,
    feedback,
  };
  const handler = createHandler(deps);
  const post = async (body: unknown) => {
    const event = await loadEvent('feedback-ok.json');
    event.body = typeof body === 'string' ? body : JSON.stringify(body);
    const response = await handler(event as unknown as ApiGatewayEvent, createLocalContext());
    return { status: response.statusCode, body: JSON.parse(response.body), headers: response.headers };
  };
  return { post, raw };
}

const freshStore = async () => new DirStore(await mkdtemp(join(root, 'store-')));
const TEXT = 'When my friend lied to me about the party.';

describe('POST /feedback', () => {
  test('202 {id, model}; a retry gets the same id and writes nothing more', async () => {
    const store = await freshStore();
    const { post } = setup(store);
    const first = await post({ model: 'emotion', text: TEXT, label: 'anger', prediction: 'joy' });
    assert.equal(first.status, 202);
    assert.deepEqual(Object.keys(first.body).sort(), ['id', 'model']);
    assert.match(first.body.id, /^[0-9a-f]{64}$/);
    assert.equal(first.body.model, 'emotion');
    const keys = await store.list('emotion/');
    assert.deepEqual(keys, [`emotion/${first.body.id}.json`]);
    const before = await store.get(keys[0] as string);
    const again = await post({ prediction: 'joy', label: 'anger', text: TEXT, model: 'emotion', title: '' });
    assert.deepEqual(again, first);
    assert.deepEqual(await store.list('emotion/'), keys);
    assert.deepEqual(await store.get(keys[0] as string), before, 'the first record is kept as written');
    const record = parseFeedbackRecord(before, 'record');
    assert.equal(record.text, TEXT);
    assert.equal(record.title, null);
    assert.equal(record.modelVersion, 'v1');
  });

  test('concurrent identical posts make one file; different labels make two', async () => {
    const store = await freshStore();
    const { post } = setup(store);
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => post({ model: 'emotion', text: TEXT, label: 'fear' })),
    );
    assert.ok(answers.every((a) => a.status === 202 && a.body.id === answers[0]?.body.id));
    assert.equal((await post({ model: 'emotion', text: TEXT, label: 'joy' })).status, 202);
    assert.equal((await store.list('emotion/')).length, 2);
    const files = await readdir(join(store.root, 'emotion'));
    assert.ok(
      files.every((name) => name.endsWith('.json')),
      `no temp files left: ${files}`,
    );
  });

  test('422 names each problem: shape, unknown model, labels outside the model', async () => {
    const { post } = setup(await freshStore());
    const shape = await post({ model: '', text: ' ', label: 3, extra: true, title: 5 });
    assert.equal(shape.status, 422);
    assert.deepEqual(
      shape.body.errors.map((e: { pointer: string }) => e.pointer),
      ['/model', '/text', '/title', '/label', '/extra'],
    );
    assert.equal((await post([TEXT])).status, 422);
    const model = await post({ model: 'review-sentiment', text: TEXT, label: 'joy' });
    assert.equal(model.status, 422);
    assert.deepEqual(model.body.errors, [
      { pointer: '/model', detail: 'not a model this function serves; use emotion' },
    ]);
    const labels = await post({ model: 'emotion', text: TEXT, label: 'Joy', prediction: 'surprise' });
    assert.equal(labels.status, 422);
    assert.deepEqual(
      labels.body.errors.map((e: { pointer: string; detail: string }) => [e.pointer, e.detail]),
      [
        ['/label', 'must be one of anger, fear, joy'],
        ['/prediction', 'must be one of anger, fear, joy'],
      ],
    );
  });

  test('the limits of predictions apply (MAX_REVIEW_CHARS)', async () => {
    const { post } = setup(await freshStore(), { MAX_REVIEW_CHARS: '20' });
    const long = await post({ model: 'emotion', text: 'x'.repeat(21), label: 'joy' });
    assert.equal(long.status, 422);
    assert.match(long.body.errors[0].detail, /21 characters; at most 20/);
    assert.equal((await post({ model: 'emotion', text: 'x'.repeat(20), label: 'joy' })).status, 202);
  });

  test('404 when feedback is not collected (FEEDBACK_URI unset in Lambda)', async () => {
    const { post } = setup(null);
    const response = await post({ model: 'emotion', text: TEXT, label: 'joy' });
    assert.equal(response.status, 404);
    assert.match(response.body.detail, /FEEDBACK_URI/);
    assert.match(response.body.type, /feedback-disabled$/);
  });

  test('503 with Retry-After when the store fails; the cause is logged, not sent', async () => {
    const failing = new DirStore(join(root, 'x'));
    failing.putNew = async () => {
      throw new Error('disk on fire');
    };
    const { post, raw } = setup(failing);
    const response = await post({ model: 'emotion', text: TEXT, label: 'joy' });
    assert.equal(response.status, 503);
    assert.equal(response.headers['retry-after'], '5');
    assert.doesNotMatch(JSON.stringify(response.body), /disk on fire/);
    assert.ok(raw.some((line) => line.includes('disk on fire')));
  });

  test('logs carry the id and label, never the text', async () => {
    const { post, raw } = setup(await freshStore());
    const secret = 'A very private sentence about my neighbour.';
    const ok = await post({ model: 'emotion', text: secret, title: 'Private title', label: 'joy' });
    await post({ model: 'emotion', text: secret, label: 'nope' });
    assert.ok(raw.some((line) => line.includes(ok.body.id)));
    for (const line of raw) assert.ok(!line.includes('private'), line);
  });
});
