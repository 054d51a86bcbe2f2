import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { text } from 'node:stream/consumers';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { LATEST_POINTER, MANIFEST_FILE, type Manifest, TOKENIZER_FILE } from '../../src/bundle/manifest.ts';
import { publishBundle } from '../../src/bundle/publish.ts';
import { loadBundle } from '../../src/bundle/read.ts';
import { sha256Hex } from '../../src/common/hash.ts';
import { BadRequestError, ConflictError, InternalError, NotFoundError } from '../../src/errors.ts';
import { selectBackend } from '../../src/model/backend.ts';
import { buildScorer } from '../../src/model/build.ts';
import { DirStore } from '../../src/storage/dir.ts';
import { defaultStorage, parseStorageUri } from '../../src/storage/index.ts';
import { makeTinyBundle, TINY_TEXTS } from '../helpers/tiny-bundle.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

describe('parseStorageUri', () => {
  test('s3 URIs get a prefix ending in / (or empty)', () => {
    assert.deepEqual(parseStorageUri('s3://my-bucket'), { kind: 's3', bucket: 'my-bucket', prefix: '' });
    assert.deepEqual(parseStorageUri('s3://my-bucket/'), { kind: 's3', bucket: 'my-bucket', prefix: '' });
    assert.deepEqual(parseStorageUri('s3://my-bucket/a/b'), {
      kind: 's3',
      bucket: 'my-bucket',
      prefix: 'a/b/',
    });
    assert.deepEqual(parseStorageUri(' s3://my.bucket/a/b/ '), {
      kind: 's3',
      bucket: 'my.bucket',
      prefix: 'a/b/',
    });
  });

  test('local paths: absolute, relative and file://', () => {
    assert.deepEqual(parseStorageUri('/srv/models'), { kind: 'dir', path: '/srv/models' });
    assert.deepEqual(parseStorageUri('models/x'), { kind: 'dir', path: resolve('models/x') });
    assert.deepEqual(parseStorageUri(pathToFileURL('/srv/my models').href), {
      kind: 'dir',
      path: '/srv/my models',
    });
  });

  test('bad URIs name what is wrong', () => {
    const cases: [string, RegExp][] = [
      ['', /empty/],
      ['s3://', /no bucket/],
      ['s3:///models', /no bucket/],
      ['s3://Bad_Bucket/x', /not a valid S3 bucket name/],
      ['s3://bucket/a/../b', /"\." and "\.\." are not allowed/],
      ['s3://bucket/a//b', /empty path segment/],
      ['https://example.com/model', /unsupported scheme "https"/],
      ['gs://bucket/model', /unsupported scheme "gs"/],
      ['file://remote-host/models', /not a valid file:\/\/ URI/],
    ];
    for (const [uri, message] of cases) {
      assert.throws(
        () => parseStorageUri(uri),
        (e: unknown) => e instanceof BadRequestError && message.test(e.message),
      );
    }
  });
});

describe('DirStore', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'store-dir-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  test('put creates folders, writes whole files and leaves no temp files', async () => {
    const store = new DirStore(root);
    await store.put('a/b/file.bin', Uint8Array.of(1, 2, 3));
    await store.put('a/b/file.bin', Uint8Array.of(4, 5));
    assert.deepEqual([...(await store.get('a/b/file.bin'))], [4, 5]);
    assert.deepEqual(await readdir(join(root, 'a/b')), ['file.bin']);
    assert.equal(await store.exists('a/b/file.bin'), true);
    assert.equal(await store.exists('a/b'), false, 'a folder is not an object');
    assert.equal(await store.hasAny('a/'), true);
    assert.equal(await store.hasAny('nothing/'), false);
  });

  test('a missing file is a NotFoundError naming its full path', async () => {
    const store = new DirStore(root);
    await assert.rejects(
      store.get('missing/x.json'),
      (e: unknown) => e instanceof NotFoundError && e.message.includes(join(root, 'missing/x.json')),
    );
    assert.equal(await store.exists('missing/x.json'), false);
  });

  test('putNew refuses to replace a file', async () => {
    const store = new DirStore(root);
    await store.putNew('new/one', encoder.encode('first'));
    await assert.rejects(store.putNew('new/one', encoder.encode('second')), ConflictError);
    assert.equal(decoder.decode(await store.get('new/one')), 'first');
    assert.deepEqual(await readdir(join(root, 'new')), ['one']);
  });

  test('keys cannot leave the root', async () => {
    const store = new DirStore(join(root, 'inner'));
    await assert.rejects(
      store.get('../outside'),
      (e: unknown) => e instanceof BadRequestError && /outside/.test(e.message),
    );
  });
});

