/**
 * The model bundle contract between training and serving: one immutable folder or S3 prefix per version
 * holding model.json + weights (TensorFlow.js layers format), model.onnx (the same model as an ONNX
 * graph, for serving on ONNX Runtime), tokenizer.json and manifest.json. The
 * manifest is written last and lists the sha256 of every other file; serving verifies each before use.
 */
import { InternalError } from '../errors.ts';
import { DECISION_RULES, type Postprocessing } from '../model/postprocess.ts';
import { isNormalizerName, type NormalizerName } from '../text/normalize.ts';

export const BUNDLE_FORMAT = 'review-sentiment-bundle/1';
export const MANIFEST_FILE = 'manifest.json';
export const MODEL_FILE = 'model.json';
export const TOKENIZER_FILE = 'tokenizer.json';
export const LATEST_POINTER = 'latest';

export interface FileEntry {
  sha256: string;
  bytes: number;
}

export interface Preprocessing {
  normalizer: NormalizerName;
  numWords: number;
  oovIndex: number | null;
  /** Longest sequence the model sees; longer texts keep their last maxLen ids. */
  maxLen: number;
  padding: 'pre';
  truncating: 'pre';
}

export interface Manifest {
  format: typeof BUNDLE_FORMAT;
  name: string;
  version: string;
  createdAt: string;
  /** Class names in output order, e.g. ["1","2","3","4","5"]. */
  labels: string[];
  /** Numeric value of each label for the expected score, or null when the labels are not ordinal. */
  labelValues: number[] | null;
  preprocessing: Preprocessing;
  /** True when the embedding masks id 0, so a sequence may be run on its real tokens only. */
  maskZero: boolean;
  /** Fitted on validation at training time; absent in older bundles (probabilities as given, argmax). */
  postprocessing?: Postprocessing;
  architecture: Record<string, unknown>;
  training: Record<string, unknown>;
  metrics: Record<string, unknown>;
  files: Record<string, FileEntry>;
  /**
   * Other runtimes' forms of the same model. `onnx`: model.onnx, checked against the tfjs files on probe
   * sequences before publishing (src/model/onnx/bundle.ts records what it takes and the check). Absent in
   * bundles from before the ONNX graph: those are served with TensorFlow.js.
   */
  runtime?: { onnx?: OnnxRecord };
  /** Set by `npm run convert`: the version this one was made from (same model, files added). */
  convertedFrom?: { version: string; uri: string; createdAt: string; note: string };
}

export interface OnnxRecord {
  /** A file the manifest lists. */
  file: string;
  opset: number;
  [detail: string]: unknown;
}

export const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Validates a parsed manifest.json; every failure names the field. */
export function parseManifest(value: unknown): Manifest {
  const m = value as Manifest;
  const fail = (why: string): never => {
    throw new InternalError(`manifest.json: ${why}`);
  };
  if (typeof m !== 'object' || m === null) fail('not a JSON object');
  if (m.format !== BUNDLE_FORMAT) fail(`format must be "${BUNDLE_FORMAT}", got ${JSON.stringify(m.format)}`);
  if (typeof m.name !== 'string' || m.name.length === 0) fail('name must be a non-empty string');
  if (typeof m.version !== 'string' || !VERSION_PATTERN.test(m.version)) fail('version is not a valid id');
  if (!Array.isArray(m.labels) || m.labels.length < 2 || m.labels.some((l) => typeof l !== 'string')) {
    fail('labels must list at least two class names');
  }
  if (m.labelValues !== null) {
    const ok = Array.isArray(m.labelValues) && m.labelValues.every((v) => Number.isFinite(v));
    if (!ok || m.labelValues.length !== m.labels.length)
      fail('labelValues must be null or one number per label');
  }
  validatePreprocessing(m.preprocessing, fail);
  if (typeof m.maskZero !== 'boolean') fail('maskZero must be a boolean');
  if (m.postprocessing !== undefined)
    validatePostprocessing(m.postprocessing, m.labels.length, m.labelValues !== null, fail);
  validateFiles(m.files, fail);
  const onnx = m.runtime?.onnx;
  if (onnx !== undefined) {
    if (typeof onnx !== 'object' || onnx === null || typeof onnx.file !== 'string' || !m.files[onnx.file]) {
      fail('runtime.onnx.file must name a file the manifest lists');
    }
    if (!Number.isInteger(onnx.opset)) fail('runtime.onnx.opset must be an integer');
  }
  return m;
}

function validatePreprocessing(p: Preprocessing, fail: (why: string) => never): void {
  if (typeof p !== 'object' || p === null) fail('preprocessing is missing');
  if (!isNormalizerName(p.normalizer))
    fail(`preprocessing.normalizer ${JSON.stringify(p.normalizer)} is unknown`);
  if (!Number.isInteger(p.numWords) || p.numWords < 2) fail('preprocessing.numWords must be an integer >= 2');
  if (!Number.isInteger(p.maxLen) || p.maxLen < 1) fail('preprocessing.maxLen must be a positive integer');
  if (p.padding !== 'pre' || p.truncating !== 'pre')
    fail('preprocessing.padding and truncating must be "pre"');
}

function validatePostprocessing(
  p: Postprocessing,
  labels: number,
  ordinal: boolean,
  fail: (why: string) => never,
): void {
  if (typeof p !== 'object' || p === null) fail('postprocessing must be an object');
  if (!(Number.isFinite(p.temperature) && p.temperature > 0)) fail('postprocessing.temperature must be > 0');
  if (!DECISION_RULES.includes(p.decision))
    fail(`postprocessing.decision must be one of ${DECISION_RULES.join(', ')}`);
  if (p.decision === 'median' && !ordinal) fail('postprocessing.decision "median" needs ordinal labels');
  if (p.decision === 'offsets') {
    if (!Array.isArray(p.offsets) || p.offsets.length !== labels)
      fail(`postprocessing.offsets must list one number per label (${labels}) when decision is "offsets"`);
    const bad = p.offsets.findIndex((b) => typeof b !== 'number' || !Number.isFinite(b));
    if (bad >= 0)
      fail(`postprocessing.offsets[${bad}] must be a finite number, got ${JSON.stringify(p.offsets[bad])}`);
  } else if (p.offsets !== undefined) {
    fail(`postprocessing.offsets is only read with decision "offsets", not ${JSON.stringify(p.decision)}`);
  }
}

function validateFiles(files: Record<string, FileEntry>, fail: (why: string) => never): void {
  if (typeof files !== 'object' || files === null) fail('files is missing');
  for (const required of [MODEL_FILE, TOKENIZER_FILE]) {
    if (!files[required]) fail(`files must list ${required}`);
  }
  for (const [path, entry] of Object.entries(files)) {
    if (path.includes('/') || path.includes('\\') || path === MANIFEST_FILE || path.startsWith('.')) {
      fail(`files: ${JSON.stringify(path)} is not a plain file name of the bundle`);
    }
    if (!/^[0-9a-f]{64}$/.test(entry?.sha256 ?? '')) fail(`files.${path}.sha256 must be 64 hex digits`);
    if (!Number.isInteger(entry.bytes) || entry.bytes < 0) fail(`files.${path}.bytes must be a byte count`);
  }
}

/** Ordinal labels ("1".."5") get their numeric values, so the expected score Σ p·k is defined. */
export function ordinalValues(labels: readonly string[]): number[] | null {
  const values = labels.map(Number);
  const ordinal =
    labels.every((l) => /^-?\d+(\.\d+)?$/.test(l)) &&
    values.every((v, i) => i === 0 || v > (values[i - 1] ?? v));
  return ordinal ? values : null;
}
