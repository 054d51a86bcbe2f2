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
 * Gathers the rows' int8 codes and scales, then widens only those: Cast(codes[ids]) · scales[ids]. The
 * table itself is never widened, so nothing is left for ONNX Runtime to fold when the session is created.
 * Measured on the default bag (1 thread): widening the whole table first, which ORT folds into one
 * float32 table, made each request a single Gather but cost ~70 ms of session creation, on every cold
 * start, where the 250 ms budget is spent; gathering first costs +0.05, +0.3 and +0.5 ms on the 4-, 64-
 * and 100-review requests, which stay well inside their own targets (npm run bench:serve).
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
  const rowCodes = graph.node('Gather', `${layer.name}/codes`, [codes, ids], { axis: 0 });
  const rowScales = graph.node('Gather', `${layer.name}/scales`, [scales, ids], { axis: 0 });
  return graph.node('Mul', layer.name, [
    graph.node('Cast', `${layer.name}/dequantize`, [rowCodes], { to: DataType.FLOAT }),
    rowScales,
  ]);
}
