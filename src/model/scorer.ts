/**
 * Scores texts with a loaded bundle. Masked bundles run on each text's real tokens only: texts are
 * sorted by length and batched with others of similar length, each batch pre-padded to its own longest
 * (masking makes that equal to padding to maxLen). Unmasked bundles get the padded computation.
 */
import * as tf from '@tensorflow/tfjs';
import { padPre, type WordTokenizer } from '../text/tokenizer.ts';
import type { Manifest } from './manifest.ts';

export interface Prediction {
  /** The most probable label: its number for ordinal labels (1-5), else its name. */
  rating: number | string;
  /** Expected rating Σ p·k to 3 decimals, or null when labels are not ordinal. */
  score: number | null;
  probabilities: Record<string, number>;
  /** Known words the model saw (after truncation to maxLen); 0 means the text carried no signal it knows. */
  tokens: number;
}

const MAX_BATCH = 64;

export class Scorer {
  readonly model: tf.LayersModel;
  readonly tokenizer: WordTokenizer;
  readonly manifest: Manifest;

  constructor(model: tf.LayersModel, tokenizer: WordTokenizer, manifest: Manifest) {
    this.model = model;
    this.tokenizer = tokenizer;
    this.manifest = manifest;
  }

  predict(texts: readonly string[]): Prediction[] {
    const { maxLen } = this.manifest.preprocessing;
    const sequences = texts.map((text) => this.tokenizer.encode(text, maxLen));
    const probabilities = this.probabilities(sequences);
    return sequences.map((seq, i) => this.#prediction(probabilities[i] ?? [], seq.length));
  }

  /** Class probabilities for each encoded sequence, in input order. */
  probabilities(sequences: readonly Int32Array[]): Float32Array[] {
    const fixedLength = this.manifest.maskZero ? null : this.manifest.preprocessing.maxLen;
    return batchedProbabilities(this.model, sequences, fixedLength);
  }

  #prediction(p: ArrayLike<number>, tokens: number): Prediction {
    const { labels, labelValues } = this.manifest;
    let best = 0;
    for (let k = 1; k < labels.length; k++) if ((p[k] ?? 0) > (p[best] ?? 0)) best = k;
    const probabilities: Record<string, number> = {};
    labels.forEach((label, k) => {
      probabilities[label] = round(p[k] ?? 0, 4);
    });
    const expected = labelValues ? labelValues.reduce((sum, value, k) => sum + value * (p[k] ?? 0), 0) : null;
    return {
      rating: labelValues?.[best] ?? labels[best] ?? String(best),
      score: expected === null ? null : round(expected, 3),
      probabilities,
      tokens,
    };
  }
}

/**
 * Runs the model over length batches and returns each sequence's class probabilities in input order.
 * `fixedLength` null = masked model, each batch padded to its own longest; else every batch padded to it.
 */
export function batchedProbabilities(
  model: tf.LayersModel,
  sequences: readonly Int32Array[],
  fixedLength: number | null,
): Float32Array[] {
  const out: Float32Array[] = new Array(sequences.length);
  for (const batch of lengthBatches(sequences, fixedLength)) {
    const rows = batch.rows.map((i) => sequences[i] ?? new Int32Array(0));
    const flat = tf.tidy(() => {
      const input = tf.tensor2d(padPre(rows, batch.length), [rows.length, batch.length], 'int32');
      return (model.predict(input) as tf.Tensor).dataSync() as Float32Array;
    });
    const classes = flat.length / rows.length;
    batch.rows.forEach((row, j) => {
      out[row] = flat.slice(j * classes, (j + 1) * classes);
    });
  }
  return out;
}

export interface LengthBatch {
  /** Indices into the input, all padded to `length`. */
  rows: number[];
  length: number;
}

/**
 * Groups sequences of similar length (sorted, a new batch when the longest would exceed 1.25x the
 * shortest + 4, or at MAX_BATCH rows). With `fixedLength` every batch is padded to it instead.
 * Empty sequences get length 1: one padding id, fully masked, equals the empty computation.
 */
export function lengthBatches(
  sequences: readonly ArrayLike<number>[],
  fixedLength: number | null,
): LengthBatch[] {
  const order = sequences.map((s, i) => [Math.max(1, s.length), i] as const).sort((a, b) => a[0] - b[0]);
  const batches: LengthBatch[] = [];
  let current: LengthBatch | null = null;
  let shortest = 0;
  for (const [length, index] of order) {
    if (!current || current.rows.length >= MAX_BATCH || length > shortest * 1.25 + 4) {
      current = { rows: [], length };
      shortest = length;
      batches.push(current);
    }
    current.rows.push(index);
    current.length = fixedLength ?? length;
  }
  return batches;
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
