/**
 * Loss and accuracy. Sparse categorical cross-entropy on the softmax output, probabilities clipped to
 * [1e-7, 1 - 1e-7] as Keras does; validation loss is unweighted, as in Keras.
 */
import * as tf from '@tensorflow/tfjs';
import { lengthBatches } from '../src/model/batching.ts';
import { padPre } from '../src/text/tokenizer.ts';
import type { BatchMode } from './batches.ts';

export interface FitData {
  sequences: Int32Array[];
  labels: Int32Array;
}

/** Per-sample cross-entropy -log p[y] with Keras's clipping of the probabilities. */
export function sampleCrossEntropy(probs: tf.Tensor2D, y: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const clipped = tf.clipByValue(probs, 1e-7, 1 - 1e-7);
    const picked = tf.sum(tf.mul(tf.oneHot(y, probs.shape[1]), clipped), -1);
    return tf.neg(tf.log(picked)) as tf.Tensor1D;
  });
}

/** Batch loss: mean(ce), or mean(w[y] * ce) with class weights (Keras class_weight semantics). */
export function crossEntropy(
  probs: tf.Tensor2D,
  y: tf.Tensor1D,
  classWeights: tf.Tensor1D | null,
): tf.Scalar {
  return tf.tidy(() => {
    const ce = sampleCrossEntropy(probs, y);
    return tf.mean(classWeights ? tf.mul(ce, tf.gather(classWeights, y)) : ce) as tf.Scalar;
  });
}

export function countCorrect(probs: tf.Tensor2D, y: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(probs, -1), y), 'float32')) as tf.Scalar);
}

/** Unweighted loss and accuracy without dropout; batches grouped by length like serving does. */
export function evaluateLoss(
  model: tf.LayersModel,
  data: FitData,
  mode: BatchMode,
  maxLen: number,
): { loss: number; accuracy: number } {
  let lossSum = 0;
  let correct = 0;
  for (const batch of lengthBatches(data.sequences, mode === 'padded' ? maxLen : null)) {
    const length = Math.min(batch.length, maxLen);
    const rows = batch.rows.map((i) => data.sequences[i] ?? new Int32Array(0));
    const sums = tf.tidy(() => {
      const x = tf.tensor2d(padPre(rows, length), [rows.length, length], 'int32');
      const y = tf.tensor1d(
        Int32Array.from(batch.rows, (i) => data.labels[i] ?? 0),
        'int32',
      );
      const probs = model.apply(x, { training: false }) as tf.Tensor2D;
      return tf.stack([tf.sum(sampleCrossEntropy(probs, y)), countCorrect(probs, y)]);
    });
    const [loss = Number.NaN, hits = 0] = sums.dataSync();
    sums.dispose();
    lossSum += loss;
    correct += hits;
  }
  const n = data.sequences.length;
  return { loss: lossSum / n, accuracy: correct / n };
}
