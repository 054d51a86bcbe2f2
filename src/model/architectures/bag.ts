/**
 * `bag`: fastText (Joulin et al., 2017): word and hashed word-pair embeddings, pooled (`pooling`: their
 * mean, sqrtn for texts of very different lengths, or attention to weight the words that carry the
 * sentiment) → softmax.
 * Order-blind beyond pairs, but fast and strong on review ratings; it trains in minutes where the LSTMs
 * take hours here.
 */
import * as tf from '../tf.ts';
import { MaskedPooling, NgramIds } from './layers.ts';
import { addDropout, softmaxOutput, wordEmbedding } from './parts.ts';
import type { Architecture } from './settings.ts';

export function buildBag(a: Architecture): tf.LayersModel {
  const model = tf.sequential({ name: 'review_sentiment' });
  if (a.buckets > 0) {
    model.add(new NgramIds({ numWords: a.numWords, buckets: a.buckets, inputShape: [null], name: 'ngrams' }));
  }
  model.add(wordEmbedding(a, a.numWords + a.buckets, a.buckets === 0));
  model.add(new MaskedPooling({ mode: a.pooling, name: 'pooling' }));
  addDropout(model, a, 5, 'pooled_dropout');
  model.add(softmaxOutput(a));
  return model;
}
