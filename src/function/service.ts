/**
 * One model of this execution environment: loaded on first use, once, by memoising the load promise. A
 * failed load is forgotten, and retried after a back-off (backoff.ts): the first request after it ends, or
 * a health probe calling warm(), starts the new load, so a cold start racing an S3 hiccup heals itself
 * without re-downloading the bundle on every request in between.
 */
import type { Manifest } from '../bundle/manifest.ts';
import { loadBundle } from '../bundle/read.ts';
import { messageOf, UnavailableError } from '../errors.ts';
import { buildScorer, filesForRuntime, preloadOnnxRuntime } from '../model/build.ts';
import type { BackendPreference, RuntimePreference } from '../model/runtime.ts';
import type { Scorer } from '../model/scorer.ts';
import type { Storage } from '../storage/index.ts';
import { type Clock, createBackoff, type Random, retryAfterSeconds } from './backoff.ts';
import { modelUnavailable } from './http/problems.ts';

export interface LoadedModel {
  scorer: Scorer;
  manifest: Manifest;
  /** 'onnx' or 'tfjs'. */
  runtime: string;
  /** The TensorFlow.js backend; null on ONNX Runtime. */
  backend: string | null;
  loadMs: number;
  /** The version prefix the bundle came from. */
  uri: string;
}

export interface ModelStatus {
  state: 'idle' | 'loading' | 'ready' | 'failed';
  modelUri: string;
  runtime?: string;
  backend?: string | null;
  model?: { name: string; version: string };
  /** The bundle's class names, once loaded. */
  labels?: string[];
  error?: string;
  /** While failed: whole seconds until a new load may start (0 once the back-off has passed). */
  retryAfterSeconds?: number;
}

export interface ModelService {
  /** The loaded model; starts the load if needed. Rejects with UnavailableError (503) during a back-off. */
  get(): Promise<LoadedModel>;
  status(): ModelStatus;
  /** Starts a load unless the model is loaded, loading or backing off; never waits, never throws. */
  warm(): void;
}

/** Loading failed; get() tries again once the back-off ends. The HTTP layer answers 503 with Retry-After. */
function loadFailed(uri: string, cause: unknown, retryAfterMs: number): UnavailableError {
  return new UnavailableError(`cannot load the model from ${uri}: ${messageOf(cause)}`, {
    cause,
    problem: modelUnavailable(retryAfterSeconds(retryAfterMs)),
  });
}

export interface ModelServiceOptions {
  modelUri: string;
  storage?: Storage;
  runtime?: RuntimePreference;
  backend?: BackendPreference;
  logger?: { info(msg: string, extra?: object): void; error(msg: string, extra?: object): void };
  selectBackend?: (preference: BackendPreference) => Promise<{ name: string }>;
  /** The back-off's time and jitter sources (tests pass fixed ones instead of sleeping). */
  clock?: Clock;
  random?: Random;
  /** Told about every load attempt as it ends (metrics): how long it took and whether it worked. */
  onLoad?: (outcome: { ok: boolean; ms: number }) => void;
}

const WARM_UP_TEXT = 'warm up the model with one prediction';

