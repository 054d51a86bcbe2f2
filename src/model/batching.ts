/**
 * Length batching, shared by serving, evaluation and training: sequences sorted by length and grouped with
 * others of similar length, each batch pre-padded to its own longest (masking makes that equal to
 * padding to maxLen), so a batch of short reviews never pays for one long one.
 */

import { padPre } from '../text/tokenizer.ts';
import * as tf from './tf.ts';

const MAX_BATCH = 64;

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
