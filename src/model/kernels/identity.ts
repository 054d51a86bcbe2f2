/**
 * Identity and same-dtype Cast without a copy. The stock wasm kernels allocate and copy every time; LSTM
 * training calls Identity ~70 times per time step (gradient plumbing, tf.clone, tidy). Tensors are
 * immutable, so the output can share the input's data with a reference count, as the stock Reshape and
 * the cpu backend's Identity already do.
 */
import type * as tf from '../tf.ts';
import { asWasmBackend, heapView, inputOf } from './wasm-backend.ts';

export function makeIdentity(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const wasm = asWasmBackend(args.backend, 'Identity');
    const x = inputOf(args.inputs, 'x', 'Identity');
    if (x.dtype === 'string') return fallback(args);
    wasm.incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  };
}

/**
 * Also casts to bool as TF does (x != 0); the stock kernel truncates through a Uint8Array, so 0.5 became
 * false and 256 became false.
 */
export function makeCast(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const wasm = asWasmBackend(args.backend, 'Cast');
    const x = inputOf(args.inputs, 'x', 'Cast');
    const dtype = args.attrs?.dtype;
    if (dtype === x.dtype && x.dtype !== 'string') {
      wasm.incRef(x.dataId);
      return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
    }
    if (dtype !== 'bool' || (x.dtype !== 'float32' && x.dtype !== 'int32')) return fallback(args);
    const out = wasm.makeOutput([...x.shape], 'bool');
    const src = heapView(wasm, x);
    const dst = heapView(wasm, out);
    for (let i = 0; i < src.length; i++) dst[i] = src[i] !== 0 ? 1 : 0;
    return out;
  };
}
