/**
 * POST /feedback against a real S3-protocol server: concurrent identical posts leave one object, different
 * labels two, and training's reader gets them back from the same prefix.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { feedbackKey } from '../../src/feedback/record.ts';
import { loadConfig } from '../../src/function/config.ts';
import { createHandler, type Handler } from '../../src/function/handler.ts';
import type { ApiGatewayEvent } from '../../src/function/http/event.ts';
import { createLogger } from '../../src/function/logger.ts';
import { fromServices } from '../../src/function/models.ts';
import { createModelService } from '../../src/function/service.ts';
import { createLocalContext } from '../../src/local/server.ts';
import { selectBackend } from '../../src/model/backend.ts';
import { createStorage } from '../../src/storage/index.ts';
import { readFeedback } from '../../training/feedback.ts';
import { loadEvent } from '../helpers/events.ts';
import { type S3rverHandle, startS3rver, testS3Client } from '../helpers/s3rver.ts';
import { makeTinyBundle, writeBundleDir } from '../helpers/tiny-bundle.ts';

const PREFIX = 'feedback/';
let s3: S3rverHandle;
let dir: string;
let handler: Handler;
/** Headers of every PUT the feedback store sent. */
const puts: Record<string, string>[] = [];

before(async () => {
  await selectBackend('cpu');
  s3 = await startS3rver('feedback-bucket');
  dir = await mkdtemp(join(tmpdir(), 'feedback-s3-'));
  const tiny = await makeTinyBundle({ name: 'emotion', labels: ['anger', 'fear', 'joy'] });
  await writeBundleDir(join(dir, 'model'), tiny.files, 'v1', { latest: true });
  const feedbackUri = `s3://${s3.bucket}/${PREFIX}`;
  const config = loadConfig({
    MODEL_URI: join(dir, 'model'),
    FEEDBACK_URI: feedbackUri,
    TFJS_BACKEND: 'cpu',
  });
  assert.equal(config.feedbackUri, feedbackUri);
  handler = createHandler({
    models: fromServices(
      new Map([['emotion', createModelService({ modelUri: config.modelUri, backend: 'cpu' })]]),
      'emotion',
    ),
    config,
    logger: createLogger({ level: 'SILENT' }),
    feedback: createStorage({ s3: recordingClient(s3.endpoint) }).store(feedbackUri),
  });
});

after(async () => {
  await s3?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A client that notes the headers of each PUT as sent (after signing). */
function recordingClient(endpoint: string) {
  const client = testS3Client(endpoint);
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { method?: string; headers?: Record<string, string> };
      if (request.method === 'PUT') puts.push({ ...request.headers });
      return next(args);
    },
    { step: 'finalizeRequest', name: 'recordPuts' },
  );
  return client;
}

async function post(body: unknown) {
  const event = await loadEvent('feedback-ok.json');
  event.body = JSON.stringify(body);
  const response = await handler(event as unknown as ApiGatewayEvent, createLocalContext());
  return { status: response.statusCode, body: JSON.parse(response.body) as { id: string; model: string } };
}

async function objects(): Promise<string[]> {
  const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: PREFIX }));
  return (listed.Contents ?? []).map((o) => o.Key ?? '').sort();
}

describe('POST /feedback on S3', () => {
  const text = 'When the exam results were posted on the wall.';

  test('concurrent identical posts: one object, one id', async () => {
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => post({ model: 'emotion', text, label: 'fear' })),
    );
    const ids = new Set(answers.map((a) => a.body.id));
    assert.deepEqual(
      answers.map((a) => a.status),
      answers.map(() => 202),
    );
    assert.equal(ids.size, 1);
    assert.deepEqual(await objects(), [`${PREFIX}${feedbackKey('emotion', [...ids][0] as string)}`]);
    // Create-only on real S3 (the loser of a race gets 412 and answers with the same id). s3rver ignores
    // the header and overwrites with the same content, so here the request itself is what is checked.
    assert.equal(puts.length, 10);
    assert.ok(puts.every((headers) => headers['if-none-match'] === '*'));
  });

  test('a different label is a different feedback: two objects', async () => {
    const other = await post({ model: 'emotion', text, label: 'joy' });
    assert.equal(other.status, 202);
    const keys = await objects();
    assert.equal(keys.length, 2);
    assert.ok(keys.includes(`${PREFIX}${feedbackKey('emotion', other.body.id)}`));
  });

  test('training reads both records back for --name emotion, none for another name', async () => {
    const { records, malformed } = await readFeedback(s3.storage, `s3://${s3.bucket}/${PREFIX}`, 'emotion');
    assert.equal(malformed, 0);
    assert.deepEqual(records.map((r) => r.label).sort(), ['fear', 'joy']);
    assert.ok(records.every((r) => r.text === text && r.modelVersion === 'v1'));
    const none = await readFeedback(s3.storage, `s3://${s3.bucket}/${PREFIX}`, 'review-sentiment');
    assert.equal(none.records.length, 0);
  });
});
