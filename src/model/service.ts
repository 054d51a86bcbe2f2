/**
 * The model of this execution environment: loaded on first use, once, by memoising the load promise. A
 * failed load is forgotten so the next request retries (a cold start racing an S3 hiccup heals itself).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { type BackendPreference, selectBackend as defaultSelectBackend } from './backend.ts';
import { buildScorer, loadBundle } from './bundle-loader.ts';
import type { Manifest } from './manifest.ts';
import type { Scorer } from './scorer.ts';

export interface LoadedModel {
  scorer: Scorer;
  manifest: Manifest;
  backend: string;
  loadMs: number;
  /** The version prefix the bundle came from. */
  uri: string;
}

export interface ModelStatus {
  state: 'idle' | 'loading' | 'ready' | 'failed';
  modelUri: string;
  backend?: string;
  model?: { name: string; version: string };
  error?: string;
}

export interface ModelService {
  get(): Promise<LoadedModel>;
  status(): ModelStatus;
}

/** Loading failed; the next get() tries again. The HTTP layer answers 503 with Retry-After. */
export class ModelLoadError extends Error {
  override name = 'ModelLoadError';
  readonly uri: string;
  constructor(uri: string, cause: unknown) {
    super(`cannot load the model from ${uri}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.uri = uri;
  }
}

export interface ModelServiceOptions {
  modelUri: string;
  s3?: S3Client;
  backend?: BackendPreference;
  logger?: { info(msg: string, extra?: object): void; error(msg: string, extra?: object): void };
  selectBackend?: (preference: BackendPreference) => Promise<{ name: string }>;
}

const WARM_UP_TEXT = 'warm up the model with one prediction';

export function createModelService(options: ModelServiceOptions): ModelService {
  let pending: Promise<LoadedModel> | undefined;
  let current: ModelStatus = { state: 'idle', modelUri: options.modelUri };

  const get = (): Promise<LoadedModel> => {
    if (pending) return pending;
    current = { state: 'loading', modelUri: options.modelUri };
    pending = load(options).then(
      (loaded) => {
        current = {
          state: 'ready',
          modelUri: options.modelUri,
          backend: loaded.backend,
          model: { name: loaded.manifest.name, version: loaded.manifest.version },
        };
        return loaded;
      },
      (cause: unknown) => {
        pending = undefined;
        const error = new ModelLoadError(options.modelUri, cause);
        current = { state: 'failed', modelUri: options.modelUri, error: error.message };
        options.logger?.error('model load failed', { modelUri: options.modelUri, error: error.message });
        throw error;
      },
    );
    return pending;
  };

  return { get, status: () => ({ ...current }) };
}

async function load(options: ModelServiceOptions): Promise<LoadedModel> {
  const start = performance.now();
  const select = options.selectBackend ?? defaultSelectBackend;
  // The backend (wasm compile, native library) and the download proceed at the same time.
  const [backend, bundle] = await Promise.all([
    select(options.backend ?? 'auto'),
    loadBundle(options.modelUri, options.s3 ? { s3: options.s3 } : {}),
  ]);
  const buildStart = performance.now();
  const scorer = await buildScorer(bundle);
  const buildMs = Math.round(performance.now() - buildStart);
  const warmStart = performance.now();
  try {
    warmUp(scorer);
  } catch (error) {
    scorer.model.dispose();
    throw error;
  }
  const warmUpMs = Math.round(performance.now() - warmStart);
  const loadMs = Math.round(performance.now() - start);
  options.logger?.info('model loaded', {
    modelUri: options.modelUri,
    uri: bundle.uri,
    model: { name: bundle.manifest.name, version: bundle.version },
    backend: backend.name,
    bytes: bundle.timings.bytes,
    timings: {
      resolveMs: bundle.timings.resolveMs,
      fetchMs: bundle.timings.fetchMs,
      verifyMs: bundle.timings.verifyMs,
      buildMs,
      warmUpMs,
      loadMs,
    },
  });
  return { scorer, manifest: bundle.manifest, backend: backend.name, loadMs, uri: bundle.uri };
}

/** Compiles the kernels before the first request, and refuses a model whose output is not a distribution. */
function warmUp(scorer: Scorer): void {
  const [prediction] = scorer.predict([WARM_UP_TEXT]);
  const total = Object.values(prediction?.probabilities ?? {}).reduce((sum, p) => sum + p, 0);
  if (!Number.isFinite(total) || Math.abs(total - 1) > 0.01) {
    throw new Error(`warm-up prediction is not a probability distribution (sum ${total})`);
  }
}
