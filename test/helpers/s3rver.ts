/**
 * A real S3-protocol server (s3rver) on 127.0.0.1 with a random port and a temp directory, and an HTTP
 * proxy in front of any endpoint that injects faults (stalls, 500s, resets, corrupted bodies) per request.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { createStorage, type S3ClientOptions, type Storage } from '../../src/storage/index.ts';
import { createS3Client } from '../../src/storage/s3-client.ts';

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: Server;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

// s3rver ships no type declarations; this is the part of its API the tests use.
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;

export interface S3rverHandle {
  endpoint: string;
  client: S3Client;
  /** Storage whose s3:// URIs go to this server. */
  storage: Storage;
  bucket: string;
  stop(): Promise<void>;
}

/** s3rver accepts these fixed credentials (it checks the access key id; v4 signatures: test/helpers/sigv4.ts). */
export function testS3Client(endpoint: string, options: Omit<S3ClientOptions, 'endpoint'> = {}): S3Client {
  return createS3Client({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    ...options,
  });
}

export async function startS3rver(bucket = 'models-bucket'): Promise<S3rverHandle> {
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = testS3Client(endpoint);
  return {
    endpoint,
    client,
    storage: createStorage({ s3: client }),
    bucket,
    async stop() {
      client.destroy();
      server.httpServer?.closeAllConnections();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * pass: forward. stall: never answer. error500: answer 500 InternalError. reset: drop the connection.
 * corrupt: forward, then flip one byte of the response body. truncate: forward the headers and half the
 * body, then drop the connection.
 */
export type Fault = 'pass' | 'stall' | 'error500' | 'reset' | 'corrupt' | 'truncate';
/** `path` is the URL path without the query (the SDK appends e.g. ?x-id=GetObject). */
export type FaultRule = (request: { method: string; path: string }) => Fault;

export interface ProxiedRequest {
  method: string;
  path: string;
  fault: Fault;
  userAgent: string;
  /** The request target as sent (path and query, percent-encoded). */
  url: string;
  headers: IncomingMessage['headers'];
}

export interface FaultProxy {
  endpoint: string;
  port: number;
  /** Every request seen, in order (the user agent tells the fast GET from the SDK). */
  requests: ProxiedRequest[];
  setRule(rule: FaultRule): void;
  stop(): Promise<void>;
}

const INTERNAL_ERROR =
  '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>injected by the test proxy</Message></Error>';

export async function startFaultProxy(target: string, port = 0): Promise<FaultProxy> {
  const upstream = new URL(target);
  let rule: FaultRule = () => 'pass';
  const requests: FaultProxy['requests'] = [];
  const server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const path = new URL(url, 'http://proxy').pathname;
    const fault = rule({ method, path });
    requests.push({
      method,
      path,
      fault,
      userAgent: req.headers['user-agent'] ?? '',
      url,
      headers: req.headers,
    });
    if (fault === 'stall') return;
    if (fault === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault === 'error500') {
      req.resume();
      req.on('end', () => {
        res.writeHead(500, { 'content-type': 'application/xml', connection: 'close' }).end(INTERNAL_ERROR);
      });
      return;
    }
    // Headers go through unchanged: the SigV4 signature covers the Host header.
    const forward = httpRequest(
      { hostname: upstream.hostname, port: upstream.port, method, path: url, headers: req.headers },
      (upstreamRes) => relay(upstreamRes, res, fault),
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actualPort = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${actualPort}`,
    port: actualPort,
    requests,
    setRule(next) {
      rule = next;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function relay(from: IncomingMessage, to: ServerResponse, fault: Fault): void {
  if (fault !== 'corrupt' && fault !== 'truncate') {
    to.writeHead(from.statusCode ?? 502, from.headers);
    from.pipe(to);
    return;
  }
  const chunks: Buffer[] = [];
  from.on('data', (chunk: Buffer) => chunks.push(chunk));
  from.on('end', () => {
    const body = Buffer.concat(chunks);
    const middle = body.length >> 1;
    to.writeHead(from.statusCode ?? 502, from.headers);
    if (fault === 'truncate') {
      to.write(body.subarray(0, middle), () => to.destroy());
      return;
    }
    if (body.length > 0) body[middle] = (body[middle] ?? 0) ^ 0xff;
    to.end(body);
  });
}
