import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { decodeBody, requestMeta, toHttpRequest } from '../../src/function/http/event.ts';
import { toProblem } from '../../src/function/http/problems.ts';
import { loadEvent } from '../helpers/events.ts';

/** Matches an error whose HTTP problem has this status. */
const withStatus =
  (status: number) =>
  (error: unknown): boolean =>
    toProblem(error).problem.status === status;

const LIMIT = 1_000_000;
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('toHttpRequest', () => {
  test('HTTP API (payload 2.0) event', async () => {
    const event = await loadEvent('predictions-4-reviews.json');
    const request = toHttpRequest(event, 'fallback', LIMIT);
    assert.equal(request.payloadVersion, '2.0');
    assert.equal(request.method, 'POST');
    assert.equal(request.path, '/predictions');
    assert.equal(request.requestId, event.requestContext.requestId);
    assert.equal(request.headers['content-type'], 'application/json');
    assert.equal(text(request.body), event.body);
  });

  test('REST API (payload 1.0) event: mixed-case headers are lower-cased, stage is not in the path', async () => {
    const event = await loadEvent('predictions-v1-rest.json');
    const request = toHttpRequest(event, 'fallback', LIMIT);
    assert.equal(request.payloadVersion, '1.0');
    assert.equal(request.path, '/predictions');
    assert.equal(request.headers['content-type'], 'application/json');
    assert.equal(request.headers['Content-Type'], undefined);
    assert.equal(request.requestId, event.requestContext.requestId);
  });

  test('a named HTTP API stage is stripped from rawPath; other prefixes are kept', async () => {
    const event = await loadEvent('predictions-named-stage.json');
    assert.equal(event.rawPath, '/prod/predictions');
    assert.equal(toHttpRequest(event, 'x', LIMIT).path, '/predictions');
    const other = structuredClone(event);
    other.rawPath = '/production/predictions';
    assert.equal(toHttpRequest(other, 'x', LIMIT).path, '/production/predictions');
  });

  test('trailing slashes do not change the route; a lower-case method is upper-cased', async () => {
    const event = await loadEvent('health.json');
    event.rawPath = '/health/';
    (event.requestContext as unknown as { http: { method: string } }).http.method = 'get';
    const request = toHttpRequest(event, 'x', LIMIT);
    assert.equal(request.path, '/health');
    assert.equal(request.method, 'GET');
  });

  test('runs of slashes cost linear time: a 1M-slash path is cleaned within 250 ms', async () => {
    const event = await loadEvent('health.json');
    const run = '/'.repeat(1_000_000);
    // Slashes before a non-slash made `/\/+$/` retry from every slash: 50k of them took ~4 s.
    const cases: [string, string][] = [
      [`${run}x`, `${run}x`],
      [`/a${run}b`, `/a${run}b`],
      [`/health${run}`, '/health'],
      [run, '/'],
    ];
    for (const [rawPath, path] of cases) {
      event.rawPath = rawPath;
      const started = performance.now();
      const request = toHttpRequest(event, 'x', LIMIT);
      const meta = requestMeta({ httpMethod: 'GET', path: rawPath });
      const ms = performance.now() - started;
      assert.equal(request.path, path);
      assert.equal(meta.path, path);
      assert.ok(ms < 250, `${rawPath.length}-character path took ${ms.toFixed(0)} ms`);
    }
  });

  test('base64 bodies are decoded', async () => {
    const event = await loadEvent('predictions-base64.json');
    const request = toHttpRequest(event, 'x', LIMIT);
    assert.deepEqual(JSON.parse(text(request.body)), [
      'Amazing product! I love it, great value.',
      'Très bien, café délicieux ☕',
    ]);
  });

  test('a missing body is empty; the fallback id is used when the event has none', async () => {
    const event = await loadEvent('health.json');
    delete (event.requestContext as { requestId?: string }).requestId;
    const request = toHttpRequest(event, 'lambda-id', LIMIT);
    assert.equal(request.body.byteLength, 0);
    assert.equal(request.requestId, 'lambda-id');
  });

  test('anything that is not an API Gateway proxy event is a 400', () => {
    for (const event of [null, 'text', {}, { version: '2.0' }, { httpMethod: 'GET' }, { Records: [] }]) {
      assert.throws(() => toHttpRequest(event, 'x', LIMIT), withStatus(400));
    }
  });
});

