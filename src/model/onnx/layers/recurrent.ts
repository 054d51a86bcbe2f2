/**
 * LSTM and Bidirectional(LSTM) → one ONNX LSTM node. `sequence_lens` = the real lengths, so each row
 * runs over its own tokens only (the forward direction stops at its last token, the backward one starts
 * there), which is what tfjs's masking computes on pre-padded input. The final hidden state Y_h
 * [directions, batch, units] becomes [batch, directions × units], forward first: tfjs's concat order.
 * With returnSequences, every step's output Y [seq, directions, batch, units] becomes steps
 * [seq, batch, directions × units] (same order); step t of row b is real when t < lengths[b], and the
 * backward direction's output at t has read the row from its last token back to t, as in tfjs.
 */
import type * as tf from '../../tf.ts';
import type { Value } from '../graph.ts';
import {
  type ConvertContext,
  describe,
  expectKind,
  OnnxExportError,
  requireOption,
  weightArrays,
} from './common.ts';

/** tfjs activation → ONNX LSTM activation name (HardSigmoid's defaults, 0.2x + 0.5, are tfjs's too). */
const ACTIVATIONS: Record<string, string> = {
  sigmoid: 'Sigmoid',
  hardSigmoid: 'HardSigmoid',
  hard_sigmoid: 'HardSigmoid',
  tanh: 'Tanh',
  relu: 'Relu',
};

/** ONNX gate g (order i, o, f, c) is Keras gate KERAS_GATE[g] (order i, f, c, o). */
const KERAS_GATE = [0, 3, 1, 2] as const;

interface LstmConfig {
  units: number;
  returnSequences: boolean;
  /** ONNX [f, g, h]: the recurrent (gate) activation, then the cell activation twice. */
  activations: string[];
  useBias: boolean;
}

interface DirectionWeights {
  /** [4h, input] */
  w: Float32Array;
  /** [4h, h] */
  r: Float32Array;
  /** [8h]: input bias, then a zero recurrent bias (Keras has one bias per gate). */
  b: Float32Array;
}

export function lstm(layer: tf.layers.Layer, input: Value, ctx: ConvertContext): Value {
  const x = expectKind(layer, input, 'steps');
  const config = lstmConfig(layer, layer.getConfig());
  const weights = directionWeights(config, x.size, weightArrays(layer, weightShapes(config, x.size)));
  return lstmNode(ctx, layer.name, x, config, [weights], 'forward');
}

export function bidirectional(layer: tf.layers.Layer, input: Value, ctx: ConvertContext): Value {
  const x = expectKind(layer, input, 'steps');
  const outer = layer.getConfig();
  const inner = outer.layer as { className?: string; config?: tf.serialization.ConfigDict } | undefined;
  if (inner?.className !== 'LSTM' || !inner.config) {
    throw new OnnxExportError(
      `${describe(layer)}: only a wrapped LSTM is supported, not ${inner?.className}`,
    );
  }
  requireOption(layer, 'mergeMode', outer.mergeMode, 'concat');
  const config = lstmConfig(layer, inner.config);
  const shapes = weightShapes(config, x.size);
  // getWeights() lists the forward layer's weights, then the backward layer's: check by name.
  const names = layer.weights.map((w) => w.originalName);
  const half = shapes.length;
  if (
    !names.slice(0, half).every((n) => n.includes('forward')) ||
    names.slice(half).some((n) => !n.includes('backward'))
  ) {
    throw new OnnxExportError(`${describe(layer)}: unexpected weight order ${names.join(', ')}`);
  }
  const all = weightArrays(layer, [...shapes, ...shapes]);
  const forward = directionWeights(config, x.size, all.slice(0, half));
  const backward = directionWeights(config, x.size, all.slice(half));
  return lstmNode(ctx, layer.name, x, config, [forward, backward], 'bidirectional');
}

