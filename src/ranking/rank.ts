/**
 * The reduce step's arithmetic: from merged per-product sums to a ranking that means something.
 *
 * A product's mean expected rating over 1-2 reviews is mostly noise, so products are ranked by a
 * Bayesian average: the mean shrunk toward the period's overall mean μ by a prior worth m reviews,
 * (m·μ + Σ s) / (m + n). A product needs many consistently glowing reviews to beat μ by much.
 */

import { round as roundTo } from '../common/round.ts';
import { BadRequestError } from '../errors.ts';
import { compareIds, fromUnits, type Partial, type ProductSums, toUnits } from './partial.ts';
import type { Period } from './period.ts';
import type { ModelInfo } from './score-batch.ts';
import { spearman } from './spearman.ts';

/**
 * Why 15: the Bühlmann credibility constant k = (variance of one review's score around its product's
 * mean) / (variance of the products' true means) is the m for which this average is the best linear
 * estimate of a product's true mean. Measured on product_reviews.csv with the default model's scores it
 * is 15.1 over 2004-2014, 15.7 in 2013, 17.6 in 2014-01..06 and 7.5 in 2012 (stars give 14.2, 13.9,
 * 13.6, 6.2; docs/rankings.md). It is fixed rather than estimated per run because a week holds a median
 * of one review per product, far too few to estimate k, and a fixed m keeps weeks comparable.
 */
export const DEFAULT_PRIOR_M = 15;
/** Fewer reviews than this and a product is listed but not ranked. */
export const DEFAULT_MIN_REVIEWS = 3;
export const DEFAULT_TOP = 5;
/** Scores and correlations in the output are rounded to this many decimals. */
export const OUTPUT_DECIMALS = 4;

export interface RankOptions {
  top: number;
  minReviews: number;
  priorM: number;
}

export interface ProductRow {
  product_id: string;
  /** 1-based; null when the product has fewer than minReviews reviews in the period. */
  rank: number | null;
  reviews: number;
  mean_score: number;
  adjusted_score: number;
  /** Present when the input had ratings; null for a product none of whose reviews had one. */
  mean_rating?: number | null;
}

export interface Ranking {
  period: Period;
  model: ModelInfo;
  prior: { mean: number | null; m: number };
  counts: {
    rows: number;
    scored: number;
    /** outside_period + bad. */
    skipped: number;
    outside_period: number;
    bad: number;
    products: number;
    ranked: number;
  };
  /** Only with ratings: does the text-based order agree with the stars? */
  check?: { spearman_mean_score_vs_mean_rating: number | null; products: number };
  top: ProductRow[];
  products: ProductRow[];
  bad_rows: Partial['bad_rows'];
}

/** Output rounding (src/common/round.ts never yields -0, which CSV would print as "-0"). */
export function round(value: number, digits = OUTPUT_DECIMALS): number {
  return roundTo(value, digits);
}

export function bayesianAverage(sum: number, n: number, mean: number, m: number): number {
  return (m * mean + sum) / (m + n);
}

/** Ranked products first; within each group adjusted score desc, then reviews desc, then product_id asc. */
export function compareRows(a: ProductRow, b: ProductRow): number {
  const ranked = Number(b.rank !== null) - Number(a.rank !== null);
  return (
    ranked ||
    b.adjusted_score - a.adjusted_score ||
    b.reviews - a.reviews ||
    compareIds(a.product_id, b.product_id)
  );
}

export function rankPartial(merged: Partial, options: RankOptions): Ranking {
  checkOptions(options);
  const { products } = merged;
  // Sums in exact units (see partial.ts), so μ does not depend on how the input was split.
  const totalUnits = products.reduce((sum, p) => sum + toUnits(p.sum_score), 0);
  const totalReviews = products.reduce((sum, p) => sum + p.n, 0);
  const mean = totalReviews > 0 ? fromUnits(totalUnits) / totalReviews : null;
  const withRatings = products.some((p) => p.n_rating > 0);
  const rows = products.map((p) => productRow(p, mean ?? 0, options, withRatings)).sort(compareRows);
  let next = 1;
  for (const row of rows) if (row.rank !== null) row.rank = next++;
  const ranked = next - 1;
  const { counts } = merged;
  return {
    period: merged.period,
    model: merged.model,
    prior: { mean: mean === null ? null : round(mean), m: options.priorM },
    counts: {
      rows: counts.rows,
      scored: counts.scored,
      skipped: counts.outside_period + counts.bad,
      outside_period: counts.outside_period,
      bad: counts.bad,
      products: rows.length,
      ranked,
    },
    ...(withRatings ? { check: ratingCheck(rows) } : {}),
    top: rows.filter((row) => row.rank !== null).slice(0, options.top),
    products: rows,
    bad_rows: merged.bad_rows,
  };
}

function productRow(p: ProductSums, mean: number, options: RankOptions, withRatings: boolean): ProductRow {
  const row: ProductRow = {
    product_id: p.product_id,
    // Placeholder: numbered after sorting.
    rank: p.n >= options.minReviews ? 0 : null,
    reviews: p.n,
    mean_score: round(p.sum_score / p.n),
    // Rounded before sorting, so ties are ties in what the output shows and break visibly.
    adjusted_score: round(bayesianAverage(p.sum_score, p.n, mean, options.priorM)),
  };
  if (withRatings) row.mean_rating = p.n_rating > 0 ? round(p.sum_rating / p.n_rating) : null;
  return row;
}

/** Spearman over ranked products that had ratings: mean text score vs mean stars. */
function ratingCheck(rows: readonly ProductRow[]): NonNullable<Ranking['check']> {
  const pairs = rows.filter((r) => r.rank !== null && typeof r.mean_rating === 'number');
  const rho = spearman(
    pairs.map((r) => r.mean_score),
    pairs.map((r) => r.mean_rating ?? 0),
  );
  return { spearman_mean_score_vs_mean_rating: rho === null ? null : round(rho), products: pairs.length };
}

function checkOptions(options: RankOptions): void {
  if (!Number.isInteger(options.top) || options.top < 1)
    throw new BadRequestError(`top must be a positive integer`);
  if (!Number.isInteger(options.minReviews) || options.minReviews < 1) {
    throw new BadRequestError('minReviews must be a positive integer');
  }
  if (!Number.isFinite(options.priorM) || options.priorM < 0)
    throw new BadRequestError('priorM must be >= 0');
}
