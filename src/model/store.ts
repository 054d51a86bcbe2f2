/**
 * Where bundles live: a folder or an S3 prefix, behind one small interface with keys relative to the
 * root. Also the one place S3 clients are configured (checksum mode, timeouts, retries) and the errors
 * of the stores, the bundle loader and the publisher, so callers map them in one place.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';

// ---- Errors -------------------------------------------------------------------------------------------

/** A storage operation failed; `uri` names the object or prefix, `cause` keeps the original error. */
export class StoreError extends Error {
  override name = 'StoreError';
  readonly uri: string;
  constructor(uri: string, message: string, options?: { cause?: unknown }) {
    super(`${uri}: ${message}`, options);
    this.uri = uri;
  }
}

/** The object or file does not exist. */
export class NotFoundError extends StoreError {
  override name = 'NotFoundError';
}

/** A write refused because the object already exists (bundle versions are immutable). */
export class AlreadyExistsError extends StoreError {
  override name = 'AlreadyExistsError';
}

/** MODEL_URI, --out or an input URI is malformed. */
export class ModelUriError extends Error {
  override name = 'ModelUriError';
}

/** A bundle's content is wrong: bad JSON, checksum mismatch, tokenizer or model inconsistent with the manifest. */
export class BundleError extends Error {
  override name = 'BundleError';
  readonly uri: string;
  constructor(uri: string, message: string, options?: { cause?: unknown }) {
    super(`bundle ${uri}: ${message}`, options);
    this.uri = uri;
  }
}

/** Publishing refused or failed before the version was complete; `latest` was not moved. */
export class PublishError extends Error {
  override name = 'PublishError';
  readonly uri: string;
  constructor(uri: string, message: string, options?: { cause?: unknown }) {
    super(`publish to ${uri}: ${message}`, options);
    this.uri = uri;
  }
}

// ---- URIs ---------------------------------------------------------------------------------------------

export type ModelUri = { kind: 's3'; bucket: string; prefix: string } | { kind: 'dir'; path: string };

const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Splits s3://bucket/key without normalising the key. */
function splitS3Uri(uri: string): { bucket: string; key: string } {
  const rest = uri.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  const key = slash === -1 ? '' : rest.slice(slash + 1);
  if (bucket.length === 0)
    throw new ModelUriError(`${JSON.stringify(uri)} has no bucket (s3://bucket/prefix)`);
  if (!BUCKET_PATTERN.test(bucket)) {
    throw new ModelUriError(
      `${JSON.stringify(uri)}: ${JSON.stringify(bucket)} is not a valid S3 bucket name`,
    );
  }
  if (key.split('/').some((part) => part === '.' || part === '..')) {
    throw new ModelUriError(`${JSON.stringify(uri)}: "." and ".." are not allowed in an S3 key`);
  }
  return { bucket, key };
}

function localPath(uri: string): string {
  if (!uri.startsWith('file:')) return resolve(uri);
  try {
    return fileURLToPath(uri);
  } catch (error) {
    throw new ModelUriError(`${JSON.stringify(uri)} is not a valid file:// URI (use file:///absolute/path)`, {
      cause: error,
    });
  }
}

