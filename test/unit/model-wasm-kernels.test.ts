/**
 * Our wasm kernels against the cpu backend (TensorFlow.js' reference implementation): same inputs, same
 * values within 1e-5. Inputs are plain arrays from a seeded generator, turned into tensors on each backend.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { createModel } from '../../src/model/architectures/index.ts';
import { selectBackend } from '../../src/model/backend.ts';
import type { WasmBackend } from '../../src/model/kernels/wasm-backend.ts';

const TOLERANCE = 1e-5;

function randoms(n: number, seed: number, scale = 1): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * 2 * scale;
  });
}

type Run = () => tf.Tensor | tf.Tensor[];
interface Output {
  shape: number[];
  dtype: string;
  values: number[];
}

async function on(backend: 'cpu' | 'wasm', run: Run): Promise<Output[]> {
  assert.ok(await tf.setBackend(backend));
  const result = run();
  const tensors = Array.isArray(result) ? result : [result];
  const outputs = tensors.map((t) => ({ shape: t.shape, dtype: t.dtype, values: Array.from(t.dataSync()) }));
  tf.dispose(tensors);
  return outputs;
}

function assertClose(actual: Output[], expected: Output[], label: string): void {
  assert.equal(actual.length, expected.length, `${label}: number of outputs`);
  actual.forEach((a, i) => {
    const e = expected[i] as Output;
    assert.deepEqual(a.shape, e.shape, `${label}[${i}]: shape`);
    assert.equal(a.dtype, e.dtype, `${label}[${i}]: dtype`);
    a.values.forEach((v, j) => {
      const want = e.values[j] ?? Number.NaN;
      const ok = Object.is(v, want) || Math.abs(v - want) <= TOLERANCE * Math.max(1, Math.abs(want));
      assert.ok(ok, `${label}[${i}] element ${j}: wasm ${v}, cpu ${want}`);
    });
  });
}

/** Runs on both backends (wasm left current) and compares. */
async function sameOnBoth(label: string, run: Run): Promise<void> {
  const expected = await on('cpu', run);
  const actual = await on('wasm', run);
  assertClose(actual, expected, label);
}

const wasmBackend = () => tf.findBackend('wasm') as WasmBackend;

before(async () => {
  const info = await selectBackend('wasm');
  assert.equal(info.name, 'wasm');
});

describe('UnsortedSegmentSum (missing from wasm 4.22)', () => {
  test('sums rows per segment; ids out of range or negative are ignored', async () => {
    const x = randoms(8 * 3, 1);
    const ids = [0, 2, -1, 2, 7, 4, 0, 5];
    await sameOnBoth('2-D', () =>
      tf.unsortedSegmentSum(tf.tensor2d(x, [8, 3]), tf.tensor1d(ids, 'int32'), 5),
    );
  });

  test('multi-dimensional ids (TF semantics; cpu takes them flattened), int32 data, 1-D data', async () => {
    const ids = [1, 0, 1, 3, 2, 1];
    const x = randoms(3 * 2 * 4, 2);
    const expected = await on('cpu', () =>
      tf.unsortedSegmentSum(tf.tensor2d(x, [6, 4]), tf.tensor1d(ids, 'int32'), 4),
    );
    const actual = await on('wasm', () =>
      tf.unsortedSegmentSum(
        tf.tensor3d(x, [3, 2, 4]),
        tf.tensor2d(ids, [3, 2], 'int32') as tf.Tensor as tf.Tensor1D,
        4,
      ),
    );
    assertClose(actual, expected, 'ids [3,2]');
    // int32 data stays int32 as in TF (the cpu kernel upcasts to float32 through its float mask).
    const sums = await on('wasm', () =>
      tf.unsortedSegmentSum(
        tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32'),
        tf.tensor1d([1, 1, 0], 'int32'),
        2,
      ),
    );
    assert.deepEqual(sums, [{ shape: [2, 2], dtype: 'int32', values: [5, 6, 4, 6] }]);
    await sameOnBoth('1-D', () =>
      tf.unsortedSegmentSum(tf.tensor1d(randoms(5, 3)), tf.tensor1d([0, 1, 0, 1, 0], 'int32'), 2),
    );
  });

  test('empty inputs give zeros; zero segments give an empty result', async () => {
    await sameOnBoth('no rows', () => tf.unsortedSegmentSum(tf.zeros([0, 3]), tf.tensor1d([], 'int32'), 4));
    const out = await on('wasm', () =>
      tf.unsortedSegmentSum(tf.ones([2, 3]), tf.tensor1d([0, 1], 'int32'), 0),
    );
    assert.deepEqual(out[0]?.shape, [0, 3]);
  });

  test('segmentIds that are not a prefix of x are rejected with the shapes', async () => {
    await tf.setBackend('wasm');
    assert.throws(
      () => tf.unsortedSegmentSum(tf.ones([4, 3]), tf.tensor1d([0, 1, 0], 'int32'), 2),
      /segmentIds shape \[3\] must be a prefix of x shape \[4,3\]/,
    );
  });
});

