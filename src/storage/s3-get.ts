/**
 * Reading a whole S3 object with one signed GET over node:http(s), without the AWS SDK: the cold start's
 * path. The SDK's S3 client is ~50 ms of module evaluation before its first request (its bundled chunk
 * imported alone took 68 ms on this machine) plus a middleware stack per request, and a cold start reads
 * five objects before it can answer. This path signs with the SDK's own signer (@smithy/signature-v4)
 * and covers only the plain case: credentials and region known without the SDK's provider chain (the
 * environment, as Lambda sets it, or explicit options), a standard or configured endpoint. It answers
 * 200 with the bytes and 404/403 as errors in the SDK's shape, mapped like the SDK's; anything else (a 5xx, a redirect to another
 * region, a timeout, a reset, a short body) returns `undefined`, and the caller asks the SDK, with its
 * retries, region redirects and error parsing.
 */
import { createHash, createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { SignatureV4 } from '@smithy/signature-v4';
import { S3_DEFAULTS, type S3ClientOptions } from './s3-options.ts';

// node:http through require(): its ESM facade loads undici (see scripts/build.ts REQUIRED_BUILTINS).
const require = createRequire(import.meta.url);
const http = require('node:http') as typeof import('node:http');
const https = require('node:https') as typeof import('node:https');

export interface FastGetConfig {
  /** Path-style base URL of an S3-compatible endpoint, or null for AWS's virtual-hosted one. */
  endpoint: URL | null;
  region: string;
  signer: SignatureV4;
  connectionTimeoutMs: number;
  requestTimeoutMs: number;
  socketTimeoutMs: number;
}

/** Marks the requests of this path (tests tell it from the SDK's by this user agent). */
export const FAST_GET_USER_AGENT = 'review-sentiment-s3-get/1';

const TRUE = /^true$/i;

/**
 * The fast path's settings, or null when it does not apply: no credentials or region without the SDK's
 * provider chain, or an endpoint variant only the SDK resolves (FIPS, dual-stack).
 */
export function fastGetConfig(
  options: S3ClientOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): FastGetConfig | null {
  const credentials =
    options.credentials ??
    (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? {
          accessKeyId: env.AWS_ACCESS_KEY_ID,
          secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
          ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
        }
      : undefined);
  // The SDK's order: the client's endpoint, then S3's own variable, then the global one.
  const configured = TRUE.test(env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS ?? '')
    ? undefined
    : (env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL);
  const endpoint = options.endpoint ?? configured;
  const region = options.region ?? env.AWS_REGION ?? (endpoint ? 'us-east-1' : undefined);
  const variant =
    TRUE.test(env.AWS_USE_FIPS_ENDPOINT ?? '') || TRUE.test(env.AWS_USE_DUALSTACK_ENDPOINT ?? '');
  if (!credentials || !region || variant) return null;
  return {
    endpoint: endpoint ? new URL(endpoint) : null,
    region,
    signer: new SignatureV4({
      service: 's3',
      region,
      credentials,
      sha256: NodeSha256,
      // S3 signs the path as sent: each segment encoded once (below), not encoded again by the signer.
      uriEscapePath: false,
      applyChecksum: false,
    }),
    connectionTimeoutMs: options.connectionTimeoutMs ?? S3_DEFAULTS.connectionTimeoutMs,
    requestTimeoutMs: options.requestTimeoutMs ?? S3_DEFAULTS.requestTimeoutMs,
    socketTimeoutMs: options.socketTimeoutMs ?? S3_DEFAULTS.socketTimeoutMs,
  };
}

/**
 * S3's answer to a 404 or 403, in the AWS SDK's error shape (`name` is S3's error code), so the caller
 * maps it with the same rule as the SDK's own errors (./s3.ts s3Error).
 */
export class S3ErrorResponse extends Error {
  readonly $metadata: { httpStatusCode: number };
  constructor(code: string, message: string, status: number) {
    super(message);
    this.name = code;
    this.$metadata = { httpStatusCode: status };
  }
}

/** The object's bytes; an S3ErrorResponse for 404 and 403; undefined: ask the SDK. */
export async function fastGet(
  config: FastGetConfig,
  bucket: string,
  key: string,
): Promise<Uint8Array | undefined> {
  const target = requestTarget(config, bucket, key);
  if (!target) return undefined;
  const signed = await config.signer.sign({
    method: 'GET',
    protocol: target.protocol,
    hostname: target.hostname,
    ...(target.port ? { port: Number(target.port) } : {}),
    path: target.path,
    query: {},
    headers: { host: target.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
  });
  const response = await send(config, target, signed.headers).catch(() => undefined);
  if (!response) return undefined;
  if (response.status === 200) return response.body;
  if (response.status !== 404 && response.status !== 403) return undefined;
  const code = /<Code>([^<]*)<\/Code>/.exec(response.text)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(response.text)?.[1] ?? '';
  const fallback = response.status === 404 ? 'NoSuchKey' : 'AccessDenied';
  throw new S3ErrorResponse(code ?? fallback, message, response.status);
}

interface Target {
  protocol: 'http:' | 'https:';
  hostname: string;
  port: string;
  host: string;
  path: string;
}

function requestTarget(config: FastGetConfig, bucket: string, key: string): Target | null {
  const encodedKey = key.split('/').map(encodeSegment).join('/');
  if (config.endpoint) {
    const base = config.endpoint.pathname.replace(/\/+$/, '');
    const { protocol, hostname, port, host } = config.endpoint;
    if (protocol !== 'http:' && protocol !== 'https:') return null;
    return { protocol, hostname, port, host, path: `${base}/${bucket}/${encodedKey}` };
  }
  // A bucket with dots breaks the virtual host's TLS name, and directory buckets have their own
  // endpoints: both are the SDK's to resolve.
  if (bucket.includes('.') || bucket.endsWith('--x-s3')) return null;
  const host = `${bucket}.s3.${config.region}.amazonaws.com`;
  return { protocol: 'https:', hostname: host, port: '', host, path: `/${encodedKey}` };
}

/** RFC 3986 unreserved characters stay; everything else is percent-encoded, as SigV4 requires. */
function encodeSegment(segment: string): string {
  return encodeURIComponent(segment).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

interface Reply {
  status: number;
  body: Uint8Array;
  text: string;
}

/** One attempt with the client's limits; rejects on a timeout, a reset or a body shorter than announced. */
function send(config: FastGetConfig, target: Target, headers: Record<string, string>): Promise<Reply> {
  const transport = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = transport.request(
      {
        method: 'GET',
        protocol: target.protocol,
        hostname: target.hostname,
        ...(target.port ? { port: Number(target.port) } : {}),
        path: target.path,
        headers: { ...headers, 'user-agent': FAST_GET_USER_AGENT },
        agent: target.protocol === 'https:' ? httpsAgent() : httpAgent(),
      },
      (response) => {
        clearTimeout(headersTimer);
        response.setTimeout(config.socketTimeoutMs, () => response.destroy(new Error('socket timeout')));
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const received = chunks.reduce((sum, c) => sum + c.length, 0);
          const announced = Number(response.headers['content-length'] ?? received);
          if (received !== announced) {
            reject(new Error(`${received} of ${announced} bytes`));
            return;
          }
          // One array of its own (Buffer.concat may hand out a slice of a shared pool).
          const body = new Uint8Array(received);
          let offset = 0;
          for (const chunk of chunks) {
            body.set(chunk, offset);
            offset += chunk.length;
          }
          const status = response.statusCode ?? 0;
          resolve({ status, body, text: status === 200 ? '' : new TextDecoder().decode(body) });
        });
      },
    );
    const headersTimer = setTimeout(
      () => request.destroy(new Error('request timeout')),
      config.requestTimeoutMs,
    );
    request.on('socket', (socket) => {
      if (!socket.connecting) return;
      const connectTimer = setTimeout(
        () => request.destroy(new Error('connection timeout')),
        config.connectionTimeoutMs,
      );
      socket.once('connect', () => clearTimeout(connectTimer));
      socket.once('close', () => clearTimeout(connectTimer));
    });
    request.on('error', (error) => {
      clearTimeout(headersTimer);
      reject(error);
    });
    request.end();
  });
}

let httpPool: import('node:http').Agent | undefined;
let httpsPool: import('node:https').Agent | undefined;
const httpAgent = () => (httpPool ??= new http.Agent({ keepAlive: true }));
const httpsAgent = () => (httpsPool ??= new https.Agent({ keepAlive: true }));

/** The signer's hash: node:crypto behind the SDK's Checksum interface. */
class NodeSha256 {
  readonly #secret: string | Uint8Array | undefined;
  #hash: { update(data: string | ArrayBufferView): unknown; digest(): Buffer };
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#secret =
      secret === undefined || typeof secret === 'string'
        ? secret
        : secret instanceof ArrayBuffer
          ? new Uint8Array(secret)
          : new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength);
    this.#hash = this.#fresh();
  }
  #fresh() {
    return this.#secret === undefined ? createHash('sha256') : createHmac('sha256', this.#secret);
  }
  update(data: string | ArrayBufferView): void {
    this.#hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
  reset(): void {
    this.#hash = this.#fresh();
  }
}
