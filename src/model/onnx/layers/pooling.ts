/**
 * MaskedPooling (../../architectures/layers.ts) → masked mean, sqrtn and/or max over the time axis,
 * exactly as the layer computes them: mean = Σ x·m / max(Σ m, 1); sqrtn = Σ x·m / sqrt(max(Σ m, 1));
 * max = max over t of x + (1 - m)·(-1e9), times min(Σ m, 1), so a row with no real step pools to 0;
 * attention = Σ x·w / max(Σ w, 1) with w = exp(s - max_t s)·m, s = (x·q)·m + (1 - m)·(-1e9).
 * The mask m is "id != 0" when the steps come straight from an embedding (the ids may hold 0s anywhere,
 * e.g. hashed word pairs touching padding), else "t < lengths[b]" (a recurrent layer's outputs on
 * left-aligned rows).
 */
import { isPoolingMode, MASKED_FILL, POOLING_MODES, poolsMax, poolsSum } from '../../architectures/layers.ts';
import type * as tf from '../../tf.ts';
import type { GraphBuilder, Value } from '../graph.ts';
import { DataType } from '../proto.ts';
import { type ConvertContext, describe, expectKind, OnnxExportError, weightArrays } from './common.ts';

export function maskedPooling(layer: tf.layers.Layer, input: Value, ctx: ConvertContext): Value {
  const x = expectKind(layer, input, 'steps');
  const mode = layer.getConfig().mode;
  if (!isPoolingMode(mode)) {
    throw new OnnxExportError(
      `${describe(layer)}: mode ${JSON.stringify(mode)} is not supported (${POOLING_MODES.join(', ')})`,
    );
  }
  const { graph } = ctx;
  const stem = layer.name;
  const mask = x.ids ? idsMask(graph, stem, x.ids) : lengthsMask(graph, stem, x.name, ctx.lengths);
  if (mode === 'attention')
    return { kind: 'features', name: attention(layer, x.name, x.size, mask, ctx), size: x.size };
  const time = graph.int64Initializer(`${stem}/time_axis`, [0]);
  // count [batch, 1]: real steps per row.
  const count = graph.node('ReduceSum', `${stem}/count`, [mask, time], { keepdims: 0 });
  const parts: string[] = [];
  if (poolsSum(mode)) {
    const one = graph.floatInitializer(`${stem}/one`, [], Float32Array.of(1));
    const sum = graph.node(
      'ReduceSum',
      `${stem}/mean`,
      [graph.node('Mul', `${stem}/mean`, [x.name, mask]), time],
      {
        keepdims: 0,
      },
    );
    const divisor = graph.node('Max', `${stem}/mean`, [count, one]);
    const scale = mode === 'sqrtn' ? graph.node('Sqrt', `${stem}/mean`, [divisor]) : divisor;
    parts.push(graph.node('Div', `${stem}/mean`, [sum, scale]));
  }
  if (poolsMax(mode)) {
    const one = graph.floatInitializer(`${stem}/max_one`, [], Float32Array.of(1));
    const fill = graph.floatInitializer(`${stem}/fill`, [], Float32Array.of(MASKED_FILL));
    const unmasked = graph.node('Sub', `${stem}/max`, [one, mask]);
    const shifted = graph.node('Add', `${stem}/max`, [
      x.name,
      graph.node('Mul', `${stem}/max`, [unmasked, fill]),
    ]);
    const max = graph.node('ReduceMax', `${stem}/max`, [shifted], { axes: [0], keepdims: 0 });
    parts.push(graph.node('Mul', `${stem}/max`, [max, graph.node('Min', `${stem}/max`, [count, one])]));
  }
  const [only] = parts;
  const name = parts.length === 1 && only ? only : graph.node('Concat', stem, parts, { axis: -1 });
  return { kind: 'features', name, size: parts.length * x.size };
}

/**
 * The layer's attention, step for step (steps are [seq, batch, features] here, so time is axis 0): the
 * same fill, max shift, mask product and max(Σ, 1), so ORT and tfjs round alike and an empty row is 0.
 */