describe('Unpack', () => {
  test('every axis, negative axis, int32 and bool', async () => {
    const values = randoms(5 * 3 * 4, 4);
    for (const axis of [0, 1, 2, -1]) {
      await sameOnBoth(`axis ${axis}`, () => tf.unstack(tf.tensor3d(values, [5, 3, 4]), axis));
    }
    await sameOnBoth('int32', () => tf.unstack(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3], 'int32'), 1));
    await sameOnBoth('bool', () => tf.unstack(tf.tensor2d([1, 0, 0, 1], [2, 2], 'bool')));
  });

  test('empty tensors', async () => {
    await sameOnBoth('[0,3] axis 1', () => tf.unstack(tf.zeros([0, 3]), 1));
    await sameOnBoth('[3,0] axis 1', () => tf.unstack(tf.zeros([3, 0]), 1));
  });
});

describe('BatchMatMul', () => {
  const shapes: [number[], number[]][] = [
    [
      [3, 4],
      [4, 5],
    ],
    [
      [2, 3, 4],
      [2, 4, 5],
    ],
    [
      [1, 3, 4],
      [2, 4, 5],
    ],
    [
      [2, 3, 4],
      [1, 4, 5],
    ],
    [
      [2, 2, 3, 1],
      [2, 2, 1, 5],
    ],
    [
      [1, 4],
      [4, 1],
    ],
  ];
  for (const [aShape, bShape] of shapes) {
    for (const [transposeA, transposeB] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      test(`${JSON.stringify(aShape)} x ${JSON.stringify(bShape)} transposeA=${transposeA} transposeB=${transposeB}`, async () => {
        const swap = (s: number[]) => [...s.slice(0, -2), s.at(-1) ?? 1, s.at(-2) ?? 1];
        const a = transposeA ? swap(aShape) : aShape;
        const b = transposeB ? swap(bShape) : bShape;
        const av = randoms(tf.util.sizeFromShape(a), 5);
        const bv = randoms(tf.util.sizeFromShape(b), 6);
        await sameOnBoth('matMul', () =>
          tf.matMul(tf.tensor(av, a), tf.tensor(bv, b), transposeA, transposeB),
        );
      });
    }
  }

  test('a reused B stays right after it is disposed, replaced or reshaped, and nothing leaks', async () => {
    await tf.setBackend('wasm');
    const dy = tf.tensor2d(randoms(6 * 8, 7), [6, 8]);
    const first = tf.tensor2d(randoms(4 * 8, 8), [4, 8]);
    const baseline = wasmBackend().numDataIds();
    const product = (w: tf.Tensor) => tf.tidy(() => Array.from(tf.matMul(dy, w, false, true).dataSync()));
    const reference = (w: tf.Tensor) => tf.tidy(() => Array.from(tf.matMul(dy, w.transpose()).dataSync()));
    assert.deepEqual(product(first), reference(first));
    assert.deepEqual(product(first), reference(first), 'the cached transpose gives the same product');
    const reshaped = first.reshape([8, 4]);
    const d8 = tf.tensor2d(randoms(6 * 4, 9), [6, 4]);
    assertClose(
      [
        {
          shape: [6, 8],
          dtype: 'float32',
          values: tf.tidy(() => Array.from(tf.matMul(d8, reshaped, false, true).dataSync())),
        },
      ],
      [
        {
          shape: [6, 8],
          dtype: 'float32',
          values: tf.tidy(() => Array.from(tf.matMul(d8, reshaped.transpose()).dataSync())),
        },
      ],
      'same data, other shape',
    );
    tf.dispose([first, reshaped, d8]);
    const second = tf.tensor2d(randoms(4 * 8, 10), [4, 8]);
    assert.deepEqual(product(second), reference(second), 'a new B is not served a stale transpose');
    second.dispose();
    product(tf.tidy(() => tf.ones([4, 8]))); // prunes the transposes of disposed Bs
    dy.dispose();
    assert.ok(
      wasmBackend().numDataIds() <= baseline,
      `data ids: ${wasmBackend().numDataIds()} > ${baseline}`,
    );
  });
});

