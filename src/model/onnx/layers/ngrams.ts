/**
 * NgramIds (../../architectures/layers.ts) → the word ids followed, along time, by hashed word-pair ids:
 * numWords + ((left · 313 + right) mod buckets) where both ids are real (> 0), else 0.
 *
 * The graph's rows are LEFT-aligned where tfjs sees them PRE-padded, so the pairs sit at other time
 * steps: [0 0 a b c] gives (0,0) (0,a) (a,b) (b,c) in tfjs and [a b c 0 0] gives (a,b) (b,c) (c,0) (0,0)
 * here. Every pair touching padding is 0 either way, so the non-zero ids are the same multiset, and the
 * masked pooling that follows (the only consumer the architectures have; a sum or max over steps) is the
 * same.
 */

import { BIGRAM_MULTIPLIER, MAX_NGRAM_VOCABULARY } from '../../architectures/layers.ts';
import type * as tf from '../../tf.ts';
import type { Value } from '../graph.ts';
import { type ConvertContext, describe, expectKind, OnnxExportError } from './common.ts';

export function ngramIds(layer: tf.layers.Layer, input: Value, ctx: ConvertContext): Value {
  const ids = expectKind(layer, input, 'ids');
  const config = layer.getConfig();
  const numWords = Number(config.numWords);
  const buckets = Number(config.buckets);
  if (!(numWords > 1 && numWords <= MAX_NGRAM_VOCABULARY) || !(Number.isInteger(buckets) && buckets >= 1)) {
    throw new OnnxExportError(`${describe(layer)}: numWords ${numWords} / buckets ${buckets} out of range`);
  }
  const { graph } = ctx;
  const stem = layer.name;
  const axis = graph.int64Initializer(`${stem}/time_axis`, [0]);
  // ids[0 : seq-1] and ids[1 : seq]; both are empty for a one-step batch, leaving the ids alone (as tfjs).
  const left = graph.node('Slice', `${stem}/left`, [
    ids.name,
    graph.int64Initializer(`${stem}/left_start`, [0]),
    graph.int64Initializer(`${stem}/left_end`, [-1]),
    axis,
  ]);
  const right = graph.node('Slice', `${stem}/right`, [
    ids.name,
    graph.int64Initializer(`${stem}/right_start`, [1]),
    graph.int64Initializer(`${stem}/right_end`, [Number.MAX_SAFE_INTEGER]),
    axis,
  ]);
  const int = (name: string, value: number) => graph.int32Initializer(`${stem}/${name}`, [], [value]);
  // Exact in int32 and in float32 alike: layers.ts bounds numWords so 313 · id + id < 2^24.
  const mixed = graph.node('Add', `${stem}/hash`, [
    graph.node('Mul', `${stem}/hash`, [left, int('multiplier', BIGRAM_MULTIPLIER)]),
    right,
  ]);
  const bucket = graph.node('Mod', `${stem}/hash`, [mixed, int('buckets', buckets)], { fmod: 0 });
  const pairId = graph.node('Add', `${stem}/hash`, [bucket, int('num_words', numWords)]);
  const zero = int('zero', 0);
  const valid = graph.node('And', `${stem}/valid`, [
    graph.node('Greater', `${stem}/valid`, [left, zero]),
    graph.node('Greater', `${stem}/valid`, [right, zero]),
  ]);
  const pairs = graph.node('Where', `${stem}/pairs`, [valid, pairId, zero]);
  return { kind: 'ids', name: graph.node('Concat', stem, [ids.name, pairs], { axis: 0 }) };
}
