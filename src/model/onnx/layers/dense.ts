/** Dense → Gemm, then its activation as one node (Softmax over the classes, ...). */
import type * as tf from '../../tf.ts';
import type { Value } from '../graph.ts';
import { type ConvertContext, describe, expectKind, OnnxExportError, weightArrays } from './common.ts';

/** tfjs activation name → ONNX op applied to [batch, units]; null = none. */
const ACTIVATIONS: Record<string, { op: string; attributes?: Record<string, number> } | null> = {
  linear: null,
  softmax: { op: 'Softmax', attributes: { axis: -1 } },
  sigmoid: { op: 'Sigmoid' },
  tanh: { op: 'Tanh' },
  relu: { op: 'Relu' },
};

export function dense(layer: tf.layers.Layer, input: Value, ctx: ConvertContext): Value {
  const x = expectKind(layer, input, 'features');
  const config = layer.getConfig();
  const units = Number(config.units);
  const activationName = String(config.activation ?? 'linear');
  const activation = ACTIVATIONS[activationName];
  if (activation === undefined) {
    throw new OnnxExportError(
      `${describe(layer)}: activation ${JSON.stringify(activationName)} is not supported (${Object.keys(ACTIVATIONS).join(', ')})`,
    );
  }
  const useBias = config.useBias !== false;
  const shapes = useBias ? [[x.size, units], [units]] : [[x.size, units]];
  const [kernel, bias] = weightArrays(layer, shapes);
  if (!kernel) throw new OnnxExportError(`${describe(layer)} has no kernel`);
  const inputs = [x.name, ctx.graph.floatInitializer(`${layer.name}/kernel`, [x.size, units], kernel)];
  if (bias) inputs.push(ctx.graph.floatInitializer(`${layer.name}/bias`, [units], bias));
  let name = ctx.graph.node('Gemm', layer.name, inputs);
  if (activation) name = ctx.graph.node(activation.op, layer.name, [name], activation.attributes);
  return { kind: 'features', name, size: units };
}
