/**
 * Reading a bundle, step by step: resolve a URI to one version (a version prefix, or a root's `latest`
 * pointer), fetch every file the manifest lists in parallel and verify every sha256. What the files
 * become (tokenizer, model, runtime) is src/model/'s business.
 */
import { InternalError, messageOf, NotFoundError } from '../errors.ts';
import { defaultStorage, type Storage, type Store } from '../storage/index.ts';
import { LATEST_POINTER, MANIFEST_FILE, type Manifest, parseManifest, VERSION_PATTERN } from './manifest.ts';
import { verifyFiles } from './verify.ts';

export interface BundleTimings {
  /** Reading manifest.json and `latest` (and the pointed-to manifest.json). */
  resolveMs: number;
  /** Until every byte is in memory, resolveMs included. */
  fetchMs: number;
  verifyMs: number;
  bytes: number;
}

export interface LoadedBundle {
  manifest: Manifest;
  /** The files read (every listed one unless `only` chose), manifest.json included, all verified. */
  files: Map<string, Uint8Array>;
  version: string;
  /** The version prefix the files came from. */
  uri: string;
  timings: BundleTimings;
}

const elapsed = (since: number): number => Math.round(performance.now() - since);

/** A bundle's content is inconsistent: the message names the version's URI. */
export function bundleError(uri: string, message: string, cause?: unknown): InternalError {
  return new InternalError(`bundle ${uri}: ${message}`, { cause });
}

export interface LoadOptions {
  storage?: Storage;
  store?: Store;
  /**
   * The listed files to read and verify, chosen from the manifest (serving reads only what its runtime
   * needs: src/model/build.ts filesForRuntime). Default: every file, as copying a bundle needs.
   */
  only?: (found: { manifest: Manifest; uri: string }) => readonly string[];
}

export async function loadBundle(uri: string, options: LoadOptions = {}): Promise<LoadedBundle> {
  const store = options.store ?? (options.storage ?? defaultStorage()).store(uri);
  const start = performance.now();
  const { prefix, manifestBytes, pointer } = await resolveVersion(store);
  const versionUri = store.uriOf(prefix);
  const resolveMs = elapsed(start);
  const manifest = parseManifestBytes(manifestBytes, versionUri);
  if (pointer !== null && manifest.version !== pointer) {
    throw bundleError(versionUri, `latest names ${pointer} but its manifest.json says ${manifest.version}`);
  }
  const names = options.only ? options.only({ manifest, uri: versionUri }) : Object.keys(manifest.files);
  const files = new Map<string, Uint8Array>(
    await Promise.all(names.map(async (name) => [name, await store.get(prefix + name)] as const)),
  );
  const fetchMs = elapsed(start);
  const verifyStart = performance.now();
  try {
    verifyFiles(manifest, files, names);
    files.set(MANIFEST_FILE, manifestBytes);
  } catch (error) {
    throw bundleError(versionUri, messageOf(error), error);
  }
  const bytes = [...files.values()].reduce((sum, b) => sum + b.byteLength, 0);
  return {
    manifest,
    files,
    version: manifest.version,
    uri: versionUri,
    timings: { resolveMs, fetchMs, verifyMs: elapsed(verifyStart), bytes },
  };
}

interface ResolvedVersion {
  /** Key prefix of the version inside the store: '' when the URI is the version itself. */
  prefix: string;
  manifestBytes: Uint8Array;
  /** The version `latest` named, or null when the URI named the version directly. */
  pointer: string | null;
}

/** Both reads start at once, so a root URI costs one round trip more than a version URI, not two. */
async function resolveVersion(store: Store): Promise<ResolvedVersion> {
  const [manifest, latest] = await Promise.allSettled([store.get(MANIFEST_FILE), store.get(LATEST_POINTER)]);
  if (manifest.status === 'fulfilled') return { prefix: '', manifestBytes: manifest.value, pointer: null };
  if (latest.status === 'rejected') {
    if (manifest.reason instanceof NotFoundError && latest.reason instanceof NotFoundError) {
      throw new NotFoundError(
        `${store.describe()}: neither ${MANIFEST_FILE} (a bundle version) nor ${LATEST_POINTER} (a bundle root) exists`,
        { cause: manifest.reason },
      );
    }
    throw manifest.reason instanceof NotFoundError ? latest.reason : manifest.reason;
  }
  const pointer = parsePointer(latest.value, store.uriOf(LATEST_POINTER));
  const prefix = `${pointer}/`;
  try {
    return { prefix, manifestBytes: await store.get(prefix + MANIFEST_FILE), pointer };
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    throw bundleError(
      store.describe(),
      `latest names version ${pointer}, which has no ${MANIFEST_FILE}`,
      error,
    );
  }
}

function parsePointer(bytes: Uint8Array, uri: string): string {
  const text = new TextDecoder().decode(bytes).trim();
  if (!VERSION_PATTERN.test(text)) {
    throw bundleError(uri, `the pointer holds ${JSON.stringify(text.slice(0, 80))}, not a version id`);
  }
  return text;
}

export function parseJson(bytes: Uint8Array, name: string, uri: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw bundleError(uri, `${name} is not valid JSON (${messageOf(error)})`, error);
  }
}

function parseManifestBytes(bytes: Uint8Array, uri: string): Manifest {
  const json = parseJson(bytes, MANIFEST_FILE, uri);
  try {
    return parseManifest(json);
  } catch (error) {
    throw bundleError(uri, messageOf(error), error);
  }
}
