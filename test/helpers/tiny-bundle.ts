/**
 * A real, small bundle for tests: a tokenizer fit on a few sentences and an untrained model from the
 * production factory (seeded, so outputs are repeatable). Nothing is mocked.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createBundleFiles } from '../../src/bundle/files.ts';
import { LATEST_POINTER, MANIFEST_FILE, type Manifest } from '../../src/bundle/manifest.ts';
import { createModel } from '../../src/model/architectures/index.ts';
import { PROBE_TEXTS } from '../../src/model/onnx/bundle.ts';
import type { NormalizerName } from '../../src/text/normalize.ts';
import { WordTokenizer } from '../../src/text/tokenizer.ts';

/** The exporter's real probe texts: the tiny tokenizer is fitted on them, so the probes read known words. */
export const TINY_TEXTS = PROBE_TEXTS;

export interface TinyBundleOptions {
  version?: string;
  /** The manifest name (default tiny-test-model). */
  name?: string;
  labels?: string[];
  /** An architecture of the registry (default lstm). */
  arch?: string;
  maskZero?: boolean;
  /** Export model.onnx (default: when maskZero, the models ONNX reproduces). */
  onnx?: boolean;
  normalizer?: NormalizerName;
  seed?: number;
  maxLen?: number;
}

export async function makeTinyBundle(options: TinyBundleOptions = {}): Promise<{
  files: Map<string, Uint8Array>;
  manifest: Manifest;
}> {
  const labels = options.labels ?? ['1', '2', '3', '4', '5'];
  const maskZero = options.maskZero ?? true;
  const tokenizer = WordTokenizer.fit(TINY_TEXTS, {
    normalizer: options.normalizer ?? 'keras-original-v1',
    numWords: 40,
  });
  const architecture = {
    arch: options.arch ?? 'lstm',
    buckets: 0,
    pooling: 'mean' as const,
    numWords: tokenizer.numWords,
    numClasses: labels.length,
    embeddingDim: 8,
    lstmUnits: 6,
    bidirectional: false,
    dropout: 0,
    maskZero,
    seed: options.seed ?? 7,
  };
  const model = createModel(architecture);
  const files = await createBundleFiles({
    model,
    tokenizer,
    name: options.name ?? 'tiny-test-model',
    version: options.version ?? 'v1',
    labels,
    maxLen: options.maxLen ?? 20,
    maskZero,
    architecture,
    training: { note: 'untrained test fixture' },
    metrics: {},
    // ONNX reproduces masked models only; an unmasked fixture is a tfjs-only bundle.
    onnx: options.onnx ?? maskZero,
  });
  model.dispose();
  const manifest = JSON.parse(new TextDecoder().decode(files.get(MANIFEST_FILE))) as Manifest;
  return { files, manifest };
}

/** Writes a bundle as <root>/<version>/<file> and, when asked, the `latest` pointer beside it. */
export async function writeBundleDir(
  root: string,
  files: ReadonlyMap<string, Uint8Array>,
  version: string,
  options: { latest?: boolean } = {},
): Promise<string> {
  const dir = join(root, version);
  await mkdir(dir, { recursive: true });
  for (const [name, bytes] of files) await writeFile(join(dir, name), bytes);
  if (options.latest) await writeFile(join(root, LATEST_POINTER), `${version}\n`);
  return dir;
}
