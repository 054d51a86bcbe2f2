/**
 * `lstm`: word ids → embedding (maskZero) → LSTM (optionally bidirectional) → dropout → softmax, the
 * original design. The input length is left open so sequences can be fed unpadded (serving) or padded
 * per length bucket (training); masking makes both equal the padded result.
 */
import * as tf from '@tensorflow/tfjs';
import type { Architecture } from './settings.ts';

export function buildLstm(a: Architecture): tf.LayersModel {
  const seeded = (offset: number) => ({ seed: a.seed + offset });
  const model = tf.sequential({ name: 'review_sentiment' });
  model.add(
    tf.layers.embedding({
      inputDim: a.numWords,
      outputDim: a.embeddingDim,
      maskZero: a.maskZero,
      inputShape: [null],
      embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, ...seeded(1) }),
      name: 'embedding',
    }),
  );
  if (a.dropout > 0)
    model.add(tf.layers.dropout({ rate: a.dropout, ...seeded(2), name: 'embedding_dropout' }));
  const lstm = tf.layers.lstm({
    units: a.lstmUnits,
    // Keras 2 and PyTorch use the logistic sigmoid; tfjs-layers defaults to hard sigmoid, whose gradient
    // alone made a wasm training step ~35% slower. The choice is saved in model.json, so bundles keep theirs.
    recurrentActivation: 'sigmoid',
    kernelInitializer: tf.initializers.glorotUniform(seeded(3)),
    recurrentInitializer: tf.initializers.orthogonal({ gain: 1, ...seeded(4) }),
    name: 'lstm',
  });
  model.add(
    a.bidirectional
      ? tf.layers.bidirectional({ layer: lstm as tf.RNN, mergeMode: 'concat', name: 'bilstm' })
      : lstm,
  );
  if (a.dropout > 0) model.add(tf.layers.dropout({ rate: a.dropout, ...seeded(5), name: 'lstm_dropout' }));
  model.add(
    tf.layers.dense({
      units: a.numClasses,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform(seeded(6)),
      name: 'output',
    }),
  );
  return model;
}
