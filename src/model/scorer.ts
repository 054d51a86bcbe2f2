/**
 * Scores texts with a loaded bundle: tokenise, hand the encoded sequences to a runtime (ONNX Runtime or
 * TensorFlow.js, ./runtime.ts), turn each row's probabilities into a prediction. Runtime-agnostic: how
 * sequences are batched and padded is the runtime's business (both run each text on its real tokens).
 */
import type { Manifest } from '../bundle/manifest.ts';
import { round } from '../common/round.ts';
import { type Review, reviewText } from '../text/review.ts';
import type { WordTokenizer } from '../text/tokenizer.ts';
import { decideClass, IDENTITY_POSTPROCESSING, temperRow } from './postprocess.ts';
import type { ScoringRuntime } from './runtime.ts';

export interface Prediction {
  /**
   * The answer under the bundle's decision rule (manifest postprocessing): the most probable label, the
   * distribution's median, or the most probable after the fitted per-class offsets; its number for
   * ordinal labels (1-5), else its name.
   */
  rating: number | string;
  /** Expected rating Σ p·k to 3 decimals, or null when labels are not ordinal. */
  score: number | null;
  probabilities: Record<string, number>;
  /** Known words the model saw (after truncation to maxLen); 0 means the text carried no signal it knows. */
  tokens: number;
}

export class Scorer {
  readonly runtime: ScoringRuntime;
  readonly tokenizer: WordTokenizer;
  readonly manifest: Manifest;

  constructor(runtime: ScoringRuntime, tokenizer: WordTokenizer, manifest: Manifest) {
    this.runtime = runtime;
    this.tokenizer = tokenizer;
    this.manifest = manifest;
  }

  /** One prediction per review, in input order; a plain string is a review without a title. */
  async predict(reviews: readonly (Review | string)[]): Promise<Prediction[]> {
    const sequences = this.encode(reviews);
    const probabilities = await this.probabilities(sequences);
    return sequences.map((seq, i) => this.#prediction(probabilities[i] ?? [], seq.length));
  }

  /** Word ids of each review as the model reads them (normalised, known words, the last maxLen). */
  encode(reviews: readonly (Review | string)[]): Int32Array[] {
    const { maxLen } = this.manifest.preprocessing;
    return reviews.map((review) =>
      this.tokenizer.encode(typeof review === 'string' ? review : reviewText(review), maxLen),
    );
  }

  /** Class probabilities for each encoded sequence, in input order. */
  probabilities(sequences: readonly Int32Array[]): Promise<Float32Array[]> {
    return this.runtime.probabilities(sequences);
  }

  /**
   * Unrounded expected rating Σ p·k of each review, from the probabilities as served (tempered): what the
   * ranking job aggregates. Null for a bundle whose labels are not ordinal.
   */
  async expectedScores(reviews: readonly (Review | string)[]): Promise<number[] | null> {
    if (!this.manifest.labelValues) return null;
    const probabilities = await this.probabilities(this.encode(reviews));
    return probabilities.map((raw) => this.#expected(this.#tempered(raw)) ?? Number.NaN);
  }

  dispose(): Promise<void> | void {
    return this.runtime.dispose();
  }

  #prediction(raw: ArrayLike<number>, tokens: number): Prediction {
    const { labels, labelValues } = this.manifest;
    const p = this.#tempered(raw);
    const best = decideClass(p, this.manifest.postprocessing ?? IDENTITY_POSTPROCESSING);
    const probabilities: Record<string, number> = {};
    labels.forEach((label, k) => {
      probabilities[label] = round(p[k] ?? 0, 4);
    });
    const expected = this.#expected(p);
    return {
      rating: labelValues?.[best] ?? labels[best] ?? String(best),
      score: expected === null ? null : round(expected, 3),
      probabilities,
      tokens,
    };
  }

  #tempered(raw: ArrayLike<number>): Float32Array {
    return temperRow(raw, (this.manifest.postprocessing ?? IDENTITY_POSTPROCESSING).temperature);
  }

  #expected(p: ArrayLike<number>): number | null {
    const values = this.manifest.labelValues;
    return values ? values.reduce((sum, value, k) => sum + value * (p[k] ?? 0), 0) : null;
  }
}
