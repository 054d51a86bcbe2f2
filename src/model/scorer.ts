/**
 * Scores texts with a loaded bundle. Masked bundles run on each text's real tokens only: texts are
 * sorted by length and batched with others of similar length, each batch pre-padded to its own longest
 * (masking makes that equal to padding to maxLen). Unmasked bundles get the padded computation.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Manifest } from '../bundle/manifest.ts';
import { type Review, reviewText } from '../text/review.ts';
import type { WordTokenizer } from '../text/tokenizer.ts';
import { batchedProbabilities } from './batching.ts';
import { decideClass, IDENTITY_POSTPROCESSING, temperRow } from './postprocess.ts';

export interface Prediction {
  /**
   * The answer: the most probable label, or the distribution's median where the bundle chose that rule
   * (manifest postprocessing); its number for ordinal labels (1-5), else its name.
   */
  rating: number | string;
  /** Expected rating Σ p·k to 3 decimals, or null when labels are not ordinal. */
  score: number | null;
  probabilities: Record<string, number>;
  /** Known words the model saw (after truncation to maxLen); 0 means the text carried no signal it knows. */
  tokens: number;
}

export class Scorer {
  readonly model: tf.LayersModel;
  readonly tokenizer: WordTokenizer;
  readonly manifest: Manifest;

  constructor(model: tf.LayersModel, tokenizer: WordTokenizer, manifest: Manifest) {
    this.model = model;
    this.tokenizer = tokenizer;
    this.manifest = manifest;
  }

  /** One prediction per review, in input order; a plain string is a review without a title. */
  predict(reviews: readonly (Review | string)[]): Prediction[] {
    const { maxLen } = this.manifest.preprocessing;
    const sequences = reviews.map((review) =>
      this.tokenizer.encode(typeof review === 'string' ? review : reviewText(review), maxLen),
    );
    const probabilities = this.probabilities(sequences);
    return sequences.map((seq, i) => this.#prediction(probabilities[i] ?? [], seq.length));
  }

  /** Class probabilities for each encoded sequence, in input order. */
  probabilities(sequences: readonly Int32Array[]): Float32Array[] {
    const fixedLength = this.manifest.maskZero ? null : this.manifest.preprocessing.maxLen;
    return batchedProbabilities(this.model, sequences, fixedLength);
  }

  #prediction(raw: ArrayLike<number>, tokens: number): Prediction {
    const { labels, labelValues } = this.manifest;
    const post = this.manifest.postprocessing ?? IDENTITY_POSTPROCESSING;
    const p = temperRow(raw, post.temperature);
    const best = decideClass(p, post.decision);
    const probabilities: Record<string, number> = {};
    labels.forEach((label, k) => {
      probabilities[label] = round(p[k] ?? 0, 4);
    });
    const expected = labelValues ? labelValues.reduce((sum, value, k) => sum + value * (p[k] ?? 0), 0) : null;
    return {
      rating: labelValues?.[best] ?? labels[best] ?? String(best),
      score: expected === null ? null : round(expected, 3),
      probabilities,
      tokens,
    };
  }
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
