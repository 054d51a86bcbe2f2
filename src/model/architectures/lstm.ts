/**
 * `lstm`: word ids → embedding (maskZero) → LSTM (optionally bidirectional) → dropout → softmax, the
 * original design (the last state reads the review). The input length is left open so sequences can be
 * fed unpadded (serving) or padded per length bucket (training); masking makes both equal the padded result.
 */
import * as tf from '../tf.ts';
import { addDropout, recurrent, softmaxOutput, wordEmbedding } from './parts.ts';
import type { Architecture } from './settings.ts';

export function buildLstm(a: Architecture): tf.LayersModel {
  const model = tf.sequential({ name: 'review_sentiment' });
  model.add(wordEmbedding(a, a.numWords, true));
  addDropout(model, a, 2, 'embedding_dropout');
  model.add(recurrent(a, false));
  addDropout(model, a, 5, 'lstm_dropout');
  model.add(softmaxOutput(a));
  return model;
}
