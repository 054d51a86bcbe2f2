/**
 * Image smoke test. The Dockerfile runs it at the end of the image build, so an image whose bundle,
 * ONNX Runtime install or default model is broken fails `sam build` instead of reaching Lambda.
 * It imports the built handler the way the Lambda runtime does, invokes it with a real API Gateway event
 * and then with GET /health derived from it, and checks both answers.
 *
 * Node builtins only: the runtime image has no project sources, and Node 24 runs this file as is.
 *
 * Usage: node scripts/smoke.ts [--bundle dist/index.mjs] [--event events/predictions-4-reviews.json]
 *          [--expect-predictions 4] [--expect-runtime onnx] [--expect-backend wasm]
 * MODEL_URI and the other function settings come from the environment, as in Lambda.
 */
import { randomUUID } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Context } from 'aws-lambda';

export interface SmokeOptions {
  bundle: string;
  event: string;
  expectPredictions: number;
  /** The runtime GET /health must report ('onnx' in the image); any when unset. */
  expectRuntime?: string;
  /** The TensorFlow.js backend GET /health must report (tfjs runtime only); any when unset. */
  expectBackend?: string;
}

export interface SmokeReport {
  runtime: string;
  backend: string | null;
  model: unknown;
  predictions: number;
  /** Importing the bundle: configuration, backend selection and (up to the init wait) the model load. */
  importMs: number;
  predictMs: number;
}

interface HandlerResult {
  statusCode?: unknown;
  body?: unknown;
}
type Handler = (event: unknown, context: Context) => Promise<HandlerResult>;
type Json = Record<string, unknown>;

export class SmokeError extends Error {
  override name = 'SmokeError';
}

const TIMEOUT_MS = 29_000;

export async function runSmoke(options: SmokeOptions): Promise<SmokeReport> {
  const event = await readEvent(options.event);
  let started = performance.now();
  const handler = await importHandler(options.bundle);
  const importMs = Math.round(performance.now() - started);

  started = performance.now();
  const body = expectOk(await handler(event, lambdaContext()), 'POST /predictions');
  const predictMs = Math.round(performance.now() - started);
  const predictions = checkPredictions(body.predictions, options.expectPredictions);

  const health = expectOk(await handler(healthEventFrom(event), lambdaContext()), 'GET /health');
  if (health.status !== 'ready' || typeof health.runtime !== 'string') {
    throw new SmokeError(
      `GET /health after a prediction should say ready with a runtime, got ${JSON.stringify(health)}`,
    );
  }
  if (options.expectRuntime !== undefined && health.runtime !== options.expectRuntime) {
    throw new SmokeError(`the function runs on runtime ${health.runtime}, expected ${options.expectRuntime}`);
  }
  if (options.expectBackend !== undefined && health.backend !== options.expectBackend) {
    throw new SmokeError(
      `the function runs on backend ${String(health.backend)}, expected ${options.expectBackend}`,
    );
  }
  const backend = typeof health.backend === 'string' ? health.backend : null;
  return { runtime: health.runtime, backend, model: body.model, predictions, importMs, predictMs };
}

async function readEvent(path: string): Promise<Json> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new SmokeError(`cannot read the event file ${path}: ${(error as Error).message}`);
  }
  const event = safeJson(text);
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new SmokeError(`${path} must hold an API Gateway event as a JSON object`);
  }
  return event as Json;
}

async function importHandler(bundle: string): Promise<Handler> {
  const module = (await import(pathToFileURL(resolve(bundle)).href)) as { handler?: unknown };
  if (typeof module.handler !== 'function') throw new SmokeError(`${bundle} exports no handler function`);
  return module.handler as Handler;
}

