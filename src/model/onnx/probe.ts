/**
 * Holds an exported ONNX model to the tfjs model it came from: the same probe sequences through both,
 * every class probability within a tolerance. Run after export, before an ONNX model is trusted.
 */

import type { WordTokenizer } from '../../text/tokenizer.ts';
import { batchedProbabilities } from '../batching.ts';
import type * as tf from '../tf.ts';
import { OnnxScorer } from './runtime.ts';

export class OnnxMismatchError extends Error {
  override name = 'OnnxMismatchError';
}

export interface ProbeReport {
  rows: number;
  /** Largest |onnx - tfjs| over every row and class. */
  maxDifference: number;
}

/**
 * Runs `probes` through tfjs (masked fast path; the backend must be selected) and through ORT on one
 * thread in one padded batch; throws naming the worst row, class and difference when it exceeds
 * `tolerance`.
 */
export async function checkOnnxAgainstTfjs(
  model: tf.LayersModel,
  onnxBytes: Uint8Array,
  probes: readonly Int32Array[],
  tolerance = 1e-5,
): Promise<ProbeReport> {
  const expected = batchedProbabilities(model, probes, null);
  const scorer = await OnnxScorer.create(onnxBytes, { intraOpNumThreads: 1, chunkRows: Infinity });
  let actual: Float32Array[];
  try {
    actual = await scorer.probabilities(probes);
  } finally {
    await scorer.dispose();
  }
  let worst = { row: -1, k: -1, difference: 0 };
  probes.forEach((_, row) => {
    const want = expected[row] ?? new Float32Array(0);
    const got = actual[row] ?? new Float32Array(0);
    if (got.length !== want.length) {
      throw new OnnxMismatchError(`row ${row}: ONNX gives ${got.length} classes, tfjs ${want.length}`);
    }
    want.forEach((p, k) => {
      const difference = Math.abs((got[k] ?? Number.NaN) - p);
      // NaN never compares greater: treat it as the worst possible.
      if (!(difference <= worst.difference)) worst = { row, k, difference };
    });
  });
  if (!(worst.difference <= tolerance)) {
    const { row, k, difference } = worst;
    throw new OnnxMismatchError(
      `ONNX differs from tfjs by ${difference} (tolerance ${tolerance}) at probe row ${row} ` +
        `(${probes[row]?.length} ids), class ${k}: onnx ${actual[row]?.[k]}, tfjs ${expected[row]?.[k]}`,
    );
  }
  return { rows: probes.length, maxDifference: worst.difference };
}

export interface ProbeOptions {
  /** Total probe sequences (at least the fixed edge cases). */
  count: number;
  /** Valid ids are 1..numWords-1 (0 is padding). */
  numWords: number;
  maxLen: number;
  seed?: number;
  /** Real texts to encode first, when a tokenizer is given. */
  texts?: readonly string[];
  tokenizer?: WordTokenizer;
}

/**
 * The same sequences for the same options on every machine: edge cases (empty, one id, the extreme ids,
 * maxLen long), then the encoded texts, then seeded random ids with lengths spread over 0..maxLen.
 */
export function probeSequences(options: ProbeOptions): Int32Array[] {
  const { count, numWords, maxLen } = options;
  const random = mulberry32(options.seed ?? 1);
  const id = () => 1 + Math.floor(random() * (numWords - 1));
  const probes: Int32Array[] = [
    new Int32Array(0),
    Int32Array.of(1),
    Int32Array.of(numWords - 1),
    Int32Array.from({ length: maxLen }, id),
  ];
  if (options.tokenizer) {
    for (const text of options.texts ?? []) probes.push(options.tokenizer.encode(text, maxLen));
  }
  while (probes.length < count) {
    probes.push(Int32Array.from({ length: Math.floor(random() * (maxLen + 1)) }, id));
  }
  return probes.slice(0, Math.max(count, 4));
}

/** A small seeded PRNG (mulberry32): uniform floats in [0, 1), 32-bit integer steps only. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