function lstmConfig(layer: tf.layers.Layer, c: tf.serialization.ConfigDict): LstmConfig {
  requireOption(layer, 'returnState', c.returnState, false);
  requireOption(layer, 'goBackwards', c.goBackwards, false);
  requireOption(layer, 'stateful', c.stateful, false);
  const onnx = (option: string, name: unknown): string => {
    const op = ACTIVATIONS[String(name)];
    if (!op) {
      throw new OnnxExportError(
        `${describe(layer)}: ${option} ${JSON.stringify(name)} is not supported (${Object.keys(ACTIVATIONS).join(', ')})`,
      );
    }
    return op;
  };
  const gate = onnx('recurrentActivation', c.recurrentActivation);
  const cell = onnx('activation', c.activation);
  return {
    units: Number(c.units),
    returnSequences: c.returnSequences === true,
    activations: [gate, cell, cell],
    useBias: c.useBias !== false,
  };
}

function weightShapes(config: LstmConfig, inputSize: number): number[][] {
  const gates = 4 * config.units;
  const shapes = [
    [inputSize, gates],
    [config.units, gates],
  ];
  return config.useBias ? [...shapes, [gates]] : shapes;
}

/** Keras kernel [input, 4h] (gate columns i, f, c, o) → ONNX [4h, input] (gate rows i, o, f, c). */
function gateRows(kernel: Float32Array, inputSize: number, units: number): Float32Array {
  const out = new Float32Array(4 * units * inputSize);
  for (let g = 0; g < 4; g++) {
    const from = (KERAS_GATE[g] ?? 0) * units;
    for (let j = 0; j < units; j++) {
      const row = (g * units + j) * inputSize;
      for (let k = 0; k < inputSize; k++) out[row + k] = kernel[k * 4 * units + from + j] ?? 0;
    }
  }
  return out;
}

function directionWeights(config: LstmConfig, inputSize: number, arrays: Float32Array[]): DirectionWeights {
  const [kernel, recurrent, bias] = arrays;
  if (!kernel || !recurrent) throw new Error('unreachable: weightArrays checked the count');
  const { units } = config;
  const b = new Float32Array(8 * units);
  if (bias) {
    for (let g = 0; g < 4; g++) {
      b.set(bias.subarray((KERAS_GATE[g] ?? 0) * units, ((KERAS_GATE[g] ?? 0) + 1) * units), g * units);
    }
  }
  return { w: gateRows(kernel, inputSize, units), r: gateRows(recurrent, units, units), b };
}

function lstmNode(
  ctx: ConvertContext,
  stem: string,
  x: Extract<Value, { kind: 'steps' }>,
  config: LstmConfig,
  directions: DirectionWeights[],
  direction: 'forward' | 'bidirectional',
): Value {
  const { graph } = ctx;
  const { units } = config;
  const dirs = directions.length;
  const concat = (part: 'w' | 'r' | 'b'): Float32Array => {
    const parts = directions.map((d) => d[part]);
    const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const p of parts) {
      out.set(p, offset);
      offset += p.length;
    }
    return out;
  };
  const w = graph.floatInitializer(`${stem}/W`, [dirs, 4 * units, x.size], concat('w'));
  const r = graph.floatInitializer(`${stem}/R`, [dirs, 4 * units, units], concat('r'));
  const b = graph.floatInitializer(`${stem}/B`, [dirs, 8 * units], concat('b'));
  const activations = directions.flatMap(() => config.activations);
  const attributes = { hidden_size: units, direction, activations };
  const inputs = [x.name, w, r, b, ctx.lengths];
  if (config.returnSequences) {
    const [y] = graph.nodeWithOutputs('LSTM', stem, inputs, ['Y'], attributes);
    if (!y) throw new Error('unreachable: one output was asked for');
    const stepMajor = graph.node('Transpose', stem, [y], { perm: [0, 2, 1, 3] });
    const shape = graph.int64Initializer(`${stem}/steps_shape`, [0, 0, dirs * units]);
    // No `ids`: what masks these steps from here on is t < lengths.
    return { kind: 'steps', name: graph.node('Reshape', stem, [stepMajor, shape]), size: dirs * units };
  }
  // Y (every step's output) is not needed: '' leaves it uncomputed.
  const [, yH] = graph.nodeWithOutputs('LSTM', stem, inputs, ['', 'Y_h'], attributes);
  if (!yH) throw new Error('unreachable: two outputs were asked for');
  const batchMajor = graph.node('Transpose', stem, [yH], { perm: [1, 0, 2] });
  const shape = graph.int64Initializer(`${stem}/features_shape`, [0, dirs * units]);
  const name = graph.node('Reshape', stem, [batchMajor, shape]);
  return { kind: 'features', name, size: dirs * units };
}
