/**
 * TensorFlow.js as this project uses it: the core ops, the layers API and the cpu backend (the wasm
 * backend is set up in ./backend.ts). The @tensorflow/tfjs umbrella would add the converter, data and
 * webgl packages, which nothing here uses, to the Lambda image; training may still import the umbrella,
 * which re-exports these same packages (one tfjs-core instance: the lockfile holds one version).
 *
 * One thing the umbrella does that the packages alone do not: register the chained tensor methods
 * (`x.flatten()`, `x.add(y)`, ...) that tfjs-layers calls (e.g. the orthogonal initializer of every LSTM).
 * Their registration modules ship only as extensionless ESM that Node cannot load, so they are restated
 * here from tfjs-core 4.22's src/public/chained_ops: a test holds this list to that folder.
 */
import '@tensorflow/tfjs-backend-cpu';
import * as core from '@tensorflow/tfjs-core';

export * from '@tensorflow/tfjs-core';
export * from '@tensorflow/tfjs-layers';

type Method = (this: core.Tensor, ...args: never[]) => unknown;
type AnyOp = (...args: unknown[]) => unknown;

/** Methods that are `op(this, ...args)` for the core op of the same name. */
export const GENERIC_CHAINED_OPS = (
  'abs acos acosh add all any argMax argMin asin asinh atan atan2 atanh avgPool batchNorm batchToSpaceND ' +
  'broadcastTo cast ceil clipByValue conv1d conv2d conv2dTranspose cos cosh cumprod cumsum depthToSpace ' +
  'depthwiseConv2d dilation2d div divNoNan dot elu equal erf euclideanNorm exp expandDims expm1 fft floor ' +
  'floorDiv gather greater greaterEqual ifft irfft isFinite isInf isNaN leakyRelu less lessEqual ' +
  'localResponseNormalization log log1p logSigmoid logSoftmax logSumExp logicalAnd logicalNot logicalOr ' +
  'logicalXor matMul max maxPool maximum mean min minimum mirrorPad mod mul neg norm notEqual oneHot ' +
  'onesLike pad pool pow prelu prod reciprocal relu relu6 reshape reverse rfft round rsqrt selu ' +
  'separableConv2d sigmoid sign sin sinh slice softmax softplus spaceToBatchND split sqrt square ' +
  'squaredDifference squeeze step stridedSlice sub sum tan tanh tile topk transpose unique ' +
  'unsortedSegmentSum unstack zerosLike'
).split(' ');

const ops = core as unknown as Record<string, AnyOp>;
const image = core.image as unknown as Record<string, AnyOp>;
const asArray = (x: core.Tensor | core.Tensor[]) => (x instanceof core.Tensor ? [x] : x);

/** The rest, as tfjs-core defines them. */
export const SPECIAL_CHAINED_OPS: Record<string, Method> = {
  as1D(this: core.Tensor) {
    return core.reshape(this, [this.size]);
  },
  as2D(this: core.Tensor, rows: number, columns: number) {
    return core.reshape(this, [rows, columns]);
  },
  as3D(this: core.Tensor, rows: number, columns: number, depth: number) {
    return core.reshape(this, [rows, columns, depth]);
  },
  as4D(this: core.Tensor, rows: number, columns: number, depth: number, depth2: number) {
    return core.reshape(this, [rows, columns, depth, depth2]);
  },
  as5D(this: core.Tensor, rows: number, columns: number, depth: number, depth2: number, depth3: number) {
    return core.reshape(this, [rows, columns, depth, depth2, depth3]);
  },
  asScalar(this: core.Tensor) {
    return core.reshape(this, []);
  },
  asType(this: core.Tensor, dtype: core.DataType) {
    return core.cast(this, dtype);
  },
  flatten(this: core.Tensor) {
    return core.reshape(this, [this.size]);
  },
  reshapeAs(this: core.Tensor, x: core.Tensor) {
    return core.reshape(this, x.shape);
  },
  toBool(this: core.Tensor) {
    return core.cast(this, 'bool');
  },
  toFloat(this: core.Tensor) {
    return core.cast(this, 'float32');
  },
  toInt(this: core.Tensor) {
    return core.cast(this, 'int32');
  },
  concat(this: core.Tensor, x: core.Tensor | core.Tensor[], axis?: number) {
    return core.concat([this, ...asArray(x)], axis);
  },
  stack(this: core.Tensor, x: core.Tensor | core.Tensor[], axis?: number) {
    return core.stack([this, ...asArray(x)], axis);
  },
  where(this: core.Tensor, condition: core.Tensor, x: core.Tensor) {
    return core.where(condition, this, x);
  },
  resizeBilinear(this: core.Tensor, ...args: unknown[]) {
    return image.resizeBilinear?.(this, ...args);
  },
  resizeNearestNeighbor(this: core.Tensor, ...args: unknown[]) {
    return image.resizeNearestNeighbor?.(this, ...args);
  },
};

/** Adds each chained method the Tensor class lacks (the umbrella, when loaded, has added them all). */
function registerChainedOps(): void {
  const proto = core.Tensor.prototype as unknown as Record<string, unknown>;
  const define = (name: string, method: Method) => {
    if (typeof proto[name] === 'function') return;
    Object.defineProperty(proto, name, { value: method, writable: true, configurable: true });
  };
  for (const name of GENERIC_CHAINED_OPS) {
    const op = ops[name];
    if (typeof op !== 'function') throw new Error(`tfjs-core has no op ${name}`);
    define(name, function (this: core.Tensor, ...args: unknown[]) {
      this.throwIfDisposed();
      return op(this, ...args);
    } as Method);
  }
  for (const [name, method] of Object.entries(SPECIAL_CHAINED_OPS)) {
    define(name, function (this: core.Tensor, ...args: never[]) {
      this.throwIfDisposed();
      return method.apply(this, args);
    });
  }
}

registerChainedOps();
