/**
 * Assembles and checks the files of one bundle version in memory (the model also as a verified ONNX graph). Both the training publisher and
 * the serving loader use these, so the checksum rule is defined once.
 */

import { sha256Hex } from '../common/hash.ts';
import { verifiedOnnx } from '../model/onnx/bundle.ts';
import { ONNX_FILE } from '../model/onnx/io.ts';
import type * as tf from '../model/tf.ts';
import type { WordTokenizer } from '../text/tokenizer.ts';
import {
  BUNDLE_FORMAT,
  type FileEntry,
  MANIFEST_FILE,
  type Manifest,
  ordinalValues,
  parseManifest,
  TOKENIZER_FILE,
} from './manifest.ts';
import { modelToFiles } from './serialize.ts';

export { verifyFiles } from './verify.ts';

/** Version ids sort by time and say which data made them: 20261121T214500Z-3f2a9c1b. */
export function makeVersionId(date: Date, dataSha256: string): string {
  const stamp = date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${dataSha256.slice(0, 8)}`;
}

/** What training hands over; the rest of the manifest (format, files, preprocessing) is derived here. */
export type BundleSpec = Pick<
  Manifest,
  'name' | 'version' | 'labels' | 'maskZero' | 'postprocessing' | 'architecture' | 'training' | 'metrics'
> & {
  model: tf.LayersModel;
  tokenizer: WordTokenizer;
  maxLen: number;
  createdAt?: Date;
  /**
   * Export model.onnx and hold it to the model within 1e-5 on probe sequences, refusing (throwing) when
   * it differs or cannot be exported. Default true; false only for models ONNX cannot reproduce
   * (unmasked embeddings), which are then served with TensorFlow.js.
   */
  onnx?: boolean;
};

/** Every file of a bundle, manifest.json last (Map order is the order a publisher must write in). */
export async function createBundleFiles(spec: BundleSpec): Promise<Map<string, Uint8Array>> {
  const encoder = new TextEncoder();
  const files = new Map<string, Uint8Array>(Object.entries(await modelToFiles(spec.model)));
  files.set(TOKENIZER_FILE, encoder.encode(JSON.stringify(spec.tokenizer.toJSON())));
  let runtime: Manifest['runtime'];
  if (spec.onnx ?? true) {
    const onnx = await verifiedOnnx(spec.model, {
      tokenizer: spec.tokenizer,
      maxLen: spec.maxLen,
      metadata: { name: spec.name, version: spec.version },
    });
    files.set(ONNX_FILE, onnx.bytes);
    runtime = { onnx: onnx.record };
  }
  return assembleBundle(files, {
    name: spec.name,
    version: spec.version,
    createdAt: (spec.createdAt ?? new Date()).toISOString(),
    labels: spec.labels,
    labelValues: ordinalValues(spec.labels),
    preprocessing: {
      normalizer: spec.tokenizer.normalizer,
      numWords: spec.tokenizer.numWords,
      oovIndex: spec.tokenizer.oovIndex,
      maxLen: spec.maxLen,
      padding: 'pre',
      truncating: 'pre',
    },
    maskZero: spec.maskZero,
    ...(spec.postprocessing ? { postprocessing: spec.postprocessing } : {}),
    architecture: spec.architecture,
    training: spec.training,
    metrics: spec.metrics,
    ...(runtime ? { runtime } : {}),
  });
}

/**
 * The files plus manifest.json, written last, listing each file's sha256 and size (the one place the
 * checksum rule lives). `fields` is the manifest without format and files.
 */
export function assembleBundle(
  payload: ReadonlyMap<string, Uint8Array>,
  fields: Omit<Manifest, 'format' | 'files'>,
): Map<string, Uint8Array> {
  const files = new Map([...payload].filter(([name]) => name !== MANIFEST_FILE));
  const entries: Record<string, FileEntry> = {};
  for (const [path, bytes] of files) entries[path] = { sha256: sha256Hex(bytes), bytes: bytes.byteLength };
  const manifest: Manifest = parseManifest({ format: BUNDLE_FORMAT, ...fields, files: entries });
  files.set(MANIFEST_FILE, new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`));
  return files;
}
