/**
 * Whole-object reads without the AWS SDK (src/storage/s3-get.ts) against a real S3-protocol server that
 * checks signatures (s3rver): the bytes, awkward keys, the errors the SDK path gives, and every fault
 * handed to the SDK with its retries.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { publishBundle } from '../../src/bundle/publish.ts';
import { loadBundle } from '../../src/bundle/read.ts';
import { NotFoundError, UnavailableError } from '../../src/errors.ts';
import { createStorage, type Storage } from '../../src/storage/index.ts';
import { FAST_GET_USER_AGENT } from '../../src/storage/s3-get.ts';
import {
  type FaultProxy,
  type S3rverHandle,
  startFaultProxy,
  startS3rver,
  testS3Client,
} from '../helpers/s3rver.ts';
import { sigV4Valid } from '../helpers/sigv4.ts';
import { makeTinyBundle } from '../helpers/tiny-bundle.ts';

const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const LIMITS = { connectionTimeoutMs: 500, requestTimeoutMs: 400, socketTimeoutMs: 400, maxAttempts: 2 };
const AWKWARD_KEYS = ['plain.txt', 'a b/c+d.txt', "ü/(1)!*'~.json", 'x/y%20z=&?.bin'];

describe('S3 reads without the SDK', () => {
  let s3: S3rverHandle;
  let proxy: FaultProxy;
  let fast: Storage;
  const uri = (key: string) => `s3://${s3.bucket}/data/${key}`;
  const agents = () => proxy.requests.map((r) => (r.userAgent === FAST_GET_USER_AGENT ? 'fast' : 'sdk'));

  before(async () => {
    s3 = await startS3rver();
    proxy = await startFaultProxy(s3.endpoint);
    const options = { endpoint: proxy.endpoint, region: 'us-east-1', credentials: CREDENTIALS, ...LIMITS };
    fast = createStorage({ s3: options });
    for (const [i, key] of AWKWARD_KEYS.entries()) {
      const body = new TextEncoder().encode(`object ${i}: ${key}`);
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `data/${key}`, Body: body }));
    }
  });
  after(async () => {
    await proxy.stop();
    await s3.stop();
  });
  beforeEach(() => {
    proxy.setRule(() => 'pass');
    proxy.requests.length = 0;
  });

  test('one signed GET per object, the bytes the SDK reads, awkward keys included', async () => {
    const store = fast.store(`s3://${s3.bucket}/data/`);
    const fastBytes: Uint8Array[] = [];
    for (const key of AWKWARD_KEYS) fastBytes.push(await store.get(key));
    const viaSdk = createStorage({ s3: testS3Client(proxy.endpoint) }).store(`s3://${s3.bucket}/data/`);
    for (const [i, key] of AWKWARD_KEYS.entries()) assert.deepEqual(fastBytes[i], await viaSdk.get(key), key);
    assert.deepEqual(agents(), [...AWKWARD_KEYS.map(() => 'fast'), ...AWKWARD_KEYS.map(() => 'sdk')]);
    // s3rver does not check v4 signatures: an independent check does, validated on the SDK's requests.
    for (const request of proxy.requests) {
      assert.ok(sigV4Valid(request, CREDENTIALS.secretAccessKey), `${request.userAgent} ${request.url}`);
      assert.ok(!sigV4Valid(request, 'WRONG'), 'the check can fail');
    }
  });

  test('a bundle loads through latest exactly as through the SDK', async () => {
    const { files } = await makeTinyBundle({ version: 'v1' });
    const root = `s3://${s3.bucket}/models/tiny/`;
    await publishBundle(files, root, { storage: s3.storage });
    proxy.requests.length = 0;
    const viaFast = await loadBundle(root, { storage: fast });
    assert.deepEqual(viaFast.files, (await loadBundle(root, { storage: s3.storage })).files);
    assert.ok(agents().length >= files.size && agents().every((a) => a === 'fast'), agents().join());
  });

  test("a missing object or bucket is the SDK path's NotFoundError, without asking the SDK", async () => {
    const missing = [uri('missing.txt'), `s3://no-such-bucket-here/data/missing.txt`];
    for (const name of missing) {
      const viaSdk = await s3.storage
        .store(name.replace(/[^/]*$/, ''))
        .get('missing.txt')
        .catch((e) => e);
      const viaFast = await fast
        .store(name.replace(/[^/]*$/, ''))
        .get('missing.txt')
        .catch((e) => e);
      assert.ok(viaFast instanceof NotFoundError, String(viaFast));
      assert.equal(viaFast.message, (viaSdk as Error).message);
    }
    assert.deepEqual(agents(), ['fast', 'fast']);
  });

  test('wrong credentials: 403 as an UnavailableError naming the object', async () => {
    const wrong = createStorage({
      s3: { endpoint: proxy.endpoint, credentials: { ...CREDENTIALS, accessKeyId: 'WRONG' }, ...LIMITS },
    });
    await assert.rejects(
      wrong.store(`s3://${s3.bucket}/data/`).get('plain.txt'),
      (e: unknown) =>
        e instanceof UnavailableError &&
        e.message.startsWith(`${uri('plain.txt')}: `) &&
        /403/.test(e.message),
    );
  });

  for (const fault of ['error500', 'stall', 'reset', 'short'] as const) {
    test(`${fault} on the fast GET: the SDK reads the object instead, with its retries`, async () => {
      let first = true;
      proxy.setRule(() => {
        if (!first) return 'pass';
        first = false;
        return fault === 'short' ? 'truncate' : fault;
      });
      const bytes = await fast.store(`s3://${s3.bucket}/data/`).get('plain.txt');
      assert.equal(new TextDecoder().decode(bytes), 'object 0: plain.txt');
      assert.deepEqual(agents(), ['fast', 'sdk']);
    });
  }
});
