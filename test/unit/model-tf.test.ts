/**
 * src/model/tf.ts stands in for the @tensorflow/tfjs umbrella (which the Lambda image does not carry):
 * it must register every chained tensor method tfjs-core defines, or tfjs-layers fails at run time
 * ("rMat.flatten is not a function" building any LSTM). This file never imports the umbrella, so what
 * works here works in the image.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { createModel } from '../../src/model/architectures/index.ts';
import * as tf from '../../src/model/tf.ts';

const CHAINED_OPS_DIR = join(
  dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-core/package.json')),
  'dist',
  'public',
  'chained_ops',
);

test('the chained methods restated are exactly the ones tfjs-core registers', () => {
  const registered = new Set<string>();
  for (const file of readdirSync(CHAINED_OPS_DIR)) {
    if (!file.endsWith('.js') || file.includes('test') || file.startsWith('register_all')) continue;
    for (const match of readFileSync(join(CHAINED_OPS_DIR, file), 'utf8').matchAll(/prototype\.(\w+) =/g)) {
      registered.add(match[1] ?? '');
    }
  }
  const ours = [...tf.GENERIC_CHAINED_OPS, ...Object.keys(tf.SPECIAL_CHAINED_OPS)].sort();
  assert.deepEqual(ours, [...registered].sort());
});

test('tensors have the chained methods, and they compute what the ops do', () => {
  const x = tf.tensor2d([
    [1, -2],
    [3, 4],
  ]);
  assert.deepEqual(x.flatten().arraySync(), [1, -2, 3, 4]);
  assert.deepEqual(x.abs().add(1).arraySync(), [
    [2, 3],
    [4, 5],
  ]);
  assert.deepEqual(x.toInt().dtype, 'int32');
  assert.deepEqual(x.concat(x, 0).shape, [4, 2]);
  x.dispose();
  assert.throws(() => x.flatten(), /disposed/);
});

test('an LSTM model builds and predicts without the umbrella (orthogonal initializer, masking)', () => {
  const model = createModel({
    arch: 'lstm',
    numWords: 20,
    numClasses: 3,
    embeddingDim: 4,
    lstmUnits: 3,
    bidirectional: true,
    buckets: 0,
    pooling: 'mean',
    dropout: 0,
    maskZero: true,
    seed: 1,
  });
  const out = tf.tidy(() => model.predict(tf.tensor2d([[0, 3, 5]], [1, 3], 'int32')) as tf.Tensor);
  assert.deepEqual(out.shape, [1, 3]);
  out.dispose();
  model.dispose();
});
