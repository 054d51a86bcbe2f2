/**
 * The one interface every storage kind implements: keys are relative to the store's root (a folder or an
 * S3 prefix). Bundles, rankings, feedback and training data all go through it.
 */
import type { Readable } from 'node:stream';
import { BadRequestError } from '../errors.ts';

export interface Store {
  /** The root URI, e.g. s3://bucket/models/ or /srv/models. */
  describe(): string;
  /** The full URI of a key, for messages. */
  uriOf(key: string): string;
  get(key: string): Promise<Uint8Array>;
  /** Writes a whole object; readers never see half of it (folder: temp file + rename; S3: one PUT). */
  put(key: string, bytes: Uint8Array, contentType?: string): Promise<void>;
  /**
   * Like put, but an existing object is a ConflictError instead of being replaced (S3 conditional write
   * `If-None-Match: *`; S3-compatible stores that ignore the header just write).
   */
  putNew(key: string, bytes: Uint8Array, contentType?: string): Promise<void>;
  exists(key: string): Promise<boolean>;
  /** True when any object lives under `prefix` (one cheap listing call). */
  hasAny(prefix: string): Promise<boolean>;
  /** Keys under `prefix`, sorted. */
  list(prefix: string): Promise<string[]>;
  /**
   * A byte stream of one object, or of bytes `start`…`end` of it (both inclusive, as in HTTP `Range`;
   * no `end`: to the end of the object; a range starting past the end is empty). The read starts on first
   * consumption and fails as a stream error; a malformed range is a BadRequestError thrown at once.
   */
  stream(key: string, range?: ByteRange): Readable;
}

/** Inclusive byte offsets, as HTTP `Range: bytes=start-end`; no `end` reads to the end of the object. */
export interface ByteRange {
  start: number;
  end?: number;
}

/** Checks a range before any I/O: integers, 0 <= start <= end. */
export function checkByteRange(range: ByteRange | undefined, uri: string): ByteRange | undefined {
  if (range === undefined) return undefined;
  const { start, end } = range;
  const ok =
    Number.isSafeInteger(start) &&
    start >= 0 &&
    (end === undefined || (Number.isSafeInteger(end) && end >= start));
  if (!ok) {
    throw new BadRequestError(
      `${uri}: byte range ${JSON.stringify(range)} is not integers 0 <= start <= end (end inclusive, optional)`,
    );
  }
  return range;
}

/** Clients a storage kind may need, made once per Storage and only when first used. */
export interface StorageContext {
  /** The AWS SDK's client (its module is imported on the first call). */
  s3(): Promise<import('@aws-sdk/client-s3').S3Client>;
  /** Settings for whole-object reads without the SDK (./s3-get.ts), or null when only the SDK applies. */
  s3Get(): import('./s3-get.ts').FastGetConfig | null;
}

/** One kind of storage (a folder, S3, …): one file in src/storage/ and one line in its registry. */
export interface StorageKind<Location> {
  /** Parses a root (folder or prefix) URI; a malformed one is a BadRequestError naming what is wrong. */
  parse(uri: string): Location;
  open(location: Location, context: StorageContext): Store;
  /** The store that holds the object `uri` names, and the object's key in it. */
  object(uri: string, context: StorageContext): { store: Store; key: string };
}
