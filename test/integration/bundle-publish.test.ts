/**
 * Publishing to a real S3-protocol server and to a folder: complete versions, immutability, and a
 * `latest` pointer that moves only after a complete, verified upload.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { LATEST_POINTER, MANIFEST_FILE, TOKENIZER_FILE } from '../../src/bundle/manifest.ts';
import { publishBundle } from '../../src/bundle/publish.ts';
import { loadBundle } from '../../src/bundle/read.ts';
import { WEIGHTS_FILE } from '../../src/bundle/serialize.ts';
import { ConflictError, UnavailableError } from '../../src/errors.ts';
import { selectBackend } from '../../src/model/backend.ts';
import { createStorage } from '../../src/storage/index.ts';

import {
  type FaultProxy,
  type S3rverHandle,
  startFaultProxy,
  startS3rver,
  testS3Client,
} from '../helpers/s3rver.ts';
import { makeTinyBundle } from '../helpers/tiny-bundle.ts';

type Files = Map<string, Uint8Array>;

describe('publishBundle', () => {
  let s3: S3rverHandle;
  let proxy: FaultProxy;
  let viaProxy: S3Client;
  let bundles: Record<'v1' | 'v2' | 'v3' | 'v4', Files>;
  let dir: string;

  before(async () => {
    await selectBackend('cpu');
    s3 = await startS3rver();
    proxy = await startFaultProxy(s3.endpoint);
    viaProxy = testS3Client(proxy.endpoint, { maxAttempts: 2, requestTimeoutMs: 1000 });
    const make = async (version: string, seed: number) => (await makeTinyBundle({ version, seed })).files;
    bundles = {
      v1: await make('v1', 1),
      v2: await make('v2', 2),
      v3: await make('v3', 3),
      v4: await make('v4', 4),
    };
    dir = await mkdtemp(join(tmpdir(), 'publish-'));
  });
  after(async () => {
    viaProxy.destroy();
    await proxy.stop();
    await s3.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const s3Text = async (key: string): Promise<string> => {
    const out = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
    return (await out.Body?.transformToString()) ?? '';
  };
  const s3Keys = async (prefix: string): Promise<string[]> => {
    const out = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }));
    return (out.Contents ?? []).map((o) => o.Key ?? '').sort();
  };

  test('to S3: every file lands under <root>/<version>/ and latest names it', async () => {
    const lines: string[] = [];
    const root = `s3://${s3.bucket}/pub/`;
    const published = await publishBundle(bundles.v1, root, {
      storage: s3.storage,
      log: (m) => lines.push(m),
    });
    assert.deepEqual(published, { uri: `${root}v1/`, version: 'v1' });
    assert.deepEqual(await s3Keys('pub/'), [
      'pub/latest',
      ...[...bundles.v1.keys()].map((name) => `pub/v1/${name}`).sort(),
    ]);
    assert.equal(await s3Text('pub/latest'), 'v1\n');
    assert.deepEqual((await loadBundle(root, { storage: s3.storage })).files, bundles.v1);
    assert.ok(lines.some((l) => l.includes('latest -> v1')));

    await publishBundle(bundles.v2, root, { storage: s3.storage });
    assert.equal(await s3Text('pub/latest'), 'v2\n');
    assert.equal((await loadBundle(root, { storage: s3.storage })).version, 'v2');
    assert.deepEqual((await loadBundle(`${root}v1/`, { storage: s3.storage })).files, bundles.v1, 'v1 stays');
  });

  test('to a folder: same layout, no temp files left behind', async () => {
    const published = await publishBundle(bundles.v1, dir);
    assert.deepEqual(published, { uri: join(dir, 'v1/'), version: 'v1' });
    assert.deepEqual((await readdir(dir)).sort(), [LATEST_POINTER, 'v1']);
    assert.deepEqual((await readdir(join(dir, 'v1'))).sort(), [...bundles.v1.keys()].sort());
    assert.equal(await readFile(join(dir, LATEST_POINTER), 'utf8'), 'v1\n');
    assert.deepEqual((await loadBundle(dir)).files, bundles.v1);
  });

  test('setLatest: false publishes a version without promoting it', async () => {
    const root = join(dir, 'candidates');
    await publishBundle(bundles.v1, root);
    await publishBundle(bundles.v2, root, { setLatest: false });
    assert.equal(await readFile(join(root, LATEST_POINTER), 'utf8'), 'v1\n');
    assert.equal((await loadBundle(join(root, 'v2'))).version, 'v2');
  });

  test('an existing version is never overwritten', async () => {
    const root = `s3://${s3.bucket}/pub/`;
    await assert.rejects(
      publishBundle(bundles.v1, root, { storage: s3.storage }),
      (e: unknown) => e instanceof ConflictError && /pub\/v1\/: this version already exists/.test(e.message),
    );
    await assert.rejects(
      publishBundle(bundles.v1, dir),
      /this version already exists; versions are immutable/,
    );
    assert.equal(await s3Text('pub/latest'), 'v2\n');
    assert.equal(await readFile(join(dir, LATEST_POINTER), 'utf8'), 'v1\n');
  });

  test('a version prefix holding stray files (no manifest) is refused too', async () => {
    await s3.client.send(
      new PutObjectCommand({ Bucket: s3.bucket, Key: 'stray/v1/weights.bin', Body: Uint8Array.of(1) }),
    );
    await assert.rejects(
      publishBundle(bundles.v1, `s3://${s3.bucket}/stray/`, { storage: s3.storage }),
      /already holds files without a manifest/,
    );
    assert.deepEqual(await s3Keys('stray/'), ['stray/v1/weights.bin']);
  });

  test('an incomplete or unlisted bundle is refused before anything is written', async () => {
    const missing = new Map(bundles.v3);
    missing.delete(WEIGHTS_FILE);
    await assert.rejects(
      publishBundle(missing, `s3://${s3.bucket}/bad/`, { storage: s3.storage }),
      /the bundle is not valid: weights\.bin is listed in manifest\.json but was not read/,
    );
    const extra = new Map([...bundles.v3, ['notes.txt', Uint8Array.of(1)]]);
    await assert.rejects(
      publishBundle(extra, `s3://${s3.bucket}/bad/`, { storage: s3.storage }),
      /notes\.txt not listed/,
    );
    await assert.rejects(publishBundle(new Map(), dir), /has no manifest\.json/);
    assert.deepEqual(await s3Keys('bad/'), []);
  });

  test('an upload failing mid-way leaves latest on the old version and writes no manifest', async () => {
    const root = `s3://${s3.bucket}/pub/`;
    proxy.setRule(({ method, path }) =>
      method === 'PUT' && path.endsWith(`/v3/${WEIGHTS_FILE}`) ? 'error500' : 'pass',
    );
    await assert.rejects(
      publishBundle(bundles.v3, root, { storage: createStorage({ s3: viaProxy }) }),
      (e: unknown) => {
        return (
          e instanceof UnavailableError &&
          /pub\/v3\/weights\.bin: InternalError \(HTTP 500\)/.test(e.message) &&
          /latest was not moved/.test(e.message)
        );
      },
    );
    proxy.setRule(() => 'pass');
    assert.equal(await s3Text('pub/latest'), 'v2\n');
    assert.ok(!(await s3Keys('pub/v3/')).includes(`pub/v3/${MANIFEST_FILE}`));
    assert.equal((await loadBundle(root, { storage: s3.storage })).version, 'v2');
    // The half-written prefix is not silently reused.
    await assert.rejects(publishBundle(bundles.v3, root, { storage: s3.storage }), /without a manifest/);
  });

  test('a file that reads back corrupted stops the publish before the manifest and latest', async () => {
    const root = `s3://${s3.bucket}/pub/`;
    proxy.setRule(({ method, path }) =>
      method === 'GET' && path.endsWith(`/v4/${TOKENIZER_FILE}`) ? 'corrupt' : 'pass',
    );
    await assert.rejects(
      publishBundle(bundles.v4, root, { storage: createStorage({ s3: viaProxy }) }),
      /tokenizer\.json: sha256 [0-9a-f]{64} does not match manifest\.json .*; latest was not moved/,
    );
    proxy.setRule(() => 'pass');
    assert.equal(await s3Text('pub/latest'), 'v2\n');
    assert.deepEqual(
      await s3Keys('pub/v4/'),
      [...bundles.v4.keys()]
        .filter((n) => n !== MANIFEST_FILE)
        .map((n) => `pub/v4/${n}`)
        .sort(),
    );
  });
});
