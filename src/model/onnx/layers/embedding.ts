/**
 * Embedding → Gather of the time-major ids from the embedding matrix, stored as float32 or, quantised
 * (../../quantize.ts), as int8 codes with per-row scales.
 */
import { dequantize, type QuantizedTable } from '../../quantize.ts';
import type * as tf from '../../tf.ts';
import type { Value } from '../graph.ts';
import { DataType } from '../proto.ts';
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
  const table = ctx.quantized.get(layer.name);
  const name = table
    ? quantizedLookup(layer, table, matrix, ids.name, ctx)
    : ctx.graph.node(
        'Gather',
        layer.name,
        [ctx.graph.floatInitializer(`${layer.name}/embeddings`, [inputDim, outputDim], matrix), ids.name],
        { axis: 0 },
      );
  // The ids travel along: a pooling layer masks on them (id 0 = padding), as tfjs's maskZero does.
  return { kind: 'steps', name, size: outputDim, ids: ids.name };
}

/**
 * codes (int8 → float) · scales, then the Gather. Every input of the widening is an initializer, so ONNX
 * Runtime folds it into one float32 table when the session is created: the file carries 1 byte per value,
 * each request runs a single Gather as the float graph does. Measured on the default bag (1 thread,
 * interleaved): folding costs ~70 ms once per session (75 vs 4 ms to create it); gathering codes and
 * scales per request instead cost +0.05, +0.3 and +0.5 ms on the 4-, 64- and 100-review requests. A
 * function answers hundreds of requests per cold start, so the fold is the cheaper side.
 */
function quantizedLookup(
  layer: tf.layers.Layer,
  table: QuantizedTable,
  matrix: Float32Array,
  ids: string,
  ctx: ConvertContext,
): string {
  const { graph } = ctx;
  const dequantized = dequantize(table);
  if (dequantized.length !== matrix.length || dequantized.some((v, i) => v !== matrix[i])) {
    throw new OnnxExportError(`${describe(layer)}: its weights are not the quantised table's values`);
  }
  const codes = graph.int8Initializer(`${layer.name}/codes`, [table.rows, table.dim], table.codes);
  const scales = graph.floatInitializer(`${layer.name}/scales`, [table.rows, 1], table.scales);
  const widened = graph.node('Mul', `${layer.name}/dequantize`, [
    graph.node('Cast', `${layer.name}/dequantize`, [codes], { to: DataType.FLOAT }),
    scales,
  ]);
  return graph.node('Gather', layer.name, [widened, ids], { axis: 0 });
}