describe('openStream (local)', () => {
  test('streams a file by path or file:// URI; a missing one fails when read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'open-stream-'));
    try {
      const path = join(dir, 'data.csv');
      await writeFile(path, '5,"title","text"\n');
      assert.equal(await text(defaultStorage().stream(path)), '5,"title","text"\n');
      assert.equal(await text(defaultStorage().stream(pathToFileURL(path).href)), '5,"title","text"\n');
      await assert.rejects(text(defaultStorage().stream(join(dir, 'nope.csv'))), NotFoundError);
      assert.throws(() => defaultStorage().stream('s3://bucket/prefix/'), BadRequestError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('byte ranges: inclusive start and end, open end, past the end is empty, bad ranges refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'range-stream-'));
    try {
      const path = join(dir, 'digits.txt');
      await writeFile(path, '0123456789');
      const storage = defaultStorage();
      assert.equal(await text(storage.stream(path, { start: 2, end: 5 })), '2345');
      assert.equal(await text(storage.stream(path, { start: 7 })), '789');
      assert.equal(await text(storage.stream(path, { start: 0, end: 0 })), '0');
      assert.equal(await text(storage.stream(path, { start: 8, end: 100 })), '89');
      assert.equal(await text(storage.stream(path, { start: 10 })), '');
      assert.equal(await text(new DirStore(dir).stream('digits.txt', { start: 9 })), '9');
      for (const range of [
        { start: -1 },
        { start: 5, end: 4 },
        { start: 1.5 },
        { start: 0, end: Number.NaN },
      ]) {
        assert.throws(() => storage.stream(path, range), BadRequestError, JSON.stringify(range));
      }
      await assert.rejects(text(storage.stream(join(dir, 'nope.txt'), { start: 1 })), NotFoundError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** Edits one file of a bundle and re-signs the manifest, so only the intended inconsistency remains. */
function tamper(
  files: ReadonlyMap<string, Uint8Array>,
  edit: { file?: string; bytes?: Uint8Array; manifest?: (m: Manifest) => void },
): Map<string, Uint8Array> {
  const out = new Map(files);
  if (edit.file && edit.bytes) out.set(edit.file, edit.bytes);
  const manifest = JSON.parse(decoder.decode(out.get(MANIFEST_FILE))) as Manifest;
  for (const [name, bytes] of out) {
    if (name !== MANIFEST_FILE) manifest.files[name] = { sha256: sha256Hex(bytes), bytes: bytes.byteLength };
  }
  edit.manifest?.(manifest);
  out.set(MANIFEST_FILE, encoder.encode(JSON.stringify(manifest)));
  return out;
}

function editTokenizer(files: ReadonlyMap<string, Uint8Array>, change: Record<string, unknown>): Uint8Array {
  const json = JSON.parse(decoder.decode(files.get(TOKENIZER_FILE))) as Record<string, unknown>;
  return encoder.encode(JSON.stringify({ ...json, ...change }));
}

describe('loadBundle + buildScorer from a folder', () => {
  let root: string;
  let files: Map<string, Uint8Array>;
  before(async () => {
    await selectBackend('cpu');
    root = await mkdtemp(join(tmpdir(), 'bundle-dir-'));
    files = (await makeTinyBundle()).files;
    await publishBundle(files, root);
  });
  after(() => rm(root, { recursive: true, force: true }));

  test('a version folder and a root with latest load the same verified files', async () => {
    const byVersion = await loadBundle(join(root, 'v1'));
    const byRoot = await loadBundle(pathToFileURL(root).href);
    assert.equal(byRoot.version, 'v1');
    assert.equal(byRoot.uri, join(root, 'v1/'));
    assert.deepEqual(byRoot.files, files);
    assert.deepEqual(byVersion.files, files);
    assert.equal(
      byRoot.timings.bytes,
      [...files.values()].reduce((n, b) => n + b.byteLength, 0),
    );
    const scorer = await buildScorer(byRoot);
    const predictions = await scorer.predict(TINY_TEXTS);
    assert.equal(predictions.length, TINY_TEXTS.length);
    assert.deepEqual(await (await buildScorer(byVersion)).predict(TINY_TEXTS), predictions);
  });

  test('a folder with neither manifest.json nor latest says so', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'bundle-empty-'));
    try {
      await assert.rejects(loadBundle(empty), (e: unknown) => {
        return (
          e instanceof NotFoundError && e.message.includes(empty) && /neither manifest\.json/.test(e.message)
        );
      });
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  test('a bad or dangling latest pointer is a InternalError', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bundle-pointer-'));
    try {
      await writeFile(join(dir, LATEST_POINTER), '../../etc\n');
      await assert.rejects(
        loadBundle(dir),
        (e: unknown) => e instanceof InternalError && /not a version id/.test(e.message),
      );
      await writeFile(join(dir, LATEST_POINTER), 'v9\n');
      await assert.rejects(
        loadBundle(dir),
        (e: unknown) =>
          e instanceof InternalError &&
          /latest names version v9, which has no manifest\.json/.test(e.message),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a changed file fails its checksum, naming the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bundle-sum-'));
    try {
      await publishBundle(files, dir);
      const tokenizer = await readFile(join(dir, 'v1', TOKENIZER_FILE));
      tokenizer[tokenizer.length - 4] = 'x'.charCodeAt(0);
      await writeFile(join(dir, 'v1', TOKENIZER_FILE), tokenizer);
      await assert.rejects(
        loadBundle(dir),
        (e: unknown) =>
          e instanceof InternalError && /tokenizer\.json: sha256 [0-9a-f]{64} does not match/.test(e.message),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  const cases: [string, () => Map<string, Uint8Array>, RegExp][] = [
    [
      'manifest.json that is not JSON',
      () => new Map([...files, [MANIFEST_FILE, encoder.encode('{"format": ')]]),
      /manifest\.json is not valid JSON/,
    ],
    [
      'tokenizer.json that is not JSON',
      () => tamper(files, { file: TOKENIZER_FILE, bytes: encoder.encode('not json') }),
      /tokenizer\.json is not valid JSON/,
    ],
    [
      'a tokenizer numWords different from the manifest',
      () => tamper(files, { file: TOKENIZER_FILE, bytes: editTokenizer(files, { numWords: 41 }) }),
      /tokenizer\.json numWords is 41 but manifest\.json preprocessing says 40/,
    ],
    [
      'a tokenizer normalizer different from the manifest',
      () =>
        tamper(files, {
          file: TOKENIZER_FILE,
          bytes: editTokenizer(files, { normalizer: 'unicode-words-v1' }),
        }),
      /tokenizer\.json normalizer is "unicode-words-v1" but manifest\.json preprocessing says "keras-original-v1"/,
    ],
    [
      'fewer labels than model outputs',
      () =>
        tamper(files, { manifest: (m) => Object.assign(m, { labels: ['neg', 'pos'], labelValues: null }) }),
      /the model outputs 5 classes but manifest\.json lists 2 labels/,
    ],
    [
      'an embedding smaller than the vocabulary',
      () =>
        tamper(files, {
          file: TOKENIZER_FILE,
          bytes: editTokenizer(files, { numWords: 60 }),
          manifest: (m) => Object.assign(m.preprocessing, { numWords: 60 }),
        }),
      /the embedding takes 40 word ids but manifest\.json preprocessing\.numWords is 60/,
    ],
    [
      'a maskZero claim the model does not honour',
      () => tamper(files, { manifest: (m) => Object.assign(m, { maskZero: false }) }),
      /the embedding has maskZero true but manifest\.json says maskZero false/,
    ],
    [
      'fewer labels than the ONNX graph outputs (RUNTIME=onnx)',
      () =>
        tamper(files, { manifest: (m) => Object.assign(m, { labels: ['neg', 'pos'], labelValues: null }) }),
      /model\.onnx outputs 5 classes but manifest\.json lists 2 labels/,
    ],
  ];
  for (const [name, make, message] of cases) {
    test(`InternalError for ${name}`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'bundle-bad-'));
      // model.json's checks are the tfjs runtime's; the graph's, ONNX Runtime's.
      const runtime = name.includes('ONNX') ? 'onnx' : 'tfjs';
      try {
        const bad = make();
        for (const [file, bytes] of bad) await writeFile(join(dir, file), bytes);
        await assert.rejects(
          loadBundle(dir).then((b) => buildScorer(b, { runtime })),
          (e: unknown) => e instanceof InternalError && e.message.includes(dir) && message.test(e.message),
        );
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
