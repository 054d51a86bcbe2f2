/**
 * Slice and SplitV for the wasm backend. The stock Slice first copies the WHOLE input off the heap
 * (readSync) to take any slice, and the stock SplitV calls it once per part, so splitting an LSTM's gate
 * matrix copies it four times per step. These read the heap in place.
 */
import * as tf from '../tf.ts';
import { asWasmBackend, heapCopier, inputOf, sizeOf, type WasmBackend } from './wasm-backend.ts';

export function makeSlice(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const wasm = asWasmBackend(args.backend, 'Slice');
    const x = inputOf(args.inputs, 'x', 'Slice');
    if (x.dtype === 'string') return fallback(args);
    const [begin = [], size = []] = tf.slice_util.parseSliceParams(
      x,
      args.attrs?.begin as number | number[],
      args.attrs?.size as number | number[] | undefined,
    );
    return sliceHeap(wasm, x, begin, size);
  };
}

export function makeSplitV(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const wasm = asWasmBackend(args.backend, 'SplitV');
    const x = inputOf(args.inputs, 'x', 'SplitV');
    if (x.dtype === 'string') return fallback(args);
    const axis = tf.util.parseAxisParam(args.attrs?.axis as number, x.shape)[0] ?? 0;
    const sizes = tf.backend_util.prepareSplitSize(x, args.attrs?.numOrSizeSplits as number | number[], axis);
    const begin = x.shape.map(() => 0);
    return sizes.map((part) => {
      const size = [...x.shape];
      size[axis] = part;
      const out = sliceHeap(wasm, x, begin, size);
      begin[axis] = (begin[axis] ?? 0) + part;
      return out;
    });
  };
}

function sliceHeap(wasm: WasmBackend, x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
  const out = wasm.makeOutput(size, x.dtype);
  if (sizeOf(size) > 0) copyBlock(heapCopier(wasm, x, out), x.shape, begin, size);
  return out;
}

type Copy = (toIndex: number, fromIndex: number, count: number) => void;

/** Copies the block [begin, begin+size) of a row-major `shape` array, one contiguous run at a time. */
function copyBlock(copy: Copy, shape: readonly number[], begin: number[], size: number[]): void {
  const rank = shape.length;
  if (rank === 0) {
    copy(0, 0, 1);
    return;
  }
  const strides = tf.util.computeStrides([...shape]);
  const strideOf = (dim: number): number => strides[dim] ?? 1; // the last dimension is not listed: 1
  // Trailing dimensions taken whole merge into one contiguous run.
  let inner = rank - 1;
  while (inner > 0 && begin[inner] === 0 && size[inner] === shape[inner]) inner--;
  const run = (size[inner] ?? 0) * strideOf(inner);
  let written = 0;
  const walk = (dim: number, offset: number): void => {
    const start = offset + (begin[dim] ?? 0) * strideOf(dim);
    if (dim === inner) {
      copy(written, start, run);
      written += run;
      return;
    }
    for (let i = 0; i < (size[dim] ?? 0); i++) walk(dim + 1, start + i * strideOf(dim));
  };
  walk(0, 0);
}
