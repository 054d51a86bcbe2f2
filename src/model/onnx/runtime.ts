/**
 * Scores encoded sequences with ONNX Runtime on an exported model (./export.ts). One session per model;
 * a request is padded once, post-padded to its own longest sequence, with the real lengths beside it, so
 * ORT's LSTM stops each row at its last token and the answer equals tfjs's masked one.
 */
import { availableParallelism } from 'node:os';
import ort from 'onnxruntime-node';
import type { ScoringRuntime } from '../runtime.ts';
import { ONNX_INPUT_IDS, ONNX_INPUT_LENGTHS, ONNX_OUTPUT } from './io.ts';

export interface OnnxScorerOptions {
  /** Threads inside one op (the LSTM's matrix products). Default: the CPUs this process may use. */
  intraOpNumThreads?: number;
  /**
   * Let idle intra-op threads spin instead of sleeping (ORT's default). Off by default: with 2 threads on
   * a busy 2-CPU machine, spinning made requests 2-3x slower than 1 thread, while sleeping threads
   * matched or beat it. Lambda's CPU time scales with memory, so a small function may see more CPUs
   * than it gets time on, and a spinning thread burns that time.
   */
  allowSpinning?: boolean;
  /**
   * Requests with more rows than this run as length-sorted chunks of about this many rows, so short
   * reviews do not pay for the longest one's steps. Infinity = always one run.
   */
  chunkRows?: number;
}

/**
 * ORT's LSTM computes every padded step of every row, so one run of 100 natural-length reviews (median
 * 25 tokens, longest 232) pays ~100 × 232 steps: 115-265 ms vs 22-70 ms in length-sorted chunks of 4-16
 * rows (1 thread, test.csv, noisy shared machine; bench/onnx-probe.ts). 4-16 were equal within noise;
 * 16 keeps the number of runs small.
 */
export const DEFAULT_CHUNK_ROWS = 16;

export function defaultIntraOpThreads(): number {
  return Math.max(1, availableParallelism());
}

export class OnnxScorer implements ScoringRuntime {
  readonly name = 'onnx';
  readonly backend = null;
  /** Intra-op threads of the session. */
  readonly threads: number;
  readonly #session: ort.InferenceSession;
  readonly #chunkRows: number;

  private constructor(session: ort.InferenceSession, chunkRows: number, threads: number) {
    this.#session = session;
    this.threads = threads;
    this.#chunkRows = chunkRows;
  }

  static async create(onnxBytes: Uint8Array, options: OnnxScorerOptions = {}): Promise<OnnxScorer> {
    const threads = options.intraOpNumThreads ?? defaultIntraOpThreads();
    if (!Number.isInteger(threads) || threads < 1) {
      throw new RangeError(`intraOpNumThreads must be a positive integer, got ${threads}`);
    }
    const chunkRows = options.chunkRows ?? DEFAULT_CHUNK_ROWS;
    if (!(chunkRows >= 1)) throw new RangeError(`chunkRows must be at least 1, got ${chunkRows}`);
    const session = await ort.InferenceSession.create(onnxBytes, {
      intraOpNumThreads: threads,
      // One request at a time per process (Lambda): a second pool would only compete for the same CPUs.
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      extra: { session: { intra_op: { allow_spinning: options.allowSpinning ? '1' : '0' } } },
    });
    return new OnnxScorer(session, chunkRows, threads);
  }

  /** Class probabilities for each sequence (unpadded word ids, as WordTokenizer.encode gives), in input order. */
  async probabilities(sequences: readonly Int32Array[]): Promise<Float32Array[]> {
    const out: Float32Array[] = new Array(sequences.length);
    for (const rows of chunks(sequences, this.#chunkRows)) {
      const batch = rows.map((i) => sequences[i] ?? new Int32Array(0));
      const probabilities = await this.#run(batch);
      rows.forEach((row, j) => {
        out[row] = probabilities[j] ?? new Float32Array(0);
      });
    }
    return out;
  }

  async #run(batch: readonly Int32Array[]): Promise<Float32Array[]> {
    const { ids, lengths, steps } = padPost(batch);
    const result = await this.#session.run({
      [ONNX_INPUT_IDS]: new ort.Tensor('int32', ids, [batch.length, steps]),
      [ONNX_INPUT_LENGTHS]: new ort.Tensor('int32', lengths, [batch.length]),
    });
    const output = result[ONNX_OUTPUT];
    if (!output) throw new Error(`the ONNX model has no output named ${ONNX_OUTPUT}`);
    const flat = output.data as Float32Array;
    const classes = flat.length / Math.max(1, batch.length);
    const rows = batch.map((_, j) => flat.slice(j * classes, (j + 1) * classes));
    output.dispose();
    return rows;
  }

  async dispose(): Promise<void> {
    await this.#session.release();
  }
}

/**
 * Left-aligned ids padded with 0 to the longest sequence (at least one step, so no tensor is empty),
 * and each row's real length. An empty sequence has length 0: ORT's LSTM then keeps the zero state,
 * which is tfjs's answer for one fully masked padding step.
 */
export function padPost(batch: readonly Int32Array[]): {
  ids: Int32Array;
  lengths: Int32Array;
  steps: number;
} {
  const steps = Math.max(1, ...batch.map((s) => s.length));
  const ids = new Int32Array(batch.length * steps);
  const lengths = new Int32Array(batch.length);
  batch.forEach((seq, row) => {
    ids.set(seq, row * steps);
    lengths[row] = seq.length;
  });
  return { ids, lengths, steps };
}

/** Row indices per run: all rows at once, or length-sorted groups of about `chunkRows` rows. */
export function chunks(sequences: readonly ArrayLike<number>[], chunkRows: number): number[][] {
  // No rows, no run: ONNX Runtime 1.30 crashes the process (SIGSEGV) on a batch of zero rows.
  if (sequences.length === 0) return [];
  const all = sequences.map((_, i) => i);
  if (sequences.length <= chunkRows) return [all];
  const sorted = all.sort((a, b) => (sequences[a]?.length ?? 0) - (sequences[b]?.length ?? 0));
  const count = Math.ceil(sorted.length / chunkRows);
  const size = Math.ceil(sorted.length / count);
  return Array.from({ length: count }, (_, c) => sorted.slice(c * size, (c + 1) * size));
}
