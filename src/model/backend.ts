/**
 * Chooses the TensorFlow.js backend once per process. `auto` prefers native TensorFlow (tfjs-node, present
 * in the Docker image), then the wasm backend with our kernels, then the pure-JS cpu backend (correct but
 * far too slow to train). An explicit preference that cannot be set up throws: no silent fallback.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import nodeUtil from 'node:util';
import { registerWasmKernels } from './kernels/index.ts';
import { BACKEND_PREFERENCES, type BackendPreference } from './runtime.ts';
import * as tf from './tf.ts';

export { BACKEND_PREFERENCES, type BackendPreference } from './runtime.ts';

export function isBackendPreference(v: unknown): v is BackendPreference {
  return typeof v === 'string' && (BACKEND_PREFERENCES as readonly string[]).includes(v);
}

export interface BackendInfo {
  preference: BackendPreference;
  /** tf.getBackend(): 'tensorflow', 'wasm' or 'cpu'. */
  name: string;
  package: string;
  /** Backends `auto` tried before this one, and why each was skipped. */
  tried: { package: string; error: string }[];
  ms: number;
  /** wasm only: the binary loaded and the kernels we registered. */
  detail?: string;
}

interface Candidate {
  package: string;
  /** Makes the backend current; throws naming the cause when it cannot. */
  setUp: () => Promise<string | undefined>;
}

const CANDIDATES: Record<Exclude<BackendPreference, 'auto'>, Candidate> = {
  'node-gpu': { package: '@tensorflow/tfjs-node-gpu', setUp: () => setUpNode('@tensorflow/tfjs-node-gpu') },
  node: { package: '@tensorflow/tfjs-node', setUp: () => setUpNode('@tensorflow/tfjs-node') },
  wasm: { package: '@tensorflow/tfjs-backend-wasm', setUp: setUpWasm },
  cpu: { package: '@tensorflow/tfjs-backend-cpu', setUp: () => activate('cpu').then(() => undefined) },
};
const AUTO_ORDER = ['node', 'wasm', 'cpu'] as const;

let selected: Promise<BackendInfo> | undefined;

/**
 * Idempotent: later calls return the first selection's info. `auto` accepts whatever was selected; an
 * explicit preference for another backend throws (the process has one backend). A failed selection is
 * forgotten so the next call retries.
 */
export async function selectBackend(preference: BackendPreference = 'auto'): Promise<BackendInfo> {
  if (!isBackendPreference(preference)) {
    throw new Error(
      `unknown backend preference ${JSON.stringify(preference)}: use ${BACKEND_PREFERENCES.join(', ')}`,
    );
  }
  if (!selected) {
    selected = select(preference);
    selected.catch(() => {
      selected = undefined;
    });
  }
  const info = await selected;
  if (preference !== 'auto' && CANDIDATES[preference].package !== info.package) {
    throw new Error(
      `backend already selected: ${info.name} (${info.package}); cannot switch to ${preference}`,
    );
  }
  return info;
}

async function select(preference: BackendPreference): Promise<BackendInfo> {
  const start = performance.now();
  // Before any tensor exists: silences the cpu backend's "install tfjs-node" banner and debug checks.
  tf.env().set('PROD', true);
  const tried: BackendInfo['tried'] = [];
  const order = preference === 'auto' ? AUTO_ORDER : [preference];
  for (const key of order) {
    const candidate = CANDIDATES[key];
    try {
      const detail = await candidate.setUp();
      const info = { preference, name: tf.getBackend(), package: candidate.package, tried, ms: 0 };
      return { ...info, ms: Math.round(performance.now() - start), ...(detail ? { detail } : {}) };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (preference !== 'auto')
        throw new Error(`backend ${preference} (${candidate.package}) failed: ${message}`);
      tried.push({ package: candidate.package, error: message });
    }
  }
  throw new Error(
    `no TensorFlow.js backend could be set up: ${tried.map((t) => `${t.package}: ${t.error}`).join('; ')}`,
  );
}

async function activate(name: string): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') failed to initialise it`);
  await tf.ready();
}

async function setUpNode(pkg: string): Promise<undefined> {
  polyfillRemovedNodeUtil();
  // A variable specifier: the package is optional (absent outside the Docker image) and stays external.
  const specifier: string = pkg;
  await import(specifier);
  if (!tf.findBackendFactory('tensorflow')) {
    throw new Error(
      `${pkg} loaded but registered no 'tensorflow' backend with this copy of @tensorflow/tfjs`,
    );
  }
  await activate('tensorflow');
  return undefined;
}

/**
 * tfjs-node 4.22.0 calls `util.isNullOrUndefined` and `util.isArray` from node:util; Node 23 removed the
 * first (isArray is deprecated). Fixed upstream in tensorflow/tfjs#8425 but never released (#8609).
 * Restores only the missing helpers, with their documented semantics; remove once tfjs-node > 4.22.0.
 */
export function polyfillRemovedNodeUtil(): string[] {
  const util = nodeUtil as unknown as Record<string, unknown>;
  const helpers: Record<string, (v: unknown) => boolean> = {
    isNullOrUndefined: (v) => v === null || v === undefined,
    isArray: (v) => Array.isArray(v),
  };
  const added: string[] = [];
  for (const [name, fn] of Object.entries(helpers)) {
    if (typeof util[name] !== 'function') {
      util[name] = fn;
      added.push(name);
    }
  }
  return added;
}

const WASM_PACKAGE = '@tensorflow/tfjs-backend-wasm';
const SIMD_BINARY = 'tfjs-backend-wasm-simd.wasm';

async function setUpWasm(): Promise<string> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const dir = wasmBinaryDir();
  // Absolute paths: found from node_modules even when our code is bundled elsewhere (esbuild).
  wasm.setWasmPaths({
    'tfjs-backend-wasm.wasm': join(dir, 'tfjs-backend-wasm.wasm'),
    'tfjs-backend-wasm-simd.wasm': join(dir, SIMD_BINARY),
    'tfjs-backend-wasm-threaded-simd.wasm': join(dir, 'tfjs-backend-wasm-threaded-simd.wasm'),
  });
  if (!(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))) {
    throw new Error('this runtime lacks WebAssembly SIMD; the non-SIMD binary is too slow to be worth using');
  }
  const kernels = registerWasmKernels();
  await activate('wasm');
  return `${SIMD_BINARY}, ${wasm.getThreadsCount()} thread(s), our kernels: ${kernels.join(', ')}`;
}

function wasmBinaryDir(): string {
  const dir = dirname(createRequire(import.meta.url).resolve(WASM_PACKAGE));
  if (!existsSync(join(dir, SIMD_BINARY))) throw new Error(`${SIMD_BINARY} is missing from ${dir}`);
  return dir;
}
