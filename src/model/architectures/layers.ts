/**
 * Layers tfjs-layers lacks, registered with its serialisation so bundles that use them load anywhere
 * (training, serving, tests). Both read and honour the id-0 padding mask, so a text scores the same
 * whatever its batch is padded to: the invariant the length-batching fast path relies on.
 *
 * Registration is a side effect of importing this module (class registration, not model building);
 * the architecture registry imports it, so every path that builds or loads a model has it.
 */
import * as tf from '../tf.ts';

/** Keras-style layer arguments (name, input shape, …) as tfjs-layers' constructors take them. */
type LayerArgs = ConstructorParameters<typeof tf.layers.Layer>[0];

/**
 * 313 · id + id stays below 2^24 for every id below 53,000. That bound, not int32's 2^31, is the one that
 * matters: TensorFlow.js backends may compute int32 products in float32, whose 24-bit mantissa rounds
 * larger values, so a bigger multiplier hashed differently in tfjs and in ONNX Runtime's exact integers.
 */
export const BIGRAM_MULTIPLIER = 313;
export const MAX_NGRAM_VOCABULARY = 53_000;

export interface NgramIdsConfig {
  /** Unigram vocabulary (ids 1..numWords-1); bigram ids start at numWords. */
  numWords: number;
  /** Hashed bigram buckets; bigram ids are numWords .. numWords + buckets - 1. */
  buckets: number;
}

/**
 * Word ids [batch, t] → the same ids followed by hashed bigram ids [batch, 2t - 1] (fastText's trick:
 * word pairs without a pair vocabulary). A bigram touching padding is 0, so the embedding's mask drops it.
 */
export class NgramIds extends tf.layers.Layer {
  static readonly className = 'NgramIds';
  readonly numWords: number;
  readonly buckets: number;

  constructor(config: NgramIdsConfig & LayerArgs) {
    super(config);
    this.numWords = config.numWords;
    this.buckets = config.buckets;
    if (!(this.numWords > 1 && this.numWords <= MAX_NGRAM_VOCABULARY) || !(this.buckets >= 1)) {
      throw new RangeError(`NgramIds needs 1 < numWords <= ${MAX_NGRAM_VOCABULARY} and buckets >= 1`);
    }
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const t = shape[1];
    return [shape[0] ?? null, typeof t === 'number' ? Math.max(0, 2 * t - 1) : null];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const ids = tf.cast(Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs, 'int32') as tf.Tensor2D;
      const t = ids.shape[1] ?? 0;
      if (t < 2) return ids;
      const left = ids.slice([0, 0], [-1, t - 1]);
      const right = ids.slice([0, 1], [-1, t - 1]);
      const hash = tf.mod(tf.add(tf.mul(left, tf.scalar(BIGRAM_MULTIPLIER, 'int32')), right), this.buckets);
      const valid = tf.logicalAnd(tf.greater(left, 0), tf.greater(right, 0));
      const bigrams = tf.where(valid, tf.add(hash, this.numWords), tf.zerosLike(hash));
      return tf.concat([ids, bigrams], 1);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), numWords: this.numWords, buckets: this.buckets };
  }
}

/**
 * Every pooling MaskedPooling computes, and so every mode a bundle's model.json may name: the layer, the
 * ONNX exporter and the training flag all read this list. `sqrtn` (TensorFlow's embedding combiner) is
 * the masked sum over sqrt(real steps): a bag's logits then grow with the evidence a longer text holds
 * (~sqrt(n), as an L2-normalised TF-IDF vector's dot product does), where the mean keeps every length at
 * one scale. `attention` weights each real step by a softmax of its dot product with a learned query
 * vector: a bag can then listen to its few sentiment-bearing words instead of averaging them with every
 * neutral, descriptive one (what TF-IDF + L2-regularised LR does by giving those words ~zero weight).
 */
export const POOLING_MODES = ['mean', 'sqrtn', 'max', 'mean-max', 'attention'] as const;
export type PoolingMode = (typeof POOLING_MODES)[number];

export function isPoolingMode(value: unknown): value is PoolingMode {
  return typeof value === 'string' && (POOLING_MODES as readonly string[]).includes(value);
}

/** Modes that pool a (scaled) sum of the steps; mean-max also pools their max (poolsMax). */
export function poolsSum(mode: PoolingMode): boolean {
  return mode === 'mean' || mode === 'sqrtn' || mode === 'mean-max';
}

export function poolsMax(mode: PoolingMode): boolean {
  return mode === 'max' || mode === 'mean-max';
}

