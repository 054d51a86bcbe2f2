/**
 * Assembles and checks the files of one bundle version in memory. Both the training publisher and
 * the serving loader use these, so the checksum rule is defined once.
 */
import type * as tf from '@tensorflow/tfjs';
import { sha256Hex } from '../common/hash.ts';
import { InternalError } from '../errors.ts';
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
};

/** Every file of a bundle, manifest.json last (Map order is the order a publisher must write in). */
export async function createBundleFiles(spec: BundleSpec): Promise<Map<string, Uint8Array>> {
  const encoder = new TextEncoder();
  const files = new Map<string, Uint8Array>(Object.entries(await modelToFiles(spec.model)));
  files.set(TOKENIZER_FILE, encoder.encode(JSON.stringify(spec.tokenizer.toJSON())));
  const entries: Record<string, FileEntry> = {};
  for (const [path, bytes] of files) entries[path] = { sha256: sha256Hex(bytes), bytes: bytes.byteLength };
  const manifest: Manifest = parseManifest({
    format: BUNDLE_FORMAT,
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
    files: entries,
  });
  files.set(MANIFEST_FILE, encoder.encode(`${JSON.stringify(manifest, null, 2)}\n`));
  return files;
}

/** Throws InternalError naming the first file that is missing, has the wrong size or the wrong sha256. */
export function verifyFiles(manifest: Manifest, files: ReadonlyMap<string, Uint8Array>): void {
  for (const [path, entry] of Object.entries(manifest.files)) {
    const bytes = files.get(path);
    if (!bytes) throw new InternalError(`${path} is listed in manifest.json but was not read`);
    if (bytes.byteLength !== entry.bytes) {
      throw new InternalError(`${path}: ${bytes.byteLength} bytes, manifest.json says ${entry.bytes}`);
    }
    const actual = sha256Hex(bytes);
    if (actual !== entry.sha256) {
      throw new InternalError(`${path}: sha256 ${actual} does not match manifest.json (${entry.sha256})`);
    }
  }
}
