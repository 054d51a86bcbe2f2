/**
 * `lstm-pool`: as `lstm`, but the review is read from every step, not only the last: the (bi)LSTM's
 * outputs are pooled over time (masked mean and max, concatenated). Long reviews whose verdict sits early
 * no longer depend on a state carried through hundreds of steps.
 */
import * as tf from '../tf.ts';
import { MaskedPooling } from './layers.ts';
import { addDropout, recurrent, softmaxOutput, wordEmbedding } from './parts.ts';
import type { Architecture } from './settings.ts';

export function buildLstmPool(a: Architecture): tf.LayersModel {
  const model = tf.sequential({ name: 'review_sentiment' });
  model.add(wordEmbedding(a, a.numWords, true));
  addDropout(model, a, 2, 'embedding_dropout');
  model.add(recurrent(a, true));
  model.add(new MaskedPooling({ mode: 'mean-max', name: 'pooling' }));
  addDropout(model, a, 5, 'pooled_dropout');
  model.add(softmaxOutput(a));
  return model;
}
