/**
 * Our additions to the TensorFlow.js wasm backend (4.22): a missing kernel and faster replacements for
 * stock kernels that dominate LSTM training. Register before the wasm backend initialises so a replaced
 * kernel keeps the stock setup function (which binds its wasm exports).
 */
import * as tf from '../tf.ts';
import { makeBatchMatMul } from './batch-mat-mul.ts';
import { makeGatherV2 } from './gather.ts';
import { makeCast, makeIdentity } from './identity.ts';
import { makeSlice, makeSplitV } from './slice.ts';
import { makeUnpack } from './unpack.ts';
import { unsortedSegmentSumConfig } from './unsorted-segment-sum.ts';

const BACKEND = 'wasm';
const ours = new Set<tf.KernelFunc>();

/** Idempotent. Returns the names of the kernels that are ours after the call. */
export function registerWasmKernels(): string[] {
  if (!tf.getKernel(unsortedSegmentSumConfig.kernelName, BACKEND))
    tf.registerKernel(unsortedSegmentSumConfig);
  ours.add(unsortedSegmentSumConfig.kernelFunc);
  replaceKernel('Unpack', makeUnpack);
  replaceKernel('Identity', makeIdentity);
  replaceKernel('Cast', makeCast);
  replaceKernel('Slice', makeSlice);
  replaceKernel('SplitV', makeSplitV);
  replaceKernel('GatherV2', makeGatherV2);
  replaceKernel('BatchMatMul', (stock) => makeBatchMatMul(stock, stockKernel('Transpose')));
  return tf
    .getKernelsForBackend(BACKEND)
    .filter((k) => ours.has(k.kernelFunc))
    .map((k) => k.kernelName)
    .sort();
}

function stockKernel(name: string): tf.KernelFunc {
  const config = tf.getKernel(name, BACKEND);
  if (!config)
    throw new Error(`wasm kernel ${name} is not registered: import @tensorflow/tfjs-backend-wasm first`);
  return config.kernelFunc;
}

function replaceKernel(name: string, make: (stock: tf.KernelFunc) => tf.KernelFunc): void {
  const stock = tf.getKernel(name, BACKEND);
  if (!stock)
    throw new Error(`wasm kernel ${name} is not registered: import @tensorflow/tfjs-backend-wasm first`);
  if (ours.has(stock.kernelFunc)) return;
  const kernelFunc = make(stock.kernelFunc);
  ours.add(kernelFunc);
  tf.unregisterKernel(name, BACKEND);
  tf.registerKernel({ ...stock, kernelFunc });
}
