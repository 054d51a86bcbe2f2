/**
 * What the Scorer needs from whatever computes the model: class probabilities for encoded sequences. Two
 * implementations: ONNX Runtime on the bundle's model.onnx (./onnx/runtime.ts) and TensorFlow.js on its
 * model.json (./tfjs-runtime.ts). This module imports neither, so choosing one loads only that one.
 */

export interface ScoringRuntime {
  /** 'onnx' or 'tfjs'. */
  readonly name: string;
  /** The TensorFlow.js backend ('wasm', 'cpu', 'tensorflow'); null for ONNX Runtime. */
  readonly backend: string | null;
  /** Class probabilities for each sequence (unpadded word ids, as WordTokenizer.encode gives), in input order. */
  probabilities(sequences: readonly Int32Array[]): Promise<Float32Array[]>;
  dispose(): Promise<void> | void;
}

/** `auto`: ONNX Runtime when the bundle has model.onnx, else TensorFlow.js. */
export const RUNTIME_PREFERENCES = ['auto', 'onnx', 'tfjs'] as const;
export type RuntimePreference = (typeof RUNTIME_PREFERENCES)[number];

/** TensorFlow.js backend preferences (./backend.ts); here so configuration can name them without loading tfjs. */
export const BACKEND_PREFERENCES = ['auto', 'node-gpu', 'node', 'wasm', 'cpu'] as const;
export type BackendPreference = (typeof BACKEND_PREFERENCES)[number];
