/**
 * Local HTTP server (`npm start`): no Docker, no AWS. Each node:http request becomes a real-shaped API
 * Gateway HTTP API (payload 2.0) event for the same handler Lambda runs, and the handler's result is
 * written back the way API Gateway would. Serves the bundled models (BUNDLED_MODELS in
 * src/function/config.ts) unless MODEL_URI or MODELS says otherwise; PORT and HOST override
 * 127.0.0.1:3000; CORS_ALLOW_ORIGINS defaults to `*` here.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, maxHeaderSize, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { answerClientError } from './client-error.ts';
import { gatewayRequestId, toApiGatewayEvent } from './event.ts';

export type LocalHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<unknown>;

/** API Gateway's own payload limit; the handler's MAX_BODY_BYTES (much smaller) is the one clients meet. */
export const GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;
/** API Gateway gives an integration at most 30 s. */
const LOCAL_TIMEOUT_MS = 30_000;

export interface ServerOptions {
  handler: LocalHandler;
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  maxBodyBytes?: number;
  /** Where failures outside the handler's own error handling are reported; default console.error. */
  reportError?: (message: string, error: unknown) => void;
}

export interface RunningServer {
  url: string;
  port: number;
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then closes every connection. */
  close(graceMs?: number): Promise<void>;
}

interface Serving {
  handler: LocalHandler;
  maxBodyBytes: number;
  reportError: (message: string, error: unknown) => void;
  closing: boolean;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const serving: Serving = {
    handler: options.handler,
    maxBodyBytes: options.maxBodyBytes ?? GATEWAY_MAX_BODY_BYTES,
    reportError:
      options.reportError ?? ((message, error) => console.error(`local server: ${message}`, error)),
    closing: false,
  };
  const server = createServer((req, res) => {
    serve(req, res, serving).catch((error: unknown) => {
      serving.reportError('request failed', error);
      if (!res.headersSent) writeGatewayError(res, 500, 'Internal Server Error');
      else res.destroy();
    });
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket) =>
    answerClientError(error, socket, gatewayRequestId(), maxHeaderSize),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 3000, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}`,
    port,
    close: async (graceMs = 5000) => {
      serving.closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(grace);
    },
  };
}

async function serve(req: IncomingMessage, res: ServerResponse, serving: Serving): Promise<void> {
  const body = await readBody(req, serving.maxBodyBytes);
  if (body === null) {
    // Like API Gateway: refuse without buffering, and close the connection instead of reading the rest.
    res.setHeader('connection', 'close');
    writeGatewayError(res, 413, 'Request Entity Too Large');
    res.once('finish', () => req.destroy());
    return;
  }
  const event = toApiGatewayEvent(req, body, gatewayRequestId());
  res.setHeader('apigw-requestid', event.requestContext.requestId);
  let result: unknown;
  try {
    result = await serving.handler(event, createLocalContext());
  } catch (error) {
    // An unhandled error is what API Gateway turns into its generic 500.
    serving.reportError('the handler threw', error);
    writeGatewayError(res, 500, 'Internal Server Error');
    return;
  }
  // While closing, a kept-alive connection would hold close() open until it timed out.
  if (serving.closing) res.setHeader('connection', 'close');
  writeResult(res, result);
}

/** Resolves null as soon as the body exceeds `maxBytes` (by content-length or while streaming). */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | null> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > maxBytes) {
        req.pause();
        req.removeAllListeners('data');
        resolve(null);
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

/** A Lambda context for one local invocation, with API Gateway's 30 s as the time budget. */
export function createLocalContext(timeoutMs = LOCAL_TIMEOUT_MS): Context {
  const deadline = Date.now() + timeoutMs;
  const unsupported = () => {
    throw new Error('callback-style completion is not supported');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'review-sentiment-local',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:review-sentiment-local',
    memoryLimitInMB: '2048',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/review-sentiment-local',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}

interface StructuredResult {
  statusCode: number;
  headers?: Record<string, string | number | boolean>;
  cookies?: string[];
  body?: string;
  isBase64Encoded?: boolean;
}

function isStructured(result: unknown): result is StructuredResult {
  return (
    typeof result === 'object' &&
    result !== null &&
    typeof (result as StructuredResult).statusCode === 'number'
  );
}

/** As HTTP API: a result without statusCode is a 200 whose body is the result as JSON. */
function writeResult(res: ServerResponse, result: unknown): void {
  if (!isStructured(result)) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(typeof result === 'string' ? result : JSON.stringify(result));
    return;
  }
  for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, String(value));
  if (result.cookies?.length) res.setHeader('set-cookie', result.cookies);
  res.statusCode = result.statusCode;
  res.end(
    result.body === undefined ? '' : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8'),
  );
}

function writeGatewayError(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ message }));
}

/** PORT and HOST from the environment; a bad PORT fails naming it. */
export function listenAddress(env: Readonly<Record<string, string | undefined>>): {
  port: number;
  host: string;
} {
  const rawPort = env.PORT?.trim() || '3000';
  const port = /^\d+$/.test(rawPort) ? Number(rawPort) : Number.NaN;
  if (!Number.isInteger(port) || port > 65_535) {
    throw new Error(`PORT must be an integer from 0 to 65535, got ${JSON.stringify(env.PORT)}`);
  }
  return { port, host: env.HOST?.trim() || '127.0.0.1' };
}

async function main(): Promise<void> {
  const { port, host } = listenAddress(process.env);
  // Development serves any origin (a front end on another port); in AWS the default is none.
  process.env.CORS_ALLOW_ORIGINS ??= '*';
  // Imported here, not at the top: the entry loads config and starts the model load at import time.
  const { handler } = await import('../function/index.ts');
  const server = await startServer({ port, host, handler });
  console.log(
    `review-sentiment listening on ${server.url} (GET / to try it, GET /models, POST /predictions, GET /health, GET /openapi.json)`,
  );
  const stop = () => {
    server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    console.error(`local server: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
