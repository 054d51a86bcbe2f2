/** Checks and weight access shared by the layer converters. */

import type { QuantizedTable } from '../../quantize.ts';
import type * as tf from '../../tf.ts';
import type { GraphBuilder, Value } from '../graph.ts';

export interface ConvertContext {
  graph: GraphBuilder;
  /** The int32 [batch] graph input: real steps per row (the rest of a row is padding). */
  lengths: string;
  /** Embedding tables to store as int8, by layer name (../../quantize.ts). */
  quantized: ReadonlyMap<string, QuantizedTable>;
}

/** Turns one layer into nodes on the incoming value; returns the value it produces. */
export type LayerConverter = (layer: tf.layers.Layer, input: Value, ctx: ConvertContext) => Value;

export class OnnxExportError extends Error {
  override name = 'OnnxExportError';
}

export function describe(layer: tf.layers.Layer): string {
  return `layer "${layer.name}" (${layer.getClassName()})`;
}

const KIND_NAMES: Record<Value['kind'], string> = {
  ids: 'word ids',
  steps: 'a sequence of feature vectors',
  features: 'one feature vector per row',
};

/** Narrows the incoming value to the kind a converter needs, or refuses naming the layer. */
export function expectKind<K extends Value['kind']>(
  layer: tf.layers.Layer,
  input: Value,
  kind: K,
): Extract<Value, { kind: K }> {
  if (input.kind !== kind) {
    throw new OnnxExportError(
      `${describe(layer)} takes ${KIND_NAMES[kind]} but receives ${KIND_NAMES[input.kind]}`,
    );
  }
  return input as Extract<Value, { kind: K }>;
}

/** The layer's weights as float32 arrays, each checked against the shape the converter expects. */
export function weightArrays(layer: tf.layers.Layer, shapes: number[][]): Float32Array[] {
  const weights = layer.getWeights();
  if (weights.length !== shapes.length) {
    throw new OnnxExportError(`${describe(layer)} has ${weights.length} weights, expected ${shapes.length}`);
  }
  return weights.map((w, i) => {
    const shape = shapes[i] ?? [];
    if (w.dtype !== 'float32' || w.shape.join() !== shape.join()) {
      throw new OnnxExportError(
        `${describe(layer)} weight ${i} is ${w.dtype} [${w.shape.join(', ')}], expected float32 [${shape.join(', ')}]`,
      );
    }
    // Read only, never disposed: these are the layer's own variables.
    return w.dataSync() as Float32Array;
  });
}

/** Refuses a config option whose value the ONNX graph would not reproduce. */
export function requireOption(
  layer: tf.layers.Layer,
  option: string,
  actual: unknown,
  allowed: unknown,
): void {
  if ((actual ?? false) !== allowed) {
    throw new OnnxExportError(
      `${describe(layer)}: ${option} ${JSON.stringify(actual)} is not supported (only ${JSON.stringify(allowed)})`,
    );
  }
}
