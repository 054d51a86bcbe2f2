/**
 * Cold start, step by step: resolve MODEL_URI to one version (a version prefix, or a root's `latest`
 * pointer), fetch every file the manifest lists in parallel, verify every sha256, then rebuild the
 * tokenizer and the model in memory and check they agree with the manifest before anything is served.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type * as tf from '@tensorflow/tfjs';
import { type TokenizerJson, WordTokenizer } from '../text/tokenizer.ts';
import { ChecksumError, verifyFiles } from './bundle-files.ts';
import {
  LATEST_POINTER,
  MANIFEST_FILE,
  type Manifest,
  MODEL_FILE,
  parseManifest,
  TOKENIZER_FILE,
  VERSION_PATTERN,
} from './manifest.ts';
import { Scorer } from './scorer.ts';
import { modelFromFiles, weightPaths } from './serialize.ts';
import { BundleError, type BundleStore, createStore, NotFoundError } from './store.ts';

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
  /** Every file of the version, manifest.json included, all verified. */
  files: Map<string, Uint8Array>;
  version: string;
  /** The version prefix the files came from. */
  uri: string;
  timings: BundleTimings;
}

const elapsed = (since: number): number => Math.round(performance.now() - since);

export async function loadBundle(
  uri: string,
  options: { s3?: S3Client; store?: BundleStore } = {},
): Promise<LoadedBundle> {
  const store = options.store ?? createStore(uri, options);
  const start = performance.now();
  const { prefix, manifestBytes, pointer } = await resolveVersion(store);
  const versionUri = store.uriOf(prefix);
  const resolveMs = elapsed(start);
  const manifest = parseManifestBytes(manifestBytes, versionUri);
  if (pointer !== null && manifest.version !== pointer) {
    throw new BundleError(
      versionUri,
      `latest names ${pointer} but its manifest.json says ${manifest.version}`,
    );
  }
  const files = new Map<string, Uint8Array>(
    await Promise.all(
      Object.keys(manifest.files).map(async (name) => [name, await store.get(prefix + name)] as const),
    ),
  );
  files.set(MANIFEST_FILE, manifestBytes);
  const fetchMs = elapsed(start);
  const verifyStart = performance.now();
  try {
    verifyFiles(manifest, files);
  } catch (error) {
    if (error instanceof ChecksumError) throw new BundleError(versionUri, error.message, { cause: error });
    throw error;
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
async function resolveVersion(store: BundleStore): Promise<ResolvedVersion> {
  const [manifest, latest] = await Promise.allSettled([store.get(MANIFEST_FILE), store.get(LATEST_POINTER)]);
  if (manifest.status === 'fulfilled') return { prefix: '', manifestBytes: manifest.value, pointer: null };
  if (latest.status === 'rejected') {
    if (manifest.reason instanceof NotFoundError && latest.reason instanceof NotFoundError) {
      throw new NotFoundError(
        store.describe(),
        `neither ${MANIFEST_FILE} (a bundle version) nor ${LATEST_POINTER} (a bundle root) exists`,
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
    throw new BundleError(
      store.describe(),
      `latest names version ${pointer}, which has no ${MANIFEST_FILE}`,
      {
        cause: error,
      },
    );
  }
}

function parsePointer(bytes: Uint8Array, uri: string): string {
  const text = new TextDecoder().decode(bytes).trim();
  if (!VERSION_PATTERN.test(text)) {
    throw new BundleError(uri, `the pointer holds ${JSON.stringify(text.slice(0, 80))}, not a version id`);
  }
  return text;
}

function parseJson(bytes: Uint8Array, name: string, uri: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new BundleError(uri, `${name} is not valid JSON (${(error as Error).message})`, { cause: error });
  }
}

function parseManifestBytes(bytes: Uint8Array, uri: string): Manifest {
  const json = parseJson(bytes, MANIFEST_FILE, uri);
  try {
    return parseManifest(json);
  } catch (error) {
    throw new BundleError(uri, (error as Error).message, { cause: error });
  }
}

function fileOf(loaded: BundleParts, name: string): Uint8Array {
  const bytes = loaded.files.get(name);
  if (!bytes) throw new BundleError(loaded.uri, `${name} is missing`);
  return bytes;
}

type BundleParts = Pick<LoadedBundle, 'manifest' | 'files' | 'uri'>;

/** Tokenizer + model from verified bytes, checked against the manifest; the backend must already be set. */
export async function buildScorer(loaded: BundleParts): Promise<Scorer> {
  const tokenizer = buildTokenizer(loaded);
  const model = await buildModel(loaded);
  try {
    checkModel(loaded, model);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return new Scorer(model, tokenizer, loaded.manifest);
}

function buildTokenizer(loaded: BundleParts): WordTokenizer {
  const json = parseJson(fileOf(loaded, TOKENIZER_FILE), TOKENIZER_FILE, loaded.uri);
  let tokenizer: WordTokenizer;
  try {
    tokenizer = new WordTokenizer(json as TokenizerJson);
  } catch (error) {
    throw new BundleError(loaded.uri, (error as Error).message, { cause: error });
  }
  const p = loaded.manifest.preprocessing;
  const mismatch = (what: string, actual: unknown, expected: unknown): never => {
    throw new BundleError(
      loaded.uri,
      `tokenizer.json ${what} is ${JSON.stringify(actual)} but manifest.json preprocessing says ${JSON.stringify(expected)}`,
    );
  };
  if (tokenizer.numWords !== p.numWords) mismatch('numWords', tokenizer.numWords, p.numWords);
  if (tokenizer.normalizer !== p.normalizer) mismatch('normalizer', tokenizer.normalizer, p.normalizer);
  if (tokenizer.oovIndex !== p.oovIndex) mismatch('oovIndex', tokenizer.oovIndex, p.oovIndex);
  return tokenizer;
}

async function buildModel(loaded: BundleParts): Promise<tf.LayersModel> {
  const modelJson = parseJson(fileOf(loaded, MODEL_FILE), MODEL_FILE, loaded.uri);
  let paths: string[];
  try {
    paths = weightPaths(modelJson);
  } catch (error) {
    throw new BundleError(loaded.uri, (error as Error).message, { cause: error });
  }
  for (const path of paths) {
    // Only files the manifest lists were fetched and verified.
    if (!loaded.manifest.files[path]) {
      throw new BundleError(loaded.uri, `model.json needs ${path}, which manifest.json does not list`);
    }
  }
  try {
    return await modelFromFiles(modelJson, (path) => fileOf(loaded, path));
  } catch (error) {
    if (error instanceof BundleError) throw error;
    throw new BundleError(
      loaded.uri,
      `model.json and its weights do not build a model: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

function checkModel(loaded: BundleParts, model: tf.LayersModel): void {
  const { manifest, uri } = loaded;
  const units = model.outputs.length === 1 ? model.outputs[0]?.shape.at(-1) : undefined;
  if (units !== manifest.labels.length) {
    throw new BundleError(
      uri,
      `the model outputs ${units ?? `${model.outputs.length} tensors`} classes but manifest.json lists ${manifest.labels.length} labels`,
    );
  }
  const embedding = model.layers.find((layer) => layer.getClassName() === 'Embedding');
  if (!embedding) throw new BundleError(uri, 'the model has no Embedding layer to take word ids');
  const config = embedding.getConfig();
  if (config.inputDim !== manifest.preprocessing.numWords) {
    throw new BundleError(
      uri,
      `the embedding takes ${String(config.inputDim)} word ids but manifest.json preprocessing.numWords is ${manifest.preprocessing.numWords}`,
    );
  }
  if (Boolean(config.maskZero) !== manifest.maskZero) {
    throw new BundleError(
      uri,
      `the embedding has maskZero ${String(config.maskZero)} but manifest.json says maskZero ${manifest.maskZero}`,
    );
  }
}
