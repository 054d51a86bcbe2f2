/**
 * Exports a trained tfjs LayersModel (a chain of layers with converters in ./layers/: every registered
 * architecture, Dropouts anywhere) to ONNX bytes for ONNX Runtime. The graph takes LEFT-aligned (post-padded) ids and
 * each row's real length, so one padded batch gives every row exactly its masked tfjs result.
 *
 *   ids int32 [batch, seq], lengths int32 [batch] → probabilities float32 [batch, classes]
 *
 * Layers are walked in order and converted by class name (./layers/index.ts); anything else is refused.
 */
import type { QuantizedTable } from '../quantize.ts';
import type * as tf from '../tf.ts';
import { GraphBuilder, type Value } from './graph.ts';
import { ONNX_INPUT_IDS, ONNX_INPUT_LENGTHS, ONNX_IR_VERSION, ONNX_OPSET, ONNX_OUTPUT } from './io.ts';
import { CONVERTERS, OnnxExportError } from './layers/index.ts';
import { DataType, encodeModel } from './proto.ts';

export {
  ONNX_FILE,
  ONNX_INPUT_IDS,
  ONNX_INPUT_LENGTHS,
  ONNX_IR_VERSION,
  ONNX_OPSET,
  ONNX_OUTPUT,
} from './io.ts';
export { OnnxExportError } from './layers/index.ts';

export interface OnnxExportOptions {
  /** Stored as model metadata (e.g. the bundle's name and version). */
  metadata?: Record<string, string>;
  /** Embedding layers to store as int8, by layer name: quantizeEmbeddings' result (../quantize.ts). */
  quantized?: ReadonlyMap<string, QuantizedTable>;
}

export function exportToOnnx(model: tf.LayersModel, options: OnnxExportOptions = {}): Uint8Array {
  return exportGraph(model, options).bytes;
}

/** The ONNX bytes and the operator types the graph uses (what the runtime record derives hints from). */
export function exportGraph(
  model: tf.LayersModel,
  options: OnnxExportOptions = {},
): { bytes: Uint8Array; opTypes: Set<string> } {
  const layers = chainOf(model);
  const graph = new GraphBuilder();
  const ids = graph.fresh(ONNX_INPUT_IDS);
  const lengths = graph.fresh(ONNX_INPUT_LENGTHS);
  // Time-major ids ([seq, batch]) make the embedding lookup produce ONNX LSTM's layout directly:
  // transposing int ids is cheaper than transposing the embedded floats.
  let value: Value = { kind: 'ids', name: graph.node('Transpose', 'ids', [ids], { perm: [1, 0] }) };
  for (const layer of layers) {
    const convert = CONVERTERS[layer.getClassName()];
    if (!convert) {
      throw new OnnxExportError(
        `layer "${layer.name}" (${layer.getClassName()}) has no ONNX converter; supported: ${Object.keys(CONVERTERS).join(', ')}`,
      );
    }
    value = convert(layer, value, { graph, lengths, quantized: options.quantized ?? new Map() });
  }
  if (value.kind !== 'features') {
    throw new OnnxExportError(`the model must end with one feature vector per row, not ${value.kind}`);
  }
  graph.nodes.push({ name: 'output', opType: 'Identity', input: [value.name], output: [ONNX_OUTPUT] });
  const bytes = encodeModel({
    irVersion: ONNX_IR_VERSION,
    opsetVersion: ONNX_OPSET,
    producerName: 'review-sentiment',
    producerVersion: '1',
    graphName: model.name,
    nodes: graph.nodes,
    initializers: graph.initializers,
    inputs: [
      { name: ids, elemType: DataType.INT32, shape: ['batch', 'sequence'] },
      { name: lengths, elemType: DataType.INT32, shape: ['batch'] },
    ],
    outputs: [{ name: ONNX_OUTPUT, elemType: DataType.FLOAT, shape: ['batch', value.size] }],
    metadata: options.metadata ?? {},
  });
  // A plain Uint8Array view (protobufjs hands Node a Buffer), like every other bundle file's bytes.
  return {
    bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    opTypes: new Set(graph.nodes.map((n) => n.opType)),
  };
}

/** The model's layers in order, refusing anything but one input flowing through a single chain. */
function chainOf(model: tf.LayersModel): tf.layers.Layer[] {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new OnnxExportError(
      `the model has ${model.inputs.length} inputs and ${model.outputs.length} outputs; export takes one of each`,
    );
  }
  const layers = model.layers.filter((layer) => layer.getClassName() !== 'InputLayer');
  layers.forEach((layer, i) => {
    const inbound = layer.inboundNodes.flatMap((node) => node.inboundLayers.map((l) => l.name));
    const previous = layers[i - 1]?.name;
    const ok =
      previous === undefined
        ? inbound.every((n) => !layers.some((l) => l.name === n))
        : inbound.join() === previous;
    if (!ok) {
      throw new OnnxExportError(
        `layer "${layer.name}" takes [${inbound.join(', ')}], not the layer before it: only a chain of layers exports`,
      );
    }
  });
  return layers;
}