/** A bundle root or version prefix: s3://bucket/prefix, file:///path, or an absolute or relative path. */
export function parseModelUri(uri: string): ModelUri {
  const trimmed = uri.trim();
  if (trimmed.length === 0) throw new ModelUriError('model URI is empty');
  if (trimmed.startsWith('s3://')) {
    const { bucket, key } = splitS3Uri(trimmed);
    const prefix = key.replace(/^\/+/, '').replace(/\/*$/, '/');
    if (prefix.includes('//')) throw new ModelUriError(`${JSON.stringify(uri)} has an empty path segment`);
    return { kind: 's3', bucket, prefix: prefix === '/' ? '' : prefix };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(trimmed)?.[1];
  if (scheme && scheme.toLowerCase() !== 'file') {
    throw new ModelUriError(
      `${JSON.stringify(uri)}: unsupported scheme "${scheme}" (use s3://, file:// or a path)`,
    );
  }
  return { kind: 'dir', path: localPath(trimmed) };
}

// ---- S3 client ----------------------------------------------------------------------------------------

export interface S3ClientOptions {
  /** An S3-compatible endpoint (s3rver, MinIO); implies path-style addressing. */
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** TCP connect limit per attempt. */
  connectionTimeoutMs?: number;
  /** Limit per attempt until the response headers arrive. */
  requestTimeoutMs?: number;
  /** Limit on inactivity while a body streams (a paused consumer counts as inactive). */
  socketTimeoutMs?: number;
  maxAttempts?: number;
}

/** Cold start budget: a stalled S3 request fails in seconds and is retried, not waited on for minutes. */
export const S3_DEFAULTS = {
  connectionTimeoutMs: 3000,
  requestTimeoutMs: 5000,
  socketTimeoutMs: 10_000,
  maxAttempts: 3,
} as const;

/** The one place S3 clients are configured; serving, training and the tests all use it. */
export function createS3Client(options: S3ClientOptions = {}): S3Client {
  const region = options.region ?? process.env.AWS_REGION ?? (options.endpoint ? 'us-east-1' : undefined);
  const config: S3ClientConfig = {
    // Stream uploads are silently corrupted with the SDK's default flexible checksums on some stores.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    followRegionRedirects: true,
    maxAttempts: options.maxAttempts ?? S3_DEFAULTS.maxAttempts,
    requestHandler: {
      connectionTimeout: options.connectionTimeoutMs ?? S3_DEFAULTS.connectionTimeoutMs,
      requestTimeout: options.requestTimeoutMs ?? S3_DEFAULTS.requestTimeoutMs,
      // Without this the SDK only logs a warning when requestTimeout passes and keeps waiting.
      throwOnRequestTimeout: true,
      socketTimeout: options.socketTimeoutMs ?? S3_DEFAULTS.socketTimeoutMs,
    },
  };
  if (region) config.region = region;
  if (options.endpoint) {
    config.endpoint = options.endpoint;
    config.forcePathStyle = true;
  }
  if (options.credentials) config.credentials = options.credentials;
  return new S3Client(config);
}

// ---- Stores -------------------------------------------------------------------------------------------

export interface BundleStore {
  /** The root URI, e.g. s3://bucket/models/ or /srv/models. */
  describe(): string;
  /** The full URI of a key, for messages. */
  uriOf(key: string): string;
  get(key: string): Promise<Uint8Array>;
  /** Writes a whole object; a folder store writes a temp file and renames it, so readers never see half a file. */
  put(key: string, bytes: Uint8Array, contentType?: string): Promise<void>;
  /**
   * Like put, but an existing object is an AlreadyExistsError instead of being replaced (S3 conditional
   * write `If-None-Match: *`; S3-compatible stores that ignore the header just write).
   */
  putNew(key: string, bytes: Uint8Array, contentType?: string): Promise<void>;
  exists(key: string): Promise<boolean>;
  /** True when any object lives under `prefix` (one cheap listing call). */
  hasAny(prefix: string): Promise<boolean>;
  stream?(key: string): Readable;
}

interface AwsErrorLike {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
}

function describeS3Error(error: unknown): string {
  const e = (error ?? {}) as AwsErrorLike;
  const status = e.$metadata?.httpStatusCode;
  const attempts = e.$metadata?.attempts;
  let text = `${e.name ?? 'Error'}${status ? ` (HTTP ${status})` : ''}: ${e.message ?? String(error)}`;
  if (attempts && attempts > 1) text += ` [after ${attempts} attempts]`;
  if (status === 403) text += ' (without s3:ListBucket, S3 reports a missing object as 403 AccessDenied)';
  return text;
}

function s3Error(uri: string, error: unknown): StoreError {
  const e = (error ?? {}) as AwsErrorLike;
  if (e.name === 'NoSuchBucket') return new StoreError(uri, 'the bucket does not exist', { cause: error });
  if (e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404) {
    return new NotFoundError(uri, 'no such object', { cause: error });
  }
  return new StoreError(uri, describeS3Error(error), { cause: error });
}

export class S3Store implements BundleStore {
  readonly client: S3Client;
  readonly bucket: string;
  readonly prefix: string;

  constructor(client: S3Client, bucket: string, prefix: string) {
    this.client = client;
    this.bucket = bucket;
    this.prefix = prefix;
  }

  describe(): string {
    return `s3://${this.bucket}/${this.prefix}`;
  }

  uriOf(key: string): string {
    return `s3://${this.bucket}/${this.prefix}${key}`;
  }

  async get(key: string): Promise<Uint8Array> {
    try {
      const out = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }),
      );
      if (!out.Body) throw new Error('GetObject returned no body');
      return await out.Body.transformToByteArray();
    } catch (error) {
      throw s3Error(this.uriOf(key), error);
    }
  }

  put(key: string, bytes: Uint8Array, contentType?: string): Promise<void> {
    return this.#put(key, bytes, contentType, false);
  }

  putNew(key: string, bytes: Uint8Array, contentType?: string): Promise<void> {
    return this.#put(key, bytes, contentType, true);
  }

  async #put(
    key: string,
    bytes: Uint8Array,
    contentType: string | undefined,
    onlyNew: boolean,
  ): Promise<void> {
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: this.prefix + key,
      Body: bytes,
      ContentLength: bytes.byteLength,
      ContentType: contentType ?? 'application/octet-stream',
      ...(onlyNew ? { IfNoneMatch: '*' } : {}),
    });
    try {
      await this.client.send(command);
    } catch (error) {
      const status = (error as AwsErrorLike | undefined)?.$metadata?.httpStatusCode;
      if (onlyNew && (status === 412 || status === 409)) {
        throw new AlreadyExistsError(this.uriOf(key), 'already exists', { cause: error });
      }
      throw s3Error(this.uriOf(key), error);
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
      return true;
    } catch (error) {
      const mapped = s3Error(this.uriOf(key), error);
      if (mapped instanceof NotFoundError) return false;
      throw mapped;
    }
  }

  async hasAny(prefix: string): Promise<boolean> {
    // No MaxKeys: a version prefix holds a handful of keys, and s3rver fails (500) on truncated listings.
    const command = new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix });
    try {
      const out = await this.client.send(command);
      return (out.KeyCount ?? out.Contents?.length ?? 0) > 0;
    } catch (error) {
      throw s3Error(this.uriOf(prefix), error);
    }
  }

  stream(key: string): Readable {
    const { client, bucket } = this;
    const fullKey = this.prefix + key;
    const uri = this.uriOf(key);
    // Lazy: the request starts when the consumer first reads, and its failure arrives as a stream error.
    async function* chunks(): AsyncGenerator<Uint8Array> {
      let body: Readable;
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: fullKey }));
        body = out.Body as Readable;
      } catch (error) {
        throw s3Error(uri, error);
      }
      try {
        yield* body;
      } catch (error) {
        throw new StoreError(uri, `reading failed: ${describeS3Error(error)}`, { cause: error });
      }
    }
    return Readable.from(chunks(), { objectMode: false });
  }
}

