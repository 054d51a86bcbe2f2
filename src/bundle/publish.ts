/**
 * Publishes one bundle version to a folder or S3 prefix so a reader never sees half of it: refuse an
 * existing version, upload the files, read each back and verify its sha256, write manifest.json last,
 * and only then move `latest`. A failure at any step leaves `latest` on the previous version.
 */
import {
  type AppError,
  type AppErrorOptions,
  BadRequestError,
  ConflictError,
  messageOf,
  UnavailableError,
} from '../errors.ts';
import { defaultStorage, type Storage, type Store } from '../storage/index.ts';
import { LATEST_POINTER, MANIFEST_FILE, type Manifest, parseManifest } from './manifest.ts';
import { verifyFiles } from './verify.ts';

export interface PublishOptions {
  storage?: Storage;
  /** Progress lines (one per step). */
  log?: (message: string) => void;
  /** False publishes the version without moving `latest` (e.g. a candidate to try first). Default true. */
  setLatest?: boolean;
  /** Overrides the store `storage` would open for outUri. */
  store?: Store;
}

export interface Published {
  /** The version's own prefix: usable as MODEL_URI to pin this version. */
  uri: string;
  version: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.bin': 'application/octet-stream',
};

type ErrorKind = new (message: string, options?: AppErrorOptions) => AppError;

/** Publishing refused or failed; the message names the destination and says `latest` was not moved. */
function publishError(Kind: ErrorKind, uri: string, message: string, cause?: unknown): AppError {
  return new Kind(`publish to ${uri}: ${message}`, { cause });
}

function contentType(name: string): string {
  return CONTENT_TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream';
}

export async function publishBundle(
  files: ReadonlyMap<string, Uint8Array>,
  outUri: string,
  options: PublishOptions = {},
): Promise<Published> {
  const log = options.log ?? (() => undefined);
  const manifest = checkedManifest(files, outUri);
  const store = options.store ?? (options.storage ?? defaultStorage()).store(outUri);
  const prefix = `${manifest.version}/`;
  const uri = store.uriOf(prefix);
  await refuseExisting(store, prefix, uri);
  const start = performance.now();
  try {
    await writeVersion(store, prefix, files, manifest);
  } catch (error) {
    const raced = error instanceof ConflictError;
    const why = raced ? 'another publisher wrote this version' : messageOf(error);
    throw publishError(
      raced ? ConflictError : UnavailableError,
      uri,
      `${why}; ${LATEST_POINTER} was not moved`,
      error,
    );
  }
  log(`uploaded and verified ${files.size} files to ${uri}`);
  if (options.setLatest ?? true) {
    try {
      await store.put(LATEST_POINTER, new TextEncoder().encode(`${manifest.version}\n`), 'text/plain');
    } catch (error) {
      const why = `the version is complete, but moving ${LATEST_POINTER} failed (${messageOf(error)})`;
      throw publishError(UnavailableError, uri, `${why}; use the version URI or retry the pointer`, error);
    }
    log(`${store.uriOf(LATEST_POINTER)} -> ${manifest.version}`);
  }
  log(`published ${manifest.name} ${manifest.version} in ${Math.round(performance.now() - start)} ms`);
  return { uri, version: manifest.version };
}

/** Files in parallel, each read back and verified, then manifest.json last (so readers never see half). */
async function writeVersion(
  store: Store,
  prefix: string,
  files: ReadonlyMap<string, Uint8Array>,
  manifest: Manifest,
): Promise<void> {
  const payload = [...files].filter(([name]) => name !== MANIFEST_FILE);
  await Promise.all(payload.map(([name, bytes]) => store.putNew(prefix + name, bytes, contentType(name))));
  const readBack = await Promise.all(
    payload.map(async ([name]) => [name, await store.get(prefix + name)] as const),
  );
  verifyFiles(manifest, new Map(readBack));
  const manifestBytes = files.get(MANIFEST_FILE) ?? new Uint8Array();
  await store.putNew(prefix + MANIFEST_FILE, manifestBytes, 'application/json');
  if (!sameBytes(await store.get(prefix + MANIFEST_FILE), manifestBytes)) {
    throw new Error(`${MANIFEST_FILE} read back differs from what was written`);
  }
}

/** The bundle must be complete and self-consistent before anything is written. */
function checkedManifest(files: ReadonlyMap<string, Uint8Array>, outUri: string): Manifest {
  const bytes = files.get(MANIFEST_FILE);
  if (!bytes)
    throw publishError(
      BadRequestError,
      outUri,
      `the bundle has no ${MANIFEST_FILE} (build it with createBundleFiles)`,
    );
  let manifest: Manifest;
  try {
    manifest = parseManifest(JSON.parse(new TextDecoder().decode(bytes)));
    verifyFiles(manifest, files);
  } catch (error) {
    throw publishError(BadRequestError, outUri, `the bundle is not valid: ${messageOf(error)}`, error);
  }
  const unlisted = [...files.keys()].filter((name) => name !== MANIFEST_FILE && !manifest.files[name]);
  if (unlisted.length > 0) {
    throw publishError(
      BadRequestError,
      outUri,
      `${unlisted.join(', ')} not listed in ${MANIFEST_FILE}; nothing would verify them`,
    );
  }
  return manifest;
}

async function refuseExisting(store: Store, prefix: string, uri: string): Promise<void> {
  const [published, occupied] = await Promise.all([
    store.exists(prefix + MANIFEST_FILE),
    store.hasAny(prefix),
  ]);
  if (published)
    throw publishError(
      ConflictError,
      uri,
      'this version already exists; versions are immutable, train a new one',
    );
  if (occupied) {
    throw publishError(
      ConflictError,
      uri,
      'the version prefix already holds files without a manifest (an earlier upload failed part-way?); delete them or publish under a new version',
    );
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;
}
