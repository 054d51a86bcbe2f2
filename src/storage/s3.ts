/** S3 (and S3-compatible servers): `s3://bucket/prefix/`. */
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { BadRequestError, ConflictError, NotFoundError, UnavailableError } from '../errors.ts';
import { fastGet } from './s3-get.ts';
import {
  type ByteRange,
  checkByteRange,
  type StorageContext,
  type StorageKind,
  type Store,
} from './store.ts';

/**
 * The AWS SDK loads on first use, not with this module: reading a bundle goes through ./s3-get.ts, so a
 * cold start never pays for the SDK unless it writes, lists, or its GET needs the SDK's help.
 */
const sdk = () => import('@aws-sdk/client-s3');

export interface S3Location {
  kind: 's3';
  bucket: string;
  /** '' or a key prefix ending in '/'. */
  prefix: string;
}

const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Splits s3://bucket/key without normalising the key. */
function splitS3Uri(uri: string): { bucket: string; key: string } {
  const rest = uri.trim().slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  const key = slash === -1 ? '' : rest.slice(slash + 1);
  const bad = (why: string): never => {
    throw new BadRequestError(`${JSON.stringify(uri)}${why}`);
  };
  if (bucket.length === 0) bad(' has no bucket (s3://bucket/prefix)');
  if (!BUCKET_PATTERN.test(bucket)) bad(`: ${JSON.stringify(bucket)} is not a valid S3 bucket name`);
  if (key.split('/').some((part) => part === '.' || part === '..')) {
    bad(': "." and ".." are not allowed in an S3 key');
  }
  return { bucket, key };
}

export const s3Kind: StorageKind<S3Location> = {
  parse(uri) {
    const { bucket, key } = splitS3Uri(uri);
    const prefix = key.replace(/^\/+/, '').replace(/\/*$/, '/');
    if (prefix.includes('//')) throw new BadRequestError(`${JSON.stringify(uri)} has an empty path segment`);
    return { kind: 's3', bucket, prefix: prefix === '/' ? '' : prefix };
  },
  open: (location, context) => new S3Store(context, location.bucket, location.prefix),
  object(uri, context) {
    const { bucket, key } = splitS3Uri(uri);
    if (key.length === 0 || key.endsWith('/')) {
      throw new BadRequestError(`${JSON.stringify(uri)} names a prefix, not an object (s3://bucket/key)`);
    }
    return { store: new S3Store(context, bucket, ''), key };
  },
};

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

function s3Error(uri: string, error: unknown): Error {
  const e = (error ?? {}) as AwsErrorLike;
  if (e.name === 'NoSuchBucket')
    return new NotFoundError(`${uri}: the bucket does not exist`, { cause: error });
  if (e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404) {
    return new NotFoundError(`${uri}: no such object`, { cause: error });
  }
  return new UnavailableError(`${uri}: ${describeS3Error(error)}`, { cause: error });
}

export class S3Store implements Store {
  readonly #context: StorageContext;
  readonly bucket: string;
  readonly prefix: string;

  constructor(context: StorageContext, bucket: string, prefix: string) {
    this.#context = context;
    this.bucket = bucket;
    this.prefix = prefix;
  }

  #client(): Promise<S3Client> {
    return this.#context.s3();
  }

  describe(): string {
    return `s3://${this.bucket}/${this.prefix}`;
  }

  uriOf(key: string): string {
    return `s3://${this.bucket}/${this.prefix}${key}`;
  }

  async get(key: string): Promise<Uint8Array> {
    const fast = this.#context.s3Get();
    try {
      const bytes = fast ? await fastGet(fast, this.bucket, this.prefix + key) : undefined;
      if (bytes) return bytes;
      const { GetObjectCommand } = await sdk();
      const out = await (await this.#client()).send(
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
    const { PutObjectCommand } = await sdk();
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: this.prefix + key,
      Body: bytes,
      ContentLength: bytes.byteLength,
      ContentType: contentType ?? 'application/octet-stream',
      ...(onlyNew ? { IfNoneMatch: '*' } : {}),
    });
    try {
      await (await this.#client()).send(command);
    } catch (error) {
      const status = (error as AwsErrorLike | undefined)?.$metadata?.httpStatusCode;
      if (onlyNew && (status === 412 || status === 409)) {
        throw new ConflictError(`${this.uriOf(key)}: already exists`, { cause: error });
      }
      throw s3Error(this.uriOf(key), error);
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      const { HeadObjectCommand } = await sdk();
      await (await this.#client()).send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }),
      );
      return true;
    } catch (error) {
      const mapped = s3Error(this.uriOf(key), error);
      if (mapped instanceof NotFoundError) return false;
      throw mapped;
    }
  }

  async hasAny(prefix: string): Promise<boolean> {
    // No MaxKeys: a version prefix holds a handful of keys, and s3rver fails (500) on truncated listings.
    try {
      const { ListObjectsV2Command } = await sdk();
      const command = new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix });
      const out = await (await this.#client()).send(command);
      return (out.KeyCount ?? out.Contents?.length ?? 0) > 0;
    } catch (error) {
      throw s3Error(this.uriOf(prefix), error);
    }
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    try {
      const { ListObjectsV2Command } = await sdk();
      const client = await this.#client();
      do {
        const out = await client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.prefix + prefix,
            ...(token ? { ContinuationToken: token } : {}),
          }),
        );
        for (const object of out.Contents ?? []) {
          if (object.Key) keys.push(object.Key.slice(this.prefix.length));
        }
        token = out.IsTruncated ? out.NextContinuationToken : undefined;
      } while (token);
    } catch (error) {
      throw s3Error(this.uriOf(prefix), error);
    }
    return keys.sort();
  }

  stream(key: string, range?: ByteRange): Readable {
    const { bucket } = this;
    const client = () => this.#client();
    const fullKey = this.prefix + key;
    const uri = this.uriOf(key);
    checkByteRange(range, uri);
    const header = range && `bytes=${range.start}-${range.end ?? ''}`;
    // Lazy: the request starts when the consumer first reads, and its failure arrives as a stream error.
    async function* chunks(): AsyncGenerator<Uint8Array> {
      let body: Readable;
      try {
        const { GetObjectCommand } = await sdk();
        const out = await (await client()).send(
          new GetObjectCommand({ Bucket: bucket, Key: fullKey, ...(header ? { Range: header } : {}) }),
        );
        body = out.Body as Readable;
      } catch (error) {
        // 416: the range starts at or past the end. Empty, as a folder's read past the end is.
        if (header && (error as AwsErrorLike | undefined)?.$metadata?.httpStatusCode === 416) return;
        throw s3Error(header ? `${uri} (${header})` : uri, error);
      }
      try {
        yield* body;
      } catch (error) {
        throw new UnavailableError(`${uri}: reading failed: ${describeS3Error(error)}`, { cause: error });
      } finally {
        // A consumer that stops early (a byte range read to its last line) releases the connection.
        body.destroy();
      }
    }
    return Readable.from(chunks(), { objectMode: false });
  }
}