function fsError(uri: string, error: unknown): StoreError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR')
    return new NotFoundError(uri, 'no such file', { cause: error });
  const message = error instanceof Error ? error.message : String(error);
  return new StoreError(uri, message, { cause: error });
}

export class DirStore implements BundleStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  describe(): string {
    return this.root;
  }

  uriOf(key: string): string {
    return join(this.root, key);
  }

  /** Keys come from manifests and pointers; never let one reach outside the root. */
  #path(key: string): string {
    const path = resolve(this.root, key);
    const inside = relative(this.root, path);
    if (inside.startsWith('..') || isAbsolute(inside)) {
      throw new StoreError(path, `key ${JSON.stringify(key)} points outside ${this.root}`);
    }
    return path;
  }

  async get(key: string): Promise<Uint8Array> {
    const path = this.#path(key);
    try {
      const buffer = await readFile(path);
      return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    } catch (error) {
      throw fsError(path, error);
    }
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    await this.#writeVia(key, bytes, rename);
  }

  /** Like put, but fails with AlreadyExistsError instead of replacing (link(2) never overwrites). */
  async putNew(key: string, bytes: Uint8Array): Promise<void> {
    await this.#writeVia(key, bytes, link);
  }

  /** Writes a temp file beside the target, then `commit`s it into place, so readers never see a partial file. */
  async #writeVia(
    key: string,
    bytes: Uint8Array,
    commit: (temp: string, path: string) => Promise<void>,
  ): Promise<void> {
    const path = this.#path(key);
    const temp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(temp, bytes);
      await commit(temp, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new AlreadyExistsError(path, 'already exists', { cause: error });
      }
      throw fsError(path, error);
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  async exists(key: string): Promise<boolean> {
    const path = this.#path(key);
    try {
      return (await stat(path)).isFile();
    } catch (error) {
      const mapped = fsError(path, error);
      if (mapped instanceof NotFoundError) return false;
      throw mapped;
    }
  }

  async hasAny(prefix: string): Promise<boolean> {
    const path = this.#path(prefix);
    try {
      return (await readdir(path)).length > 0;
    } catch (error) {
      const mapped = fsError(path, error);
      if (mapped instanceof NotFoundError) return false;
      throw mapped;
    }
  }

  stream(key: string): Readable {
    const path = this.#path(key);
    async function* chunks(): AsyncGenerator<Uint8Array> {
      let file: Awaited<ReturnType<typeof open>>;
      try {
        file = await open(path);
      } catch (error) {
        throw fsError(path, error);
      }
      try {
        yield* file.createReadStream({ autoClose: false });
      } finally {
        await file.close();
      }
    }
    return Readable.from(chunks(), { objectMode: false });
  }
}

export function createStore(uri: string, options: { s3?: S3Client } = {}): BundleStore {
  const parsed = parseModelUri(uri);
  if (parsed.kind === 'dir') return new DirStore(parsed.path);
  return new S3Store(options.s3 ?? createS3Client(), parsed.bucket, parsed.prefix);
}

/**
 * A byte stream of one object: s3://bucket/key or a local path / file:// URI. The request starts on first
 * read; a missing object arrives as a NotFoundError stream error. Training uses it for CSV input.
 */
export function openStream(uri: string, options: { s3?: S3Client } = {}): Readable {
  const trimmed = uri.trim();
  if (trimmed.startsWith('s3://')) {
    const { bucket, key } = splitS3Uri(trimmed);
    if (key.length === 0 || key.endsWith('/')) {
      throw new ModelUriError(`${JSON.stringify(uri)} names a prefix, not an object (s3://bucket/key)`);
    }
    return new S3Store(options.s3 ?? createS3Client(), bucket, '').stream(key);
  }
  const parsed = parseModelUri(trimmed);
  if (parsed.kind !== 'dir') throw new ModelUriError(`${JSON.stringify(uri)} is not an object URI`);
  return new DirStore(dirname(parsed.path)).stream(basename(parsed.path));
}
