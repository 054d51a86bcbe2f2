/**
 * The ONNX graph a bundle carries: exported from the tfjs model, then held to it on a probe set through
 * both runtimes before anything is written. A graph that differs from tfjs by more than the tolerance on
 * any probability is refused, so a published model.onnx always answers as the tfjs files would.
 */

import type { OnnxRecord } from '../../bundle/manifest.ts';
import type { WordTokenizer } from '../../text/tokenizer.ts';
import type { Quantization, QuantizedTable } from '../quantize.ts';
import type * as tf from '../tf.ts';
import { exportGraph } from './export.ts';
import {
  ONNX_FILE,
  ONNX_INPUT_IDS,
  ONNX_INPUT_LENGTHS,
  ONNX_IR_VERSION,
  ONNX_OPSET,
  ONNX_OUTPUT,
} from './io.ts';
import { checkOnnxAgainstTfjs, probeSequences } from './probe.ts';

/** Largest |onnx - tfjs| allowed on any class probability of any probe. */
export const ONNX_TOLERANCE = 1e-5;
export const PROBE_COUNT = 200;
export const PROBE_SEED = 42;
/** Real texts among the probes (through the bundle's own tokenizer), besides edge cases and random ids. */
export const PROBE_TEXTS = [
  'The book was very poor',
  'Very nice!',
  'The author could have done more',
  'Amazing product! I love it, great value.',
  'Terrible. Broke after one day, waste of money.',
  'It is okay, nothing special but works.',
];

/** The manifest's `runtime.onnx` record: what the graph takes and how it was checked. */
export interface OnnxRuntimeRecord extends OnnxRecord {
  file: typeof ONNX_FILE;
  opset: number;
  irVersion: number;
  inputs: Record<string, string>;
  outputs: Record<string, string>;
  /** 'vcpus': one per CPU the function has (the default for records without it); 1: a single thread. */
  intraOpThreads?: 'vcpus' | 1;
  /** Present when embedding tables are stored as int8 codes with per-row scales. */
  quantization?: { kind: Quantization; layers: string[] };
  check: { probes: number; seed: number; tolerance: number; maxDifference: number };
}

export interface VerifiedOnnx {
  bytes: Uint8Array;
  record: OnnxRuntimeRecord;
}

export interface VerifiedOnnxOptions {
  tokenizer: WordTokenizer;
  maxLen: number;
  metadata?: Record<string, string>;
  /** Embedding tables stored as int8 (../quantize.ts quantizeEmbeddings, already applied to the model). */
  quantized?: ReadonlyMap<string, QuantizedTable>;
}

/** Exports and checks; throws OnnxExportError or OnnxMismatchError (naming the probe) instead of returning. */
export async function verifiedOnnx(
  model: tf.LayersModel,
  options: VerifiedOnnxOptions,
): Promise<VerifiedOnnx> {
  const quantized = options.quantized ?? new Map<string, QuantizedTable>();
  const { bytes, opTypes } = exportGraph(model, { metadata: options.metadata ?? {}, quantized });
  const probes = probeSequences({
    count: PROBE_COUNT,
    numWords: options.tokenizer.numWords,
    maxLen: options.maxLen,
    seed: PROBE_SEED,
    texts: PROBE_TEXTS,
    tokenizer: options.tokenizer,
  });
  const report = await checkOnnxAgainstTfjs(model, bytes, probes, ONNX_TOLERANCE);
  return {
    bytes,
    record: {
      file: ONNX_FILE,
      opset: ONNX_OPSET,
      irVersion: ONNX_IR_VERSION,
      inputs: {
        [ONNX_INPUT_IDS]: 'int32 [batch, sequence]: word ids, left-aligned (real ids first, then 0)',
        [ONNX_INPUT_LENGTHS]: 'int32 [batch]: real ids per row',
      },
      outputs: { [ONNX_OUTPUT]: 'float32 [batch, labels]: class probabilities' },
      ...(quantized.size > 0 ? { quantization: { kind: 'int8', layers: [...quantized.keys()] } } : {}),
      // Only recurrent graphs have ops big enough to split across threads. A bag's gathers and sums ran
      // faster on 1 thread than on 2 at every request size (bench/serve.ts machine; a sleeping second
      // thread costs a wake-up per op), so its graph asks for one.
      intraOpThreads: opTypes.has('LSTM') ? 'vcpus' : 1,
      check: {
        probes: report.rows,
        seed: PROBE_SEED,
        tolerance: ONNX_TOLERANCE,
        maxDifference: report.maxDifference,
      },
    },
  };
}
