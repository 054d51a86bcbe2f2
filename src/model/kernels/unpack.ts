/**
 * Unpack (tf.unstack) for the wasm backend. The stock kernel slices once per output and every slice first
 * copies the WHOLE input off the heap (readSync), so unstacking [T, B, E] costs O(T² B E): tfjs-layers' RNN
 * unstacks its input over time on every forward pass. This copies each element once.
 */
import type * as tf from '../tf.ts';
import { asWasmBackend, heapCopier, inputOf, sizeOf } from './wasm-backend.ts';

const NAME = 'Unpack';

/** `fallback` (the stock kernel) handles string tensors, which do not live on the heap. */
export function makeUnpack(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const wasm = asWasmBackend(args.backend, NAME);
    const value = inputOf(args.inputs, 'value', NAME);
    if (value.dtype === 'string') return fallback(args);
    const rank = value.shape.length;
    const axis = normalizeAxis(args.attrs?.axis, rank);
    const count = value.shape[axis] ?? 0;
    const outer = sizeOf(value.shape.slice(0, axis));
    const inner = sizeOf(value.shape.slice(axis + 1));
    const outShape = value.shape.filter((_, i) => i !== axis);
    const outs = Array.from({ length: count }, () => wasm.makeOutput(outShape, value.dtype));
    outs.forEach((out, k) => {
      const copy = heapCopier(wasm, value, out);
      for (let o = 0; o < outer; o++) copy(o * inner, (o * count + k) * inner, inner);
    });
    return outs;
  };
}

function normalizeAxis(axis: unknown, rank: number): number {
  const a = typeof axis === 'number' ? axis : 0;
  const normalized = a < 0 ? a + rank : a;
  if (!Number.isInteger(normalized) || normalized < 0 || normalized >= rank) {
    throw new Error(`${NAME}: axis ${String(axis)} is out of range for a rank-${rank} tensor`);
  }
  return normalized;
}
