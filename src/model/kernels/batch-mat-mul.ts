/**
 * BatchMatMul for the wasm backend. The stock kernel uses XNNPACK only for a single non-transposed product;
 * any transpose (every matMul gradient: dA = dy·Bᵀ, dB = Aᵀ·dy) falls to a scalar strided triple loop.
 * Materialising the transposed operand with the wasm Transpose kernel and calling the stock kernel without
 * transposes keeps the XNNPACK path. A transposed B is usually a weight matrix reused at every time step,
 * and XNNPACK caches its packed weights per B tensor, so transposed Bs are kept while their source lives.
 */
import type * as tf from '../tf.ts';
import { asWasmBackend, inputOf, type WasmBackend } from './wasm-backend.ts';

const NAME = 'BatchMatMul';
const MAX_CACHED = 16;

export function makeBatchMatMul(stock: tf.KernelFunc, transpose: tf.KernelFunc): tf.KernelFunc {
  const caches = new WeakMap<WasmBackend, TransposedCache>();
  return (args) => {
    const transposeA = args.attrs?.transposeA === true;
    const transposeB = args.attrs?.transposeB === true;
    if (!transposeA && !transposeB) return stock(args);
    const wasm = asWasmBackend(args.backend, NAME);
    const swap = (x: tf.TensorInfo) => swapLastTwo(x, wasm, transpose);
    const a = inputOf(args.inputs, 'a', NAME);
    const b = inputOf(args.inputs, 'b', NAME);
    const cache = caches.get(wasm) ?? new TransposedCache(wasm);
    caches.set(wasm, cache);
    const a2 = transposeA ? swap(a) : a;
    const b2 = transposeB ? cache.get(b, swap) : b;
    try {
      const attrs = { ...args.attrs, transposeA: false, transposeB: false };
      return stock({ inputs: { a: a2, b: b2 }, backend: wasm, attrs });
    } finally {
      if (a2 !== a) wasm.disposeData(a2.dataId);
    }
  };
}

function swapLastTwo(x: tf.TensorInfo, wasm: WasmBackend, transpose: tf.KernelFunc): tf.TensorInfo {
  const perm = x.shape.map((_, i) => i);
  const r = perm.length;
  [perm[r - 2], perm[r - 1]] = [r - 1, r - 2];
  return transpose({ inputs: { x }, backend: wasm, attrs: { perm } }) as tf.TensorInfo;
}

/** Transposed copies keyed by their source's data; an entry is freed once its source is disposed. */
class TransposedCache {
  readonly #wasm: WasmBackend;
  readonly #entries = new Map<object, { shape: number[]; transposed: tf.TensorInfo }>();

  constructor(wasm: WasmBackend) {
    this.#wasm = wasm;
  }

  get(source: tf.TensorInfo, make: (x: tf.TensorInfo) => tf.TensorInfo): tf.TensorInfo {
    this.#prune();
    const hit = this.#entries.get(source.dataId);
    if (hit && sameShape(hit.shape, source.shape)) return hit.transposed;
    if (hit) this.#drop(source.dataId, hit.transposed);
    const transposed = make(source);
    this.#entries.set(source.dataId, { shape: [...source.shape], transposed });
    const oldest = this.#entries.keys().next().value;
    if (this.#entries.size > MAX_CACHED && oldest) this.#drop(oldest, this.#entries.get(oldest)?.transposed);
    return transposed;
  }

  #prune(): void {
    for (const [dataId, entry] of this.#entries) {
      if (!this.#wasm.dataIdMap.has(dataId)) this.#drop(dataId, entry.transposed);
    }
  }

  #drop(dataId: object, transposed: tf.TensorInfo | undefined): void {
    this.#entries.delete(dataId);
    if (transposed) this.#wasm.disposeData(transposed.dataId);
  }
}

/** A reshape shares data under another shape; the transposed copy depends on the shape. */
function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
