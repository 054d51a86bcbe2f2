/**
 * Loading a bundle from a real S3-protocol server, by version prefix and through `latest`, and the cold
 * start faults: each gives a clear UnavailableError, and the next get() recovers once the fault is fixed.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { after, before, describe, test } from 'node:test';
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { MANIFEST_FILE, TOKENIZER_FILE } from '../../src/bundle/manifest.ts';
import { publishBundle } from '../../src/bundle/publish.ts';
import { loadBundle } from '../../src/bundle/read.ts';
import { BadRequestError, NotFoundError, UnavailableError } from '../../src/errors.ts';
import { BACKOFF_MAX_MS } from '../../src/function/backoff.ts';
import { createModelService, type ModelService } from '../../src/function/service.ts';
import { selectBackend } from '../../src/model/backend.ts';
import { buildScorer } from '../../src/model/build.ts';
import { ONNX_FILE } from '../../src/model/onnx/io.ts';
import { createStorage } from '../../src/storage/index.ts';
import {
  type FaultProxy,
  type S3rverHandle,
  startFaultProxy,
  startS3rver,
  testS3Client,
} from '../helpers/s3rver.ts';
import { makeTinyBundle, TINY_TEXTS } from '../helpers/tiny-bundle.ts';

const PREFIX = 'models/review-sentiment/';
/** Short limits so the fault tests take well under a second each; production uses S3_DEFAULTS. */
const FAST_FAIL = { connectionTimeoutMs: 500, requestTimeoutMs: 400, socketTimeoutMs: 400, maxAttempts: 2 };

