/**
 * From a bundle's verified bytes to something that scores: the tokenizer, checked against the manifest,
 * and a runtime. ONNX Runtime when the bundle carries model.onnx (or RUNTIME=onnx), else TensorFlow.js.
 * Each runtime's module is imported only when chosen: serving on ONNX never loads TensorFlow.js.
 */
import { TOKENIZER_FILE } from '../bundle/manifest.ts';
import { bundleError, type LoadedBundle, parseJson } from '../bundle/read.ts';
import { messageOf } from '../errors.ts';
import { type TokenizerJson, WordTokenizer } from '../text/tokenizer.ts';
import type { BackendPreference, RuntimePreference, ScoringRuntime } from './runtime.ts';
import { Scorer } from './scorer.ts';

type BundleParts = Pick<LoadedBundle, 'manifest' | 'files' | 'uri'>;

export interface BuildOptions {
  /** Default `auto`. */
  runtime?: RuntimePreference;
  /** TensorFlow.js only. Default `auto`. */
  backend?: BackendPreference;
  /** TensorFlow.js only: selects the backend (default ./backend.ts's selectBackend). */
  selectBackend?: (preference: BackendPreference) => Promise<{ name: string }>;
  /** ONNX Runtime only: intra-op threads (default: the graph's record, else the CPUs this process may use). */
  threads?: number;
}

/** Tokenizer + runtime from verified bytes, both checked against the manifest. */
export async function buildScorer(loaded: BundleParts, options: BuildOptions = {}): Promise<Scorer> {
  const tokenizer = buildTokenizer(loaded);
  const runtime = await buildRuntime(loaded, options);
  return new Scorer(runtime, tokenizer, loaded.manifest);
}

/** Which runtime a bundle gets under a preference; throws when RUNTIME=onnx meets a bundle without a graph. */
export function chooseRuntime(
  loaded: Pick<BundleParts, 'manifest' | 'uri'>,
  preference: RuntimePreference = 'auto',
): 'onnx' | 'tfjs' {
  const graph = loaded.manifest.runtime?.onnx;
  if (preference === 'tfjs') return 'tfjs';
  if (graph) return 'onnx';
  if (preference === 'onnx') {
    throw bundleError(
      loaded.uri,
      'RUNTIME=onnx but the bundle has no model.onnx (convert it: npm run convert -- --from <bundle> --out <root>)',
    );
  }
  return 'tfjs';
}

/**
 * The files a runtime reads, for loadBundle's `only`: ONNX Runtime needs the graph and the tokenizer, not
 * the TensorFlow.js weights (half a bag bundle's bytes), so a cold start neither downloads nor hashes them.
 */
export function filesForRuntime(
  loaded: Pick<BundleParts, 'manifest' | 'uri'>,
  preference: RuntimePreference = 'auto',
): string[] {
  const { files, runtime } = loaded.manifest;
  const onnx = runtime?.onnx?.file;
  if (chooseRuntime(loaded, preference) === 'onnx' && onnx) return [onnx, TOKENIZER_FILE];
  return Object.keys(files).filter((name) => name !== onnx);
}

/**
 * Starts loading ONNX Runtime's module (its native library) without waiting: the service calls this
 * while the bundle downloads, so a cold start pays for the two at once. A failure surfaces when the
 * runtime is built; the tfjs path never needs it.
 */
export function preloadOnnxRuntime(): void {
  onnxModule ??= import('./onnx/runtime.ts');
  onnxModule.catch(() => {
    onnxModule = undefined;
  });
}

let onnxModule: Promise<typeof import('./onnx/runtime.ts')> | undefined;

/** The intra-op threads the graph's record asks for, or undefined for the runtime's default (the CPUs). */
export function recordedThreads(manifest: BundleParts['manifest']): number | undefined {
  return manifest.runtime?.onnx?.intraOpThreads === 1 ? 1 : undefined;
}

async function buildRuntime(loaded: BundleParts, options: BuildOptions): Promise<ScoringRuntime> {
  if (chooseRuntime(loaded, options.runtime) === 'onnx') {
    const file = loaded.manifest.runtime?.onnx?.file ?? '';
    const bytes = loaded.files.get(file);
    if (!bytes) throw bundleError(loaded.uri, `${file} is missing`);
    preloadOnnxRuntime();
    const { OnnxScorer } = await (onnxModule ?? import('./onnx/runtime.ts'));
    let runtime: ScoringRuntime;
    try {
      const threads = options.threads ?? recordedThreads(loaded.manifest);
      runtime = await OnnxScorer.create(bytes, threads ? { intraOpNumThreads: threads } : {});
    } catch (error) {
      throw bundleError(loaded.uri, `${file} does not load in ONNX Runtime: ${messageOf(error)}`, error);
    }
    await checkClasses(loaded, runtime);
    return runtime;
  }
  const select = options.selectBackend ?? (await import('./backend.ts')).selectBackend.bind(undefined);
  const backend = await select(options.backend ?? 'auto');
  const { buildTfjsRuntime } = await import('./tfjs-runtime.ts');
  return buildTfjsRuntime(loaded, backend.name);
}

/** The graph must give one probability per label (model.json's output is checked in tfjs-runtime.ts). */
async function checkClasses(loaded: BundleParts, runtime: ScoringRuntime): Promise<void> {
  const [row] = await runtime.probabilities([Int32Array.of(1)]);
  const labels = loaded.manifest.labels.length;
  if (row?.length !== labels) {
    await runtime.dispose();
    throw bundleError(
      loaded.uri,
      `${loaded.manifest.runtime?.onnx?.file} outputs ${row?.length} classes but manifest.json lists ${labels} labels`,
    );
  }
}

function buildTokenizer(loaded: BundleParts): WordTokenizer {
  const json = parseJson(fileOf(loaded, TOKENIZER_FILE), TOKENIZER_FILE, loaded.uri);
  let tokenizer: WordTokenizer;
  try {
    tokenizer = new WordTokenizer(json as TokenizerJson);
  } catch (error) {
    throw bundleError(loaded.uri, messageOf(error), error);
  }
  const p = loaded.manifest.preprocessing;
  const mismatch = (what: string, actual: unknown, expected: unknown): never => {
    throw bundleError(
      loaded.uri,
      `tokenizer.json ${what} is ${JSON.stringify(actual)} but manifest.json preprocessing says ${JSON.stringify(expected)}`,
    );
  };
  if (tokenizer.numWords !== p.numWords) mismatch('numWords', tokenizer.numWords, p.numWords);
  if (tokenizer.normalizer !== p.normalizer) mismatch('normalizer', tokenizer.normalizer, p.normalizer);
  if (tokenizer.oovIndex !== p.oovIndex) mismatch('oovIndex', tokenizer.oovIndex, p.oovIndex);
  return tokenizer;
}

function fileOf(loaded: BundleParts, name: string): Uint8Array {
  const bytes = loaded.files.get(name);
  if (!bytes) throw bundleError(loaded.uri, `${name} is missing`);
  return bytes;
}