describe('GatherV2', () => {
  test('rows, 2-D ids, another axis, batch dims, int32, no ids', async () => {
    const table = randoms(10 * 4, 17);
    const ids = [3, 0, 9, 3, 5, 1];
    await sameOnBoth('axis 0', () => tf.gather(tf.tensor2d(table, [10, 4]), tf.tensor1d(ids, 'int32')));
    await sameOnBoth('2-D ids', () =>
      tf.gather(tf.tensor2d(table, [10, 4]), tf.tensor2d(ids, [2, 3], 'int32')),
    );
    await sameOnBoth('axis 1', () =>
      tf.gather(tf.tensor3d(table, [2, 5, 4]), tf.tensor1d([4, 0, 2], 'int32'), 1),
    );
    await sameOnBoth('batchDims 1', () =>
      tf.gather(tf.tensor3d(table, [2, 5, 4]), tf.tensor2d([4, 0, 1, 1], [2, 2], 'int32'), 1, 1),
    );
    await sameOnBoth('int32', () =>
      tf.gather(tf.tensor1d([5, 6, 7], 'int32'), tf.tensor1d([2, 2, 0], 'int32')),
    );
    await sameOnBoth('no ids', () => tf.gather(tf.tensor2d(table, [10, 4]), tf.tensor1d([], 'int32')));
  });

  test('an index out of range is an error naming it', async () => {
    await tf.setBackend('wasm');
    assert.throws(
      () => tf.gather(tf.ones([3, 2]), tf.tensor1d([0, 3], 'int32')),
      /index value 3 is not in \[0, 2\]/,
    );
    assert.throws(
      () => tf.gather(tf.ones([3, 2]), tf.tensor1d([-1], 'int32')),
      /index value -1 is not in \[0, 2\]/,
    );
  });
});