describe('bundles on S3', () => {
  let s3: S3rverHandle;
  let proxy: FaultProxy;
  let viaProxy: S3Client;
  let files: Map<string, Uint8Array>;
  let dir: string;
  let rootUri: string;

  before(async () => {
    await selectBackend('cpu');
    s3 = await startS3rver();
    proxy = await startFaultProxy(s3.endpoint);
    viaProxy = testS3Client(proxy.endpoint, FAST_FAIL);
    files = (await makeTinyBundle({ version: 'v1' })).files;
    rootUri = `s3://${s3.bucket}/${PREFIX}`;
    await publishBundle(files, rootUri, { storage: s3.storage });
    dir = await mkdtemp(join(tmpdir(), 's3-bundle-'));
    await publishBundle(files, dir);
  });
  after(async () => {
    viaProxy.destroy();
    await proxy.stop();
    await s3.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const putObject = (name: string, bytes: Uint8Array) =>
    s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `${PREFIX}v1/${name}`, Body: bytes }));

  test('a version prefix and the latest pointer load the same bundle as the folder, with equal predictions', async (t) => {
    const byVersion = await loadBundle(`${rootUri}v1`, { storage: s3.storage });
    const byLatest = await loadBundle(rootUri, { storage: s3.storage });
    const fromDir = await loadBundle(dir);
    assert.equal(byLatest.uri, `${rootUri}v1/`);
    assert.equal(byVersion.uri, `${rootUri}v1/`);
    assert.deepEqual(byLatest.files, fromDir.files);
    assert.deepEqual(byVersion.files, fromDir.files);
    const expected = await (await buildScorer(fromDir)).predict(TINY_TEXTS);
    assert.deepEqual(await (await buildScorer(byVersion)).predict(TINY_TEXTS), expected);
    assert.deepEqual(await (await buildScorer(byLatest)).predict(TINY_TEXTS), expected);
    t.diagnostic(`s3 via latest: ${JSON.stringify(byLatest.timings)}`);
  });

  test('cold start through the service logs fetch/verify/build/warm-up timings', async (t) => {
    const logs: object[] = [];
    const service = createModelService({
      modelUri: rootUri,
      storage: s3.storage,
      backend: 'cpu',
      logger: { info: (_msg, extra = {}) => logs.push(extra), error: () => undefined },
    });
    const loaded = await service.get();
    assert.equal(loaded.manifest.version, 'v1');
    assert.equal(logs.length, 1);
    t.diagnostic(`cold start from s3rver: ${JSON.stringify(logs[0])}`);
  });

  test('openStream reads an s3:// object as a stream; a missing one fails naming it', async () => {
    const csv = '5,"Great","Works well"\n1,"Bad","Broke"\n';
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'data/train.csv', Body: csv }));
    assert.equal(await text(s3.storage.stream(`s3://${s3.bucket}/data/train.csv`)), csv);
    await assert.rejects(
      text(s3.storage.stream(`s3://${s3.bucket}/data/missing.csv`)),
      (e: unknown) => e instanceof NotFoundError && e.message.includes(`s3://${s3.bucket}/data/missing.csv`),
    );
  });

  test('byte ranges map to GetObject Range: inclusive, open-ended, past the end empty', async () => {
    await s3.client.send(
      new PutObjectCommand({ Bucket: s3.bucket, Key: 'data/digits.txt', Body: '0123456789' }),
    );
    const uri = `s3://${s3.bucket}/data/digits.txt`;
    assert.equal(await text(s3.storage.stream(uri, { start: 2, end: 5 })), '2345');
    assert.equal(await text(s3.storage.stream(uri, { start: 7 })), '789');
    // (bytes=0-0 is one byte on S3; s3rver reads an end of 0 as "to the end", so it is not asserted here.)
    assert.equal(await text(s3.storage.stream(uri, { start: 0, end: 1 })), '01');
    assert.equal(await text(s3.storage.stream(uri, { start: 8, end: 100 })), '89');
    assert.equal(await text(s3.storage.stream(uri, { start: 10 })), '');
    const store = s3.storage.store(`s3://${s3.bucket}/data/`);
    assert.equal(await text(store.stream('digits.txt', { start: 9 })), '9');
    assert.throws(() => store.stream('digits.txt', { start: 3, end: 2 }), BadRequestError);
    await assert.rejects(
      text(s3.storage.stream(`s3://${s3.bucket}/data/missing.csv`, { start: 1 })),
      NotFoundError,
    );
  });

  /** Fails once with the fault in place, then recovers on the same service after `fix`. */
  async function failsThenRecovers(service: ModelService, expected: RegExp, fix: () => Promise<void> | void) {
    const start = performance.now();
    await assert.rejects(service.get(), (e: unknown) => {
      assert.ok(e instanceof UnavailableError, `expected UnavailableError, got ${String(e)}`);
      assert.match(e.message, expected);
      return true;
    });
    const failMs = performance.now() - start;
    assert.equal(service.status().state, 'failed');
    await fix();
    now += BACKOFF_MAX_MS; // past the back-off, without sleeping through it
    const loaded = await service.get();
    assert.equal(loaded.manifest.version, 'v1');
    assert.equal(service.status().state, 'ready');
    return failMs;
  }

  /** The services' back-off clock: advanced by hand, so a retry does not depend on how long a fix took. */
  let now = 0;
  const newService = () =>
    createModelService({
      modelUri: rootUri,
      storage: createStorage({ s3: viaProxy }),
      backend: 'cpu',
      clock: () => now,
    });

  // The service serves the bundle on ONNX Runtime, which reads model.onnx and tokenizer.json only.
  test('a missing object is named by its full URI', async () => {
    await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: `${PREFIX}v1/${ONNX_FILE}` }));
    await failsThenRecovers(
      newService(),
      new RegExp(`${rootUri}v1/model\\.onnx: no such object`),
      async () => void (await putObject(ONNX_FILE, files.get(ONNX_FILE) ?? new Uint8Array())),
    );
  });

  test('a file that does not match its sha256 is refused', async () => {
    const original = files.get(TOKENIZER_FILE) ?? new Uint8Array();
    const changed = Uint8Array.from(original);
    changed[changed.length - 4] = (changed[changed.length - 4] ?? 0) === 0x78 ? 0x79 : 0x78;
    await putObject(TOKENIZER_FILE, changed);
    await failsThenRecovers(
      newService(),
      /tokenizer\.json: sha256 [0-9a-f]{64} does not match manifest\.json/,
      async () => void (await putObject(TOKENIZER_FILE, original)),
    );
  });

  test('a manifest.json that is not JSON is named', async () => {
    await putObject(MANIFEST_FILE, new TextEncoder().encode('<html>oops</html>'));
    await failsThenRecovers(
      newService(),
      new RegExp(`bundle ${rootUri}v1/: manifest\\.json is not valid JSON`),
      async () => void (await putObject(MANIFEST_FILE, files.get(MANIFEST_FILE) ?? new Uint8Array())),
    );
  });

  test('a stalled S3 hits the client timeout instead of hanging the cold start', async () => {
    proxy.setRule(() => 'stall');
    const failMs = await failsThenRecovers(
      newService(),
      /TimeoutError.*400 ms requestTimeout.*after 2 attempts/,
      () => proxy.setRule(() => 'pass'),
    );
    // Two attempts of 400 ms plus backoff; without the timeout this would wait forever.
    assert.ok(failMs < 3000, `failed after ${failMs} ms`);
  });

  test('a stall on one file while the others arrive still fails cleanly', async () => {
    proxy.setRule(({ path }) => (path.endsWith(`/${ONNX_FILE}`) ? 'stall' : 'pass'));
    await failsThenRecovers(newService(), /model\.onnx: TimeoutError/, () => proxy.setRule(() => 'pass'));
  });

  test('S3 answering 500 is reported with the status after the retries', async () => {
    proxy.setRule(() => 'error500');
    await failsThenRecovers(
      newService(),
      /InternalError \(HTTP 500\): injected by the test proxy \[after 2 attempts\]/,
      () => proxy.setRule(() => 'pass'),
    );
    assert.ok(proxy.requests.some((r) => r.fault === 'error500'));
  });

  test('S3 refusing connections is reported, and the next get() reconnects', async () => {
    const port = proxy.port;
    await proxy.stop();
    await failsThenRecovers(newService(), /ECONNREFUSED/, async () => {
      proxy = await startFaultProxy(s3.endpoint, port);
    });
  });
});
