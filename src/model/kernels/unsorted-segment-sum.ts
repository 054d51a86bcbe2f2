/**
 * UnsortedSegmentSum for the wasm backend, which has none in 4.22: the gradient of tf.gather (so of every
 * Embedding layer) needs it. One pass over the rows; ids outside [0, numSegments) are dropped, as in TF.
 */
import type * as tf from '../tf.ts';
import { asWasmBackend, heapView, inputOf, sizeOf } from './wasm-backend.ts';

const NAME = 'UnsortedSegmentSum';

function unsortedSegmentSum({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const wasm = asWasmBackend(backend, NAME);
  const x = inputOf(inputs, 'x', NAME);
  const ids = inputOf(inputs, 'segmentIds', NAME);
  const numSegments = attrs?.numSegments;
  checkArguments(x, ids, numSegments);
  const rowShape = x.shape.slice(ids.shape.length);
  const rowSize = sizeOf(rowShape);
  const out = wasm.makeOutput([numSegments, ...rowShape], x.dtype);
  const xs = heapView(wasm, x);
  const segments = heapView(wasm, ids);
  const sums = heapView(wasm, out);
  sums.fill(0);
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i] ?? -1;
    if (s < 0 || s >= numSegments) continue;
    const from = i * rowSize;
    const to = s * rowSize;
    for (let j = 0; j < rowSize; j++) sums[to + j] = (sums[to + j] ?? 0) + (xs[from + j] ?? 0);
  }
  return out;
}

function checkArguments(
  x: tf.TensorInfo,
  ids: tf.TensorInfo,
  numSegments: unknown,
): asserts numSegments is number {
  if (!Number.isInteger(numSegments) || (numSegments as number) < 0) {
    throw new Error(`${NAME}: numSegments must be a non-negative integer, got ${String(numSegments)}`);
  }
  if (ids.dtype !== 'int32') throw new Error(`${NAME}: segmentIds must be int32, got ${ids.dtype}`);
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new Error(`${NAME}: x must be float32 or int32, got ${x.dtype}`);
  }
  const prefix = x.shape.slice(0, ids.shape.length);
  if (ids.shape.length > x.shape.length || prefix.some((d, i) => d !== ids.shape[i])) {
    throw new Error(`${NAME}: segmentIds shape [${ids.shape}] must be a prefix of x shape [${x.shape}]`);
  }
}

export const unsortedSegmentSumConfig: tf.KernelConfig = {
  kernelName: NAME,
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum,
};
