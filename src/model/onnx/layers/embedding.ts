/** Embedding → Gather of the time-major ids from the embedding matrix. */
import type * as tf from '../../tf.ts';
import type { Value } from '../graph.ts';
import { type ConvertContext, describe, expectKind, OnnxExportError, weightArrays } from './common.ts';

export function embedding(layer: tf.layers.Layer, input: Value, ctx: ConvertContext): Value {
  const ids = expectKind(layer, input, 'ids');
  const config = layer.getConfig();
  // The graph never sees padding: `lengths` tells every later layer where each row ends, which equals
  // the masked computation. Without maskZero tfjs reads the padding as words, which this cannot mimic.
  if (config.maskZero !== true) {
    throw new OnnxExportError(
      `${describe(layer)}: only maskZero embeddings export (the ONNX graph takes real lengths, not padding)`,
    );
  }
  const inputDim = Number(config.inputDim);
  const outputDim = Number(config.outputDim);
  const [matrix] = weightArrays(layer, [[inputDim, outputDim]]);
  if (!matrix) throw new OnnxExportError(`${describe(layer)} has no embedding matrix`);
  const table = ctx.graph.floatInitializer(`${layer.name}/embeddings`, [inputDim, outputDim], matrix);
  const name = ctx.graph.node('Gather', layer.name, [table, ids.name], { axis: 0 });
  // The ids travel along: a pooling layer masks on them (id 0 = padding), as tfjs's maskZero does.
  return { kind: 'steps', name, size: outputDim, ids: ids.name };
}