/** Masked steps' score under max and attention: far below any real value, so neither ever picks them. */
export const MASKED_FILL = -1e9;

/**
 * Pooling over time that honours the mask (tfjs' GlobalAveragePooling1D ignores it, so padding would
 * change the answer). `mean-max` concatenates both. A row with no unmasked step pools to zeros.
 */
export class MaskedPooling extends tf.layers.Layer {
  static readonly className = 'MaskedPooling';
  readonly mode: PoolingMode;
  /** `attention`'s query vector [features] (built with the layer); the other modes have no weights. */
  private query: tf.LayerVariable | null = null;

  constructor(config: { mode: PoolingMode } & LayerArgs) {
    super(config);
    // A mode this code does not know (a newer bundle) must fail to load, not pool some other way.
    if (!isPoolingMode(config.mode)) {
      throw new RangeError(
        `MaskedPooling mode ${JSON.stringify(config.mode)}: use ${POOLING_MODES.join(', ')}`,
      );
    }
    this.mode = config.mode;
    this.supportsMasking = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const features = shape[2] ?? null;
    const width = features === null ? null : this.mode === 'mean-max' ? 2 * features : features;
    return [shape[0] ?? null, width];
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    if (this.mode === 'attention') {
      const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
      const features = shape[2];
      if (typeof features !== 'number')
        throw new RangeError('MaskedPooling attention needs a known feature size');
      // Zeros: every score starts equal, so training starts from exactly the mean pooling it is meant to
      // improve on, and the same seed still gives the same run (nothing random to seed).
      this.query = this.addWeight('query', [features], 'float32', tf.initializers.zeros());
    }
    this.built = true;
  }

  /** Pooling consumes the time axis, so nothing is left to mask (tfjs types forbid saying null). */
  override computeMask(): tf.Tensor {
    return null as unknown as tf.Tensor;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { mask?: tf.Tensor }): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor3D;
      const mask = kwargs.mask
        ? (tf.expandDims(tf.cast(kwargs.mask, 'float32'), -1) as tf.Tensor3D)
        : tf.onesLike(x.slice([0, 0, 0], [-1, -1, 1]));
      const count = tf.sum(mask, 1);
      const parts: tf.Tensor[] = [];
      if (this.mode === 'attention') parts.push(this.attend(x, mask));
      if (poolsSum(this.mode)) {
        // max(count, 1): an empty row's sum is 0, so it pools to 0 under either divisor.
        const divisor = tf.maximum(count, 1);
        const sum = tf.sum(tf.mul(x, mask), 1);
        parts.push(tf.div(sum, this.mode === 'sqrtn' ? tf.sqrt(divisor) : divisor));
      }
      if (poolsMax(this.mode)) {
        // Masked steps sit far below any activation, so max never picks them; empty rows give 0.
        const shifted = tf.add(x, tf.mul(tf.sub(1, mask), MASKED_FILL));
        parts.push(tf.mul(tf.max(shifted, 1), tf.minimum(count, 1)));
      }
      return parts.length === 1 ? (parts[0] as tf.Tensor) : tf.concat(parts, -1);
    });
  }

  /**
   * Σ a_t x_t with a = softmax over the real steps of q·x_t. Masked scores are replaced by MASKED_FILL
   * and the row's max is subtracted before exp, so no exp overflows whatever the scores; the weights are
   * then multiplied by the mask, so a masked step's weight is exactly 0 (even in a row with no real step,
   * whose max is the fill itself). The denominator of a row with a real step is >= 1 (its max step
   * contributes exp(0)), so max(Σ, 1) changes nothing there and turns an empty row into zeros, as mean's
   * max(count, 1) does.
   */
  private attend(x: tf.Tensor3D, mask: tf.Tensor3D): tf.Tensor {
    if (!this.query) throw new Error('MaskedPooling attention used before build()');
    const scores = tf.sum(tf.mul(x, this.query.read()), -1, true);
    const masked = tf.add(tf.mul(scores, mask), tf.mul(tf.sub(1, mask), MASKED_FILL));
    const weights = tf.mul(tf.exp(tf.sub(masked, tf.max(masked, 1, true))), mask);
    const total = tf.maximum(tf.sum(weights, 1, true), 1);
    return tf.sum(tf.mul(x, tf.div(weights, total)), 1);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), mode: this.mode };
  }
}

tf.serialization.registerClass(NgramIds);
tf.serialization.registerClass(MaskedPooling);
