/**
 * The pieces every architecture shares, so layer names and initialiser seeds are the same wherever a
 * piece is used (a fixed seed gives the same weights, and exports find layers by kind, not by position).
 */
import * as tf from '../tf.ts';
import { type Architecture, seeded } from './settings.ts';

export function wordEmbedding(a: Architecture, inputDim: number, inputShape: boolean): tf.layers.Layer {
  return tf.layers.embedding({
    inputDim,
    outputDim: a.embeddingDim,
    maskZero: a.maskZero,
    ...(inputShape ? { inputShape: [null] } : {}),
    embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, ...seeded(a, 1) }),
    name: 'embedding',
  });
}

export function addDropout(model: tf.Sequential, a: Architecture, offset: number, name: string): void {
  if (a.dropout > 0) model.add(tf.layers.dropout({ rate: a.dropout, ...seeded(a, offset), name }));
}

export function recurrent(a: Architecture, returnSequences: boolean): tf.layers.Layer {
  const lstm = tf.layers.lstm({
    units: a.lstmUnits,
    // Keras 2 and PyTorch use the logistic sigmoid; tfjs-layers defaults to hard sigmoid, whose gradient
    // alone made a wasm training step ~35% slower. The choice is saved in model.json, so bundles keep theirs.
    recurrentActivation: 'sigmoid',
    returnSequences,
    kernelInitializer: tf.initializers.glorotUniform(seeded(a, 3)),
    recurrentInitializer: tf.initializers.orthogonal({ gain: 1, ...seeded(a, 4) }),
    name: 'lstm',
  });
  return a.bidirectional
    ? tf.layers.bidirectional({ layer: lstm as tf.RNN, mergeMode: 'concat', name: 'bilstm' })
    : lstm;
}

export function softmaxOutput(a: Architecture): tf.layers.Layer {
  return tf.layers.dense({
    units: a.numClasses,
    activation: 'softmax',
    kernelInitializer: tf.initializers.glorotUniform(seeded(a, 6)),
    name: 'output',
  });
}
