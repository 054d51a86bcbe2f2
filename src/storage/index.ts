/**
 * Where data lives, chosen in one place from a URI. A Storage opens stores (a folder or prefix) and object
 * streams; callers take one Storage instead of threading clients through. A new storage kind is one file
 * in this folder and one line in STORAGE_KINDS.
 */
import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { BadRequestError } from '../errors.ts';
import { type DirLocation, dirKind } from './dir.ts';
import { type S3Location, s3Kind } from './s3.ts';
import { type FastGetConfig, fastGetConfig } from './s3-get.ts';
import type { S3ClientOptions } from './s3-options.ts';
import type { ByteRange, StorageContext, StorageKind, Store } from './store.ts';

export { S3_DEFAULTS, type S3ClientOptions } from './s3-options.ts';
export type { ByteRange, Store } from './store.ts';

/** URI scheme → kind. A path without a scheme is a folder. */
const STORAGE_KINDS = {
  s3: s3Kind,
  file: dirKind,
} as const;

export type StorageLocation = S3Location | DirLocation;

export interface Storage {
  /** A store rooted at the folder or prefix the URI names. */
  store(uri: string): Store;
  /**
   * A byte stream of the object the URI names, or of an inclusive byte range of it (read lazily; a missing
   * object is a stream error).
   */
  stream(uri: string, range?: ByteRange): Readable;
}

export interface StorageOptions {
  /** An S3 client to use, or options for the one made on first use. */
  s3?: S3Client | S3ClientOptions;
}

function kindOf(uri: string): StorageKind<StorageLocation> {
  const trimmed = uri.trim();
  if (trimmed.length === 0) throw new BadRequestError('the storage URI is empty');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(trimmed)?.[1]?.toLowerCase();
  if (scheme === undefined) return STORAGE_KINDS.file as StorageKind<StorageLocation>;
  if (!Object.hasOwn(STORAGE_KINDS, scheme)) {
    const known = Object.keys(STORAGE_KINDS).map((name) => `${name}://`);
    throw new BadRequestError(
      `${JSON.stringify(uri)}: unsupported scheme "${scheme}" (use ${known.join(', ')} or a path)`,
    );
  }
  return STORAGE_KINDS[scheme as keyof typeof STORAGE_KINDS] as StorageKind<StorageLocation>;
}

/** What a URI names, without opening anything (a malformed URI is a BadRequestError). */
export function parseStorageUri(uri: string): StorageLocation {
  return kindOf(uri).parse(uri);
}

export function createStorage(options: StorageOptions = {}): Storage {
  let client: Promise<S3Client> | undefined;
  let fast: FastGetConfig | null | undefined;
  const context: StorageContext = {
    s3: () => {
      const given = options.s3;
      client ??= isClient(given)
        ? Promise.resolve(given)
        : import('./s3-client.ts').then(({ createS3Client }) => createS3Client(given));
      return client;
    },
    // A given client keeps every request (its endpoint and credentials are its own); options or the
    // environment let whole-object reads skip the SDK.
    s3Get: () => {
      if (fast === undefined) fast = isClient(options.s3) ? null : fastGetConfig(options.s3);
      return fast;
    },
  };
  return {
    store: (uri) => {
      const kind = kindOf(uri);
      return kind.open(kind.parse(uri), context);
    },
    stream: (uri, range) => {
      const { store, key } = kindOf(uri).object(uri, context);
      return store.stream(key, range);
    },
  };
}

function isClient(value: S3Client | S3ClientOptions | undefined): value is S3Client {
  return typeof (value as S3Client | undefined)?.send === 'function';
}

let shared: Storage | undefined;

/** The process-wide default: folders, and S3 with the environment's credentials and region. */
export function defaultStorage(): Storage {
  shared ??= createStorage();
  return shared;
}
