/**
 * Seeded PRNG for training (shuffles, batch order, dropout seeds). sfc32 with splitmix32 seeding: only
 * 32-bit integer operations (Math.imul, |0, >>>), so the sequence is identical on every platform and
 * Node version, and its 128-bit state can be saved in a checkpoint and resumed exactly.
 */

/** The four 32-bit words of an sfc32 generator, as unsigned integers. */
export type RngState = readonly [number, number, number, number];

export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /** Any safe integer is a valid seed; the high bits are mixed in too, so 1 and 2**32 + 1 differ. */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new TypeError(`seed must be a safe integer, got ${seed}`);
    const mix = splitmix32((seed >>> 0) ^ Math.imul(Math.floor(seed / 2 ** 32) | 0, 0x9e3779b9));
    this.#a = mix();
    this.#b = mix();
    this.#c = mix();
    this.#d = mix();
    // The first outputs of sfc32 are still correlated with the seed words; discarding them is the usual advice.
    for (let i = 0; i < 12; i++) this.uint32();
  }

  /** Continues a generator saved with state(). */
  static fromState(state: readonly number[]): Rng {
    const valid = (w: number | undefined) => Number.isInteger(w) && (w ?? -1) >= 0 && (w ?? 0) < 2 ** 32;
    if (state.length !== 4 || !state.every(valid)) {
      throw new TypeError(`rng state must be 4 unsigned 32-bit integers, got ${JSON.stringify(state)}`);
    }
    // sfc32 has no bad states: its counter word keeps even an all-zero state moving.
    const rng = new Rng(0);
    [rng.#a = 0, rng.#b = 0, rng.#c = 0, rng.#d = 0] = state;
    return rng;
  }

  state(): RngState {
    return [this.#a >>> 0, this.#b >>> 0, this.#c >>> 0, this.#d >>> 0];
  }

  /** Next unsigned 32-bit integer (one sfc32 step). */
  uint32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 32 random bits. */
  next(): number {
    return this.uint32() / 2 ** 32;
  }

  /** Uniform integer in [0, n), unbiased (rejection sampling), for 1 <= n <= 2**32. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 2 ** 32)
      throw new RangeError(`int(n) needs 1 <= n <= 2**32, got ${n}`);
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const x = this.uint32();
      if (x < limit) return x % n;
    }
  }

  /** Fisher-Yates shuffle in place; returns the same array. */
  shuffle<T>(array: T[]): T[] {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = array[i] as T;
      array[i] = array[j] as T;
      array[j] = tmp;
    }
    return array;
  }
}

function splitmix32(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}