function expectOk(result: HandlerResult, route: string): Json {
  const body = typeof result?.body === 'string' ? safeJson(result.body) : undefined;
  if (result?.statusCode !== 200 || typeof body !== 'object' || body === null) {
    throw new SmokeError(
      `${route} answered ${String(result?.statusCode)}: ${String(result?.body).slice(0, 500)}`,
    );
  }
  return body as Json;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Model-agnostic sanity: the right count, and each prediction a probability distribution with a rating. */
function checkPredictions(value: unknown, expected: number): number {
  if (!Array.isArray(value) || value.length !== expected) {
    const got = Array.isArray(value) ? `${value.length} predictions` : JSON.stringify(value);
    throw new SmokeError(`expected ${expected} predictions, got ${got}`);
  }
  value.forEach((p: { rating?: unknown; probabilities?: Record<string, unknown> }, i) => {
    const probabilities = Object.values(p?.probabilities ?? {});
    const sum = probabilities.reduce<number>((s, v) => s + (typeof v === 'number' ? v : Number.NaN), 0);
    if (p?.rating === undefined || probabilities.length < 2 || !(Math.abs(sum - 1) < 0.01)) {
      throw new SmokeError(
        `prediction ${i} is not a rating with probabilities summing to 1: ${JSON.stringify(p)}`,
      );
    }
  });
  return value.length;
}

/** GET /health in the same payload format as the given event (HTTP API 2.0 or REST API 1.0). */
export function healthEventFrom(event: Json): Json {
  const health = structuredClone(event);
  const context = (health.requestContext ?? {}) as Json;
  context.requestId = randomUUID();
  if (health.version === '2.0') {
    // '$default' (a catch-all route) stays; an explicit route key must name the new route.
    if (health.routeKey !== '$default') health.routeKey = context.routeKey = 'GET /health';
    health.rawPath = '/health';
    context.http = { ...(context.http as Json), method: 'GET', path: '/health' };
  } else {
    health.httpMethod = 'GET';
    health.path = '/health';
    health.resource = '/health';
    context.httpMethod = 'GET';
  }
  health.requestContext = context;
  health.headers = withoutBodyHeaders(health.headers);
  health.body = null;
  health.isBase64Encoded = false;
  return health;
}

function withoutBodyHeaders(headers: unknown): Json {
  const kept = Object.entries((headers ?? {}) as Json).filter(
    ([name]) => !['content-length', 'content-type'].includes(name.toLowerCase()),
  );
  return Object.fromEntries(kept);
}

function lambdaContext(): Context {
  const deadline = Date.now() + TIMEOUT_MS;
  const unsupported = (): never => {
    throw new SmokeError('callback-style completion is not supported');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'review-sentiment-smoke',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:review-sentiment-smoke',
    memoryLimitInMB: '2048',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/review-sentiment-smoke',
    logStreamName: 'smoke',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}

function parseOptions(argv: string[]): SmokeOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      bundle: { type: 'string', default: 'dist/index.mjs' },
      event: { type: 'string', default: 'events/predictions-4-reviews.json' },
      'expect-predictions': { type: 'string', default: '4' },
      'expect-runtime': { type: 'string' },
      'expect-backend': { type: 'string' },
    },
  });
  const expectPredictions = Number(values['expect-predictions']);
  if (!Number.isInteger(expectPredictions) || expectPredictions < 1) {
    throw new SmokeError(
      `--expect-predictions must be a positive integer, got ${values['expect-predictions']}`,
    );
  }
  return {
    bundle: values.bundle,
    event: values.event,
    expectPredictions,
    expectRuntime: values['expect-runtime'],
    expectBackend: values['expect-backend'],
  };
}

/**
 * Whether this file is the process's entry. `import.meta.main` exists only from Node 24.2; where it is
 * undefined, compare the entry path, so an older Node still runs the test (and fails the build on a
 * failure) instead of importing this file, doing nothing and exiting 0.
 */
export function isEntryPoint(
  meta: { main?: boolean; filename?: string; url: string },
  argv1: string | undefined,
): boolean {
  if (typeof meta.main === 'boolean') return meta.main;
  if (argv1 === undefined) return false;
  const self = meta.filename ?? fileURLToPath(meta.url);
  try {
    return realpathSync(resolve(argv1)) === realpathSync(self);
  } catch {
    return resolve(argv1) === self;
  }
}

if (isEntryPoint(import.meta, process.argv[1])) {
  // Exit explicitly: a loaded backend may keep handles open, and the build must not hang on them.
  try {
    const report = await runSmoke(parseOptions(process.argv.slice(2)));
    console.log(`smoke test passed: ${JSON.stringify(report)}`);
    process.exit(0);
  } catch (error) {
    console.error(`smoke test failed: ${error instanceof SmokeError ? error.message : String(error)}`);
    process.exit(1);
  }
}
