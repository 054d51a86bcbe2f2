/**
 * The local server over real HTTP on 127.0.0.1 with the real handler and a tiny real bundle, plus the
 * `npm start` and `npm run invoke` entry points as child processes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { startServerChild } from '../../bench/lib/server.ts';
import { loadConfig } from '../../src/function/config.ts';
import { createHandler } from '../../src/function/handler.ts';
import { createLogger } from '../../src/function/logger.ts';
import { createModelRegistry } from '../../src/function/models.ts';
import type { LoadedModel } from '../../src/function/service.ts';
import { type RunningServer, startServer } from '../../src/local/server.ts';
import { selectBackend } from '../../src/model/backend.ts';
import { makeTinyBundle, writeBundleDir } from '../helpers/tiny-bundle.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const FOUR = ['The book was very poor', 'Very nice!', 'The author could have done more', 'Amazing product!'];

let dir: string;
let modelUri: string;
let server: RunningServer;
let loaded: LoadedModel;

before(async () => {
  // The backend is chosen before the first tensor (the tiny bundle), as the service would.
  await selectBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'local-server-'));
  modelUri = join(dir, 'models');
  await writeBundleDir(modelUri, (await makeTinyBundle()).files, 'v1', { latest: true });
  const config = loadConfig({ MODEL_URI: modelUri, TFJS_BACKEND: 'cpu' });
  const models = createModelRegistry(config.models, config.defaultModel, { backend: config.backend });
  loaded = await models.default().get();
  const logger = createLogger({ level: 'SILENT' });
  server = await startServer({
    port: 0,
    host: '127.0.0.1',
    handler: createHandler({ models, config, logger }),
  });
});

after(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

const post = (
  body: string | Uint8Array,
  headers: Record<string, string> = { 'content-type': 'application/json' },
  url = server.url,
  path = '/predictions',
) => fetch(`${url}${path}`, { method: 'POST', body, headers });

describe('local server with the real handler', () => {
  test('the 4-review POST returns 4 predictions in input order', async () => {
    const response = await post(JSON.stringify(FOUR));
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/json');
    assert.match(response.headers.get('apigw-requestid') ?? '', /^[A-Za-z0-9+/]{15}=$/);
    const body = (await response.json()) as { model: unknown; predictions: unknown[] };
    assert.deepEqual(body.model, { name: loaded.manifest.name, version: 'v1' });
    assert.deepEqual(body.predictions, await loaded.scorer.predict(FOUR));
  });

  test('a body without content-type arrives base64-encoded and is read as JSON', async () => {
    const response = await post(new TextEncoder().encode(JSON.stringify({ reviews: ['Très bien ☕'] })), {});
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { predictions: unknown[] }).predictions.length, 1);
  });

  test('health reports ready, the backend and the limits', async () => {
    const response = await fetch(`${server.url}/health`);
    assert.equal(response.status, 200);
    const body = (await response.json()) as Record<string, unknown>;
    assert.equal(body.status, 'ready');
    assert.equal(body.backend, loaded.backend);
    assert.equal(body.runtime, loaded.runtime);
    assert.deepEqual(body.limits, { maxReviews: 100, maxReviewChars: 20_000, maxBodyBytes: 2_200_000 });
  });

  test('404, 405 with Allow, 415, 422 as problem+json', async () => {
    const notFound = await fetch(`${server.url}/nope`);
    assert.equal(notFound.status, 404);
    assert.equal(notFound.headers.get('content-type'), 'application/problem+json');
    const problem = (await notFound.json()) as { instance: string };
    assert.equal(problem.instance, notFound.headers.get('apigw-requestid'));

    const wrongMethod = await fetch(`${server.url}/predictions`);
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get('allow'), 'POST');
    await wrongMethod.body?.cancel();

    const text = await post('The book was very poor', { 'content-type': 'text/plain' });
    assert.equal(text.status, 415);
    await text.body?.cancel();

    const invalid = await post(JSON.stringify(['ok', 3]));
    assert.equal(invalid.status, 422);
    assert.deepEqual(((await invalid.json()) as { errors: unknown }).errors, [
      { pointer: '/1', detail: 'review must be a string or an object {"text", "title"}, got number' },
    ]);
  });

  test('413 from the handler when the body exceeds MAX_BODY_BYTES', async () => {
    const body = JSON.stringify(['a'.repeat(2_200_000)]);
    const response = await post(body);
    assert.equal(response.status, 413);
    assert.equal(response.headers.get('content-type'), 'application/problem+json');
    const { detail } = (await response.json()) as { detail: string };
    assert.equal(detail, `request body is ${body.length} bytes; the limit is 2200000 bytes`);
  });

  test('concurrent requests each get their own answers', async () => {
    const batches = Array.from({ length: 24 }, (_, i) => FOUR.slice(i % 4).concat(`review number ${i}`));
    const responses = await Promise.all(batches.map((reviews) => post(JSON.stringify(reviews))));
    const bodies = await Promise.all(responses.map((r) => r.json() as Promise<{ predictions: unknown[] }>));
    for (const [i, body] of bodies.entries()) {
      assert.equal(responses[i]?.status, 200);
      assert.deepEqual(body.predictions, await loaded.scorer.predict(batches[i] ?? []));
    }
    const health = await Promise.all(Array.from({ length: 10 }, () => fetch(`${server.url}/health`)));
    assert.ok(health.every((r) => r.status === 200));
    await Promise.all(health.map((r) => r.body?.cancel()));
  });
});

/** Sends a request with node:http, so headers are exactly what we set (fetch adds content-type). */
function rawRequest(
  url: string,
  options: { method: string; path: string; headers?: Record<string, string>; chunks?: Buffer[] },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${url}${options.path}`,
      { method: options.method, headers: options.headers },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (chunk: Buffer) => parts.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    for (const chunk of options.chunks ?? []) req.write(chunk);
    req.end();
  });
}

/** Writes raw bytes on a fresh connection and collects everything the server sends until it closes. */
function rawExchange(url: string, bytes: string): Promise<{ head: string; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolvePromise, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer in 10 s')));
    socket.once('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      resolvePromise({ head: text.slice(0, split), body: text.slice(split + 4) });
    });
  });
}

describe('requests node:http cannot parse get problem+json from the server itself', () => {
  const cases: [string, string, number, RegExp][] = [
    ['a bad request line', 'NOT AN HTTP REQUEST\r\n\r\n', 400, /not valid HTTP\/1\.1 \(invalid_method\)/],
    ['a malformed header', 'GET /health HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n', 400, /not valid HTTP/],
    [
      'oversized headers',
      `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`,
      431,
      /headers exceed \d+ bytes/,
    ],
  ];
  for (const [what, bytes, status, detail] of cases) {
    test(`${what}: ${status}`, async () => {
      const { head, body } = await rawExchange(server.url, bytes);
      assert.match(head, new RegExp(`^HTTP/1\\.1 ${status} `));
      assert.match(head, /\r\ncontent-type: application\/problem\+json\r\n/i);
      assert.match(head, /\r\nconnection: close/i);
      const problem = JSON.parse(body) as Record<string, unknown>;
      assert.equal(problem.status, status);
      assert.match(String(problem.type), /^tag:review-sentiment,2026:problems\//);
      assert.match(String(problem.detail), detail);
      assert.match(String(problem.instance), /^[A-Za-z0-9+/]{15}=$/);
    });
  }

  test('the server still serves after them', async () => {
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
  });
});

describe('the API Gateway v2 event the server builds', () => {
  let seen: APIGatewayProxyEventV2[];
  let reported: string[];
  let recorder: RunningServer;

  before(async () => {
    seen = [];
    reported = [];
    recorder = await startServer({
      port: 0,
      maxBodyBytes: 1024,
      reportError: (message, error) => reported.push(`${message}: ${(error as Error).message}`),
      handler: async (event) => {
        seen.push(event);
        if (event.rawPath === '/slow') await new Promise((r) => setTimeout(r, 200));
        if (event.rawPath === '/throw') throw new Error('handler bug');
        return { statusCode: 201, headers: { 'x-answer': 42 }, body: 'done' };
      },
    });
  });

  after(() => recorder.close());

  test('real shape: version, routeKey, raw path and query, lower-case headers, cookies, http context', async () => {
    const response = await rawRequest(recorder.url, {
      method: 'POST',
      path: '/predictions/?a=1&b=2&a=3',
      headers: { 'Content-Type': 'application/json', 'X-Custom': 'yes', Cookie: 'c1=v1; c2=v2' },
      chunks: [Buffer.from('["Very nice!"]')],
    });
    assert.equal(response.status, 201);
    assert.equal(response.body, 'done');
    const event = seen.at(-1);
    assert.ok(event);
    assert.equal(event.version, '2.0');
    assert.equal(event.routeKey, '$default');
    assert.equal(event.rawPath, '/predictions/');
    assert.equal(event.rawQueryString, 'a=1&b=2&a=3');
    assert.deepEqual(event.queryStringParameters, { a: '1,3', b: '2' });
    assert.equal(event.headers['content-type'], 'application/json');
    assert.equal(event.headers['x-custom'], 'yes');
    assert.equal(event.headers.cookie, undefined);
    assert.deepEqual(event.cookies, ['c1=v1', 'c2=v2']);
    assert.deepEqual(event.requestContext.http, {
      method: 'POST',
      path: '/predictions/',
      protocol: 'HTTP/1.1',
      sourceIp: '127.0.0.1',
      userAgent: '',
    });
    assert.equal(event.requestContext.stage, '$default');
    assert.match(event.requestContext.time, /^\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000$/);
    assert.equal(event.isBase64Encoded, false);
    assert.equal(event.body, '["Very nice!"]');
  });

  test('binary bodies are base64-encoded; no body means no body field', async () => {
    const bytes = Buffer.from([0, 255, 1, 254]);
    await rawRequest(recorder.url, {
      method: 'PUT',
      path: '/bin',
      headers: { 'content-type': 'application/octet-stream' },
      chunks: [bytes],
    });
    assert.equal(seen.at(-1)?.isBase64Encoded, true);
    assert.equal(seen.at(-1)?.body, bytes.toString('base64'));
    await rawRequest(recorder.url, { method: 'GET', path: '/health' });
    assert.equal(seen.at(-1)?.body, undefined);
    assert.equal(seen.at(-1)?.isBase64Encoded, false);
  });

  test('bodies over the server bound get 413 without reaching the handler, declared or streamed', async () => {
    const before = seen.length;
    const declared = await rawRequest(recorder.url, {
      method: 'POST',
      path: '/predictions',
      headers: { 'content-length': '2048' },
      chunks: [Buffer.alloc(2048, 0x61)],
    });
    assert.equal(declared.status, 413);
    assert.deepEqual(JSON.parse(declared.body), { message: 'Request Entity Too Large' });
    const streamed = await rawRequest(recorder.url, {
      method: 'POST',
      path: '/predictions',
      headers: { 'transfer-encoding': 'chunked' },
      chunks: [Buffer.alloc(600, 0x61), Buffer.alloc(600, 0x61)],
    });
    assert.equal(streamed.status, 413);
    assert.equal(seen.length, before);
  });

  test('a handler that throws becomes API Gateway’s generic 500', async () => {
    const response = await rawRequest(recorder.url, { method: 'GET', path: '/throw' });
    assert.equal(response.status, 500);
    assert.deepEqual(JSON.parse(response.body), { message: 'Internal Server Error' });
    assert.deepEqual(reported, ['the handler threw: handler bug']);
  });

  test('close() lets an in-flight request finish, then refuses connections', async () => {
    const extra = await startServer({ port: 0, handler: recorderHandler(seen) });
    const inFlight = fetch(`${extra.url}/slow`);
    await new Promise((r) => setTimeout(r, 50));
    await extra.close();
    assert.equal((await inFlight).status, 201);
    await assert.rejects(fetch(`${extra.url}/health`));
  });
});

function recorderHandler(seen: APIGatewayProxyEventV2[]) {
  return async (event: APIGatewayProxyEventV2) => {
    seen.push(event);
    await new Promise((r) => setTimeout(r, 200));
    return { statusCode: 201, body: 'done' };
  };
}

function run(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run invoke (src/local/invoke.ts)', () => {
  test('prints only the result object on stdout; logs go to stderr', async () => {
    const { code, stdout, stderr } = await run(['src/local/invoke.ts', 'events/predictions-4-reviews.json'], {
      MODEL_URI: modelUri,
      TFJS_BACKEND: 'cpu',
    });
    assert.equal(code, 0, stderr);
    const result = JSON.parse(stdout) as { statusCode: number; body: string };
    assert.equal(result.statusCode, 200);
    assert.equal((JSON.parse(result.body) as { predictions: unknown[] }).predictions.length, 4);
    assert.match(stderr, /"message":"request"/);
  });

  test('a missing or invalid event file exits 2 with a clear message', async () => {
    const missing = await run(['src/local/invoke.ts', 'events/no-such-event.json'], {});
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /event file not found: events\/no-such-event\.json/);
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{"version": "2.0",');
    const invalid = await run(['src/local/invoke.ts', bad], {});
    assert.equal(invalid.code, 2);
    assert.match(invalid.stderr, /bad\.json is not valid JSON/);
    const usage = await run(['src/local/invoke.ts'], {});
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /usage: npm run invoke -- events\/<file>\.json/);
  });
});

/** `npm start`'s entry as a child (bench/lib/server.ts), with the exit code its SIGTERM tests await. */
async function startEntry(env: Record<string, string>) {
  const { child, url } = await startServerChild({ TFJS_BACKEND: 'cpu', LOG_LEVEL: 'SILENT', ...env });
  return { child: child.process, exited: child.exited.then(({ code }) => code), url };
}

describe('npm start (src/local/server.ts)', () => {
  test('serves MODEL_URI on PORT and stops on SIGTERM', async () => {
    const { child, exited, url } = await startEntry({ MODEL_URI: modelUri });
    const response = await fetch(`${url}/predictions`, { method: 'POST', body: JSON.stringify(FOUR) });
    // fetch labels a string body text/plain, which this API refuses with 415.
    assert.equal(response.status, 415);
    await response.body?.cancel();
    const health = await fetch(`${url}/health`);
    assert.equal(((await health.json()) as { status: string }).status, 'ready');
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  });

  test('unconfigured, it serves both bundled models: the seeds go to review-sentiment, "I passed my exam!" to emotion (joy)', async () => {
    const { child, exited, url } = await startEntry({});
    const list = (await (await fetch(`${url}/models`)).json()) as {
      default: string;
      models: { name: string }[];
    };
    assert.equal(list.default, 'review-sentiment');
    assert.deepEqual(
      list.models.map((m) => m.name),
      ['review-sentiment', 'emotion'],
    );
    const score = async (path: string, reviews: string[]) => {
      const response = await post(JSON.stringify(reviews), { 'content-type': 'application/json' }, url, path);
      assert.equal(response.status, 200, path);
      return (await response.json()) as {
        model: { name: string };
        predictions: { rating: number | string; score: number | null }[];
      };
    };
    const ratings = await score('/predictions', FOUR);
    assert.equal(ratings.model.name, 'review-sentiment');
    assert.equal(ratings.predictions.length, 4);
    for (const p of ratings.predictions) assert.ok([1, 2, 3, 4, 5].includes(Number(p.rating)));
    const emotion = await score('/models/emotion/predictions', ['I passed my exam!']);
    assert.equal(emotion.model.name, 'emotion');
    assert.equal(emotion.predictions[0]?.rating, 'joy');
    assert.equal(emotion.predictions[0]?.score, null);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  });

  test('a failed model load at init does not stop the server: 503 until the bundle appears and health heals it', async () => {
    const later = join(dir, 'appears-later');
    const { child, exited, url } = await startEntry({ MODEL_URI: later });
    const before = await fetch(`${url}/health`);
    assert.equal(before.status, 503);
    assert.equal(((await before.json()) as { status: string }).status, 'failed');
    await writeBundleDir(later, (await makeTinyBundle()).files, 'v1', { latest: true });
    // The first back-off is at most 1 s (Retry-After rounds it up); health probes start the next load.
    let status = 'failed';
    for (let i = 0; i < 100 && status !== 'ready'; i++) {
      const health = await fetch(`${url}/health`);
      if (health.status === 503) assert.equal(health.headers.get('retry-after'), '1');
      status = ((await health.json()) as { status: string }).status;
      if (status !== 'ready') await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(status, 'ready', 'GET /health alone brought the model up');
    const predicted = await post(JSON.stringify(FOUR), { 'content-type': 'application/json' }, url);
    assert.equal(predicted.status, 200);
    await predicted.body?.cancel();
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  });

  test('a bad PORT fails naming it', async () => {
    const { code, stderr } = await run(['src/local/server.ts'], { PORT: 'eighty' });
    assert.equal(code, 1);
    assert.match(stderr, /PORT must be an integer/);
  });
});