function attention(
  layer: tf.layers.Layer,
  steps: string,
  size: number,
  mask: string,
  ctx: ConvertContext,
): string {
  const { graph } = ctx;
  const stem = `${layer.name}/attention`;
  const [query] = weightArrays(layer, [[size]]);
  if (!query) throw new OnnxExportError(`${describe(layer)} has no attention query`);
  const q = graph.floatInitializer(`${layer.name}/query`, [size], query);
  const last = graph.int64Initializer(`${stem}/feature_axis`, [2]);
  const time = graph.int64Initializer(`${stem}/time_axis`, [0]);
  const one = graph.floatInitializer(`${stem}/one`, [], Float32Array.of(1));
  const fill = graph.floatInitializer(`${stem}/fill`, [], Float32Array.of(MASKED_FILL));
  // scores [seq, batch, 1]: Mul + ReduceSum as the layer's sum(x·q), not MatMul, whose summation order
  // could differ from it.
  const scores = graph.node(
    'ReduceSum',
    `${stem}/scores`,
    [graph.node('Mul', `${stem}/scores`, [steps, q]), last],
    {
      keepdims: 1,
    },
  );
  const masked = graph.node('Add', `${stem}/masked`, [
    graph.node('Mul', `${stem}/masked`, [scores, mask]),
    graph.node('Mul', `${stem}/masked`, [graph.node('Sub', `${stem}/masked`, [one, mask]), fill]),
  ]);
  const peak = graph.node('ReduceMax', `${stem}/peak`, [masked], { axes: [0], keepdims: 1 });
  const weights = graph.node('Mul', `${stem}/weights`, [
    graph.node('Exp', `${stem}/weights`, [graph.node('Sub', `${stem}/weights`, [masked, peak])]),
    mask,
  ]);
  const total = graph.node('Max', `${stem}/total`, [
    graph.node('ReduceSum', `${stem}/total`, [weights, time], { keepdims: 1 }),
    one,
  ]);
  const normalised = graph.node('Div', `${stem}/normalised`, [weights, total]);
  return graph.node('ReduceSum', stem, [graph.node('Mul', stem, [steps, normalised]), time], { keepdims: 0 });
}

/** float32 [seq, batch, 1]: 1 where the id is not padding. */
function idsMask(graph: GraphBuilder, stem: string, ids: string): string {
  const zero = graph.int32Initializer(`${stem}/zero_id`, [], [0]);
  const real = graph.node('Cast', `${stem}/mask`, [graph.node('Greater', `${stem}/mask`, [ids, zero])], {
    to: DataType.FLOAT,
  });
  return graph.node('Unsqueeze', `${stem}/mask`, [real, graph.int64Initializer(`${stem}/mask_axis`, [2])]);
}

/** float32 [seq, batch, 1]: 1 where t < lengths[b], from Range over the sequence's own length. */
function lengthsMask(graph: GraphBuilder, stem: string, steps: string, lengths: string): string {
  const shape = graph.node('Shape', `${stem}/mask`, [steps]);
  const seq = graph.node(
    'Gather',
    `${stem}/mask`,
    [shape, graph.int64Initializer(`${stem}/seq_index`, [0])],
    {
      axis: 0,
    },
  );
  const scalar = graph.node('Squeeze', `${stem}/mask`, [
    seq,
    graph.int64Initializer(`${stem}/seq_axis`, [0]),
  ]);
  const start = graph.node('Cast', `${stem}/mask_start`, [graph.int32Initializer(`${stem}/zero`, [], [0])], {
    to: DataType.INT64,
  });
  const delta = graph.node('Cast', `${stem}/mask_delta`, [graph.int32Initializer(`${stem}/step`, [], [1])], {
    to: DataType.INT64,
  });
  const t = graph.node('Range', `${stem}/mask`, [start, scalar, delta]);
  const column = graph.node('Unsqueeze', `${stem}/mask`, [t, graph.int64Initializer(`${stem}/t_axis`, [1])]);
  const lengths64 = graph.node('Cast', `${stem}/mask_lengths`, [lengths], { to: DataType.INT64 });
  const row = graph.node('Unsqueeze', `${stem}/mask`, [
    lengths64,
    graph.int64Initializer(`${stem}/b_axis`, [0]),
  ]);
  const real = graph.node('Cast', `${stem}/mask`, [graph.node('Less', `${stem}/mask`, [column, row])], {
    to: DataType.FLOAT,
  });
  return graph.node('Unsqueeze', `${stem}/mask`, [real, graph.int64Initializer(`${stem}/mask_axis`, [2])]);
}