describe('decodeBody limits the decoded size', () => {
  test('UTF-8 bytes are counted, not characters', () => {
    const body = 'é'.repeat(10); // 20 bytes
    assert.equal(decodeBody(body, false, 20).byteLength, 20);
    assert.throws(() => decodeBody(body, false, 19), withStatus(413));
  });

  test('base64 is measured after decoding, and refused before decoding', () => {
    for (const size of [1, 2, 3, 30, 31, 32]) {
      const encoded = Buffer.alloc(size, 7).toString('base64');
      assert.equal(decodeBody(encoded, true, size).byteLength, size, `size ${size}`);
      assert.throws(() => decodeBody(encoded, true, size - 1), withStatus(413), `size ${size}`);
    }
  });

  test('invalid base64 is a 400 that says so, not silently skipped characters', () => {
    for (const body of ['not base64!', 'WyJ4Il0', 'WyJ4Il0==', 'WyJ4 Il0=', 'WyJ4Il0=\n', '====']) {
      assert.throws(
        () => decodeBody(body, true, LIMIT),
        (error: unknown) =>
          withStatus(400)(error) && toProblem(error).problem.detail === 'the body is not valid base64',
        JSON.stringify(body),
      );
    }
    assert.equal(text(decodeBody('WyJ4Il0=', true, LIMIT)), '["x"]');
  });

  test('a non-string body is refused', () => {
    assert.throws(() => decodeBody({ reviews: [] }, false, LIMIT), withStatus(400));
  });
});

describe('Content-Encoding is decoded within the limit, measured after decoding', () => {
  // Compressible, so the encoded body is smaller than the limit that the decoded one exceeds.
  const json = Buffer.from(JSON.stringify(Array.from({ length: 50 }, () => 'The book was very poor')));
  const encoders: Record<string, (bytes: Uint8Array) => Buffer> = {
    gzip: gzipSync,
    deflate: deflateSync,
    br: brotliCompressSync,
  };
  const eventWith = async (body: Uint8Array, encoding: string) => {
    const event = await loadEvent('predictions-4-reviews.json');
    event.headers = { 'content-type': 'application/json', 'content-encoding': encoding };
    event.body = Buffer.from(body).toString('base64');
    event.isBase64Encoded = true;
    return event;
  };

  for (const [coding, encode] of Object.entries(encoders)) {
    test(`${coding}: decoded; over the limit after decoding is 413; corrupt is 400`, async () => {
      const request = toHttpRequest(await eventWith(encode(json), coding.toUpperCase()), 'x', LIMIT);
      assert.deepEqual(Buffer.from(request.body), json);
      const exact = toHttpRequest(await eventWith(encode(json), coding), 'x', json.length);
      assert.equal(exact.body.byteLength, json.length);
      const over = await eventWith(encode(json), coding);
      assert.throws(() => toHttpRequest(over, 'x', json.length - 1), withStatus(413));
      const corrupt = await eventWith(json, coding);
      assert.throws(
        () => toHttpRequest(corrupt, 'x', LIMIT),
        (error: unknown) => withStatus(400)(error) && /not valid/.test(toProblem(error).problem.detail),
      );
    });
  }

  test('a zip bomb stops early: 200 MB of zeros in ~200 kB of gzip is refused in well under a second', async () => {
    // 200 gzip members of 1 MB of zeros each: one stream to gunzip, made without compressing 200 MB.
    const member = gzipSync(Buffer.alloc(2 ** 20));
    const bomb = await eventWith(Buffer.concat(Array.from({ length: 200 }, () => member)), 'gzip');
    const started = performance.now();
    assert.throws(() => toHttpRequest(bomb, 'x', LIMIT), withStatus(413));
    const ms = performance.now() - started;
    assert.ok(ms < 300, `refusing the bomb took ${ms.toFixed(0)} ms`);
  });

  test('identity passes through; unknown or stacked codings are 415 with Accept-Encoding', async () => {
    assert.deepEqual(Buffer.from(toHttpRequest(await eventWith(json, 'identity'), 'x', LIMIT).body), json);
    for (const coding of ['compress', 'zstd', 'gzip, br']) {
      const event = await eventWith(gzipSync(json), coding);
      assert.throws(
        () => toHttpRequest(event, 'x', LIMIT),
        (error: unknown) =>
          withStatus(415)(error) && toProblem(error).headers['accept-encoding'] === 'gzip, deflate, br',
        coding,
      );
    }
  });
});

describe('requestMeta', () => {
  test('reads id, method and path without throwing, even from junk', async () => {
    const v1 = await loadEvent('health-v1-rest.json');
    assert.deepEqual(requestMeta(v1), {
      requestId: v1.requestContext.requestId,
      method: 'GET',
      path: '/health',
    });
    assert.deepEqual(requestMeta(42), { requestId: undefined, method: undefined, path: undefined });
  });
});