export function createModelService(options: ModelServiceOptions): ModelService {
  const backoff = createBackoff(options.clock, options.random);
  const clock = options.clock ?? Date.now;
  let pending: Promise<LoadedModel> | undefined;
  let current: ModelStatus = { state: 'idle', modelUri: options.modelUri };
  let lastFailure: unknown;

  const start = (): Promise<LoadedModel> => {
    current = { state: 'loading', modelUri: options.modelUri };
    const startedAt = clock();
    pending = load(options).then(
      (loaded) => {
        backoff.reset();
        options.onLoad?.({ ok: true, ms: loaded.loadMs });
        current = {
          state: 'ready',
          modelUri: options.modelUri,
          runtime: loaded.runtime,
          backend: loaded.backend,
          model: { name: loaded.manifest.name, version: loaded.manifest.version },
          labels: [...loaded.manifest.labels],
        };
        return loaded;
      },
      (cause: unknown) => {
        pending = undefined;
        lastFailure = cause;
        const delayMs = backoff.fail();
        options.onLoad?.({ ok: false, ms: Math.max(0, clock() - startedAt) });
        const error = loadFailed(options.modelUri, cause, delayMs);
        current = { state: 'failed', modelUri: options.modelUri, error: error.message };
        options.logger?.error('model load failed', {
          modelUri: options.modelUri,
          error: error.message,
          retryInMs: delayMs,
        });
        throw error;
      },
    );
    return pending;
  };

  const get = (): Promise<LoadedModel> => {
    if (pending) return pending;
    const waitMs = current.state === 'failed' ? backoff.remainingMs() : 0;
    if (waitMs > 0) return Promise.reject(loadFailed(options.modelUri, lastFailure, waitMs));
    return start();
  };

  const warm = (): void => {
    if (pending || (current.state === 'failed' && backoff.remainingMs() > 0)) return;
    // The outcome is recorded in status() and logged by start(); nobody waits for this promise.
    start().catch(() => undefined);
  };

  const status = (): ModelStatus => {
    if (current.state !== 'failed') return { ...current };
    const remaining = backoff.remainingMs();
    return { ...current, retryAfterSeconds: remaining > 0 ? retryAfterSeconds(remaining) : 0 };
  };

  return { get, status, warm };
}

async function load(options: ModelServiceOptions): Promise<LoadedModel> {
  const start = performance.now();
  // ONNX Runtime's native library loads while the bundle downloads (unless tfjs is forced).
  if (options.runtime !== 'tfjs') preloadOnnxRuntime();
  const preference = options.runtime ?? 'auto';
  const bundle = await loadBundle(options.modelUri, {
    ...(options.storage ? { storage: options.storage } : {}),
    only: (found) => filesForRuntime(found, preference),
  });
  const buildStart = performance.now();
  // ONNX Runtime for a bundle with model.onnx (RUNTIME=auto), else TensorFlow.js on its backend; the
  // other runtime's code is never imported.
  const scorer = await buildScorer(bundle, {
    runtime: preference,
    backend: options.backend ?? 'auto',
    ...(options.selectBackend ? { selectBackend: options.selectBackend } : {}),
  });
  const buildMs = Math.round(performance.now() - buildStart);
  const warmStart = performance.now();
  try {
    await warmUp(scorer);
  } catch (error) {
    await scorer.dispose();
    throw error;
  }
  const warmUpMs = Math.round(performance.now() - warmStart);
  const loadMs = Math.round(performance.now() - start);
  const { runtime } = scorer;
  options.logger?.info('model loaded', {
    modelUri: options.modelUri,
    uri: bundle.uri,
    model: { name: bundle.manifest.name, version: bundle.version },
    runtime: runtime.name,
    backend: runtime.backend,
    bytes: bundle.timings.bytes,
    timings: {
      resolveMs: bundle.timings.resolveMs,
      fetchMs: bundle.timings.fetchMs,
      verifyMs: bundle.timings.verifyMs,
      buildMs,
      warmUpMs,
      loadMs,
      // When the load began, in ms since the process started: what a cold start spent before it.
      startedAtMs: Math.round(start),
    },
  });
  return {
    scorer,
    manifest: bundle.manifest,
    runtime: runtime.name,
    backend: runtime.backend,
    loadMs,
    uri: bundle.uri,
  };
}

/** Compiles the kernels before the first request, and refuses a model whose output is not a distribution. */
async function warmUp(scorer: Scorer): Promise<void> {
  const [prediction] = await scorer.predict([WARM_UP_TEXT]);
  const total = Object.values(prediction?.probabilities ?? {}).reduce((sum, p) => sum + p, 0);
  if (!Number.isFinite(total) || Math.abs(total - 1) > 0.01) {
    throw new Error(`warm-up prediction is not a probability distribution (sum ${total})`);
  }
}