describe('Identity, Cast, Slice, SplitV', () => {
  test('a clone outlives its source', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor1d([1, 2, 3]);
    const copy = tf.clone(x);
    const same = tf.cast(x, 'float32');
    x.dispose();
    assert.deepEqual(Array.from(copy.dataSync()), [1, 2, 3]);
    assert.deepEqual(Array.from(same.dataSync()), [1, 2, 3]);
    tf.dispose([copy, same]);
  });

  test('casts match cpu, including float to bool as x != 0', async () => {
    const values = [0, 0.5, -1, 256, -0.25, 3.7, Number.NaN];
    await sameOnBoth('float32->bool', () => tf.cast(tf.tensor1d(values), 'bool'));
    await sameOnBoth('float32->int32', () => tf.cast(tf.tensor1d(values.slice(0, 6)), 'int32'));
    await sameOnBoth('int32->bool', () => tf.cast(tf.tensor1d([0, 2, -3], 'int32'), 'bool'));
    await sameOnBoth('bool->float32', () => tf.cast(tf.tensor1d([1, 0, 1], 'bool'), 'float32'));
  });

  test('slices of rank 1 to 4, whole and partial dimensions', async () => {
    const x4 = randoms(3 * 4 * 5 * 2, 11);
    await sameOnBoth('rank 1', () => tf.slice(tf.tensor1d(x4.slice(0, 9)), 2, 5));
    await sameOnBoth('rank 2', () => tf.slice(tf.tensor2d(x4.slice(0, 20), [4, 5]), [1, 2], [2, -1]));
    await sameOnBoth('rank 3', () => tf.slice(tf.tensor3d(x4.slice(0, 60), [3, 4, 5]), [1, 0, 0], [2, 4, 5]));
    await sameOnBoth('rank 4', () => tf.slice(tf.tensor4d(x4, [3, 4, 5, 2]), [0, 1, 2, 1], [3, 2, 3, 1]));
    await sameOnBoth('int32', () =>
      tf.slice(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3], 'int32'), [0, 1], [2, 2]),
    );
    await sameOnBoth('empty', () => tf.slice(tf.tensor2d(x4.slice(0, 20), [4, 5]), [1, 1], [0, 3]));
  });

  test('splits along each axis, equal and explicit sizes', async () => {
    const x = randoms(6 * 8, 12);
    await sameOnBoth('4 gates', () => tf.split(tf.tensor2d(x, [6, 8]), 4, 1));
    await sameOnBoth('sizes', () => tf.split(tf.tensor2d(x, [6, 8]), [1, 2, -1], 0));
    await sameOnBoth('rank 3', () => tf.split(tf.tensor3d(x, [2, 3, 8]), [3, 5], 2));
  });
});

describe('training on wasm matches cpu', () => {
  test('the gradient of tf.gather (an embedding lookup)', async () => {
    const table = randoms(10 * 4, 13);
    const coefficients = randoms(2 * 3 * 4, 14);
    await sameOnBoth('d gather', () => {
      const ids = tf.tensor2d([1, 3, 3, 9, 0, 1], [2, 3], 'int32');
      const c = tf.tensor3d(coefficients, [2, 3, 4]);
      return tf.grad((w: tf.Tensor) => tf.gather(w, ids).mul(c).sum())(tf.tensor2d(table, [10, 4]));
    });
  });

  test('three trainOnBatch steps of a masked LSTM give the same losses', async () => {
    const architecture = {
      arch: 'lstm',
      buckets: 0,
      pooling: 'mean' as const,
      numWords: 30,
      numClasses: 5,
      embeddingDim: 8,
      lstmUnits: 6,
      bidirectional: false,
      dropout: 0.2,
      maskZero: true,
      seed: 3,
    };
    await tf.setBackend('cpu');
    const weights = tf.tidy(() =>
      createModel(architecture)
        .getWeights()
        .map((w) => w.arraySync()),
    );
    const ids = randoms(3 * 4 * 7, 15).map((r) => Math.floor(Math.abs(r) * 30));
    const labels = randoms(3 * 4, 16).map((r) => Math.floor(Math.abs(r) * 5));
    const losses = async (backend: 'cpu' | 'wasm'): Promise<number[]> => {
      await tf.setBackend(backend);
      const model = createModel(architecture);
      model.setWeights(weights.map((w) => tf.tensor(w)));
      model.compile({ optimizer: tf.train.adam(0.01), loss: 'sparseCategoricalCrossentropy' });
      const out: number[] = [];
      for (let step = 0; step < 3; step++) {
        const x = tf.tensor2d(ids.slice(step * 28, step * 28 + 28), [4, 7], 'int32');
        const y = tf.tensor2d(labels.slice(step * 4, step * 4 + 4), [4, 1]);
        out.push((await model.trainOnBatch(x, y)) as number);
        tf.dispose([x, y]);
      }
      model.dispose();
      return out;
    };
    const expected = await losses('cpu');
    const actual = await losses('wasm');
    for (const [i, loss] of actual.entries()) {
      assert.ok(Math.abs(loss - (expected[i] ?? 0)) < TOLERANCE, `step ${i}: ${loss} vs ${expected[i]}`);
    }
  });
});
