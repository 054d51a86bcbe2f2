/**
 * A map task's result: per-product partial sums and row counts for one input (or byte range of it).
 *
 * Sums are exact. Each review's score (and rating) is rounded to SCORE_DECIMALS and summed as an integer
 * count of millionths, which a double holds exactly up to 2^53, i.e. about 1.8 billion 5-star reviews
 * of one product. Integer addition is associative, so however the input is split into partials and in
 * whatever order they are merged, the totals, and therefore the ranking, are bit-for-bit the same.
 */
import { BadRequestError } from '../errors.ts';
import type { InputRange } from './byte-range.ts';
import type { Period } from './period.ts';
import type { ModelInfo } from './score-batch.ts';

export const PARTIAL_FORMAT = 'review-ranking-partial/1';
export const SCORE_DECIMALS = 6;
const SCALE = 10 ** SCORE_DECIMALS;
/** Bad rows listed by line; all of them are counted. Keeps a partial small when a file is badly broken. */
export const MAX_LISTED_BAD_ROWS = 100;

export interface ProductSums {
  product_id: string;
  /** Reviews scored. */
  n: number;
  /** Σ expected rating, each rounded to SCORE_DECIMALS. */
  sum_score: number;
  /** Σ star rating over the n_rating reviews that had one. */
  sum_rating: number;
  n_rating: number;
}

export interface RowCounts {
  /** Data rows read (header excluded). */
  rows: number;
  scored: number;
  /** Good rows dated outside the period. */
  outside_period: number;
  /** Rows missing a product or text, with a bad date, or unparseable. */
  bad: number;
}

export interface BadRow {
  /** The input the row came from. */
  input: string;
  /** First byte of the range read (0 for a whole object); `line` counts from there. */
  offset: number;
  line: number;
  reason: string;
}

export interface Partial {
  format: typeof PARTIAL_FORMAT;
  input: { uri: string; range: InputRange | null };
  period: Period;
  model: ModelInfo;
  counts: RowCounts;
  bad_rows: BadRow[];
  /** Sorted by product_id. */
  products: ProductSums[];
}

export const toUnits = (value: number): number => Math.round(value * SCALE);
export const fromUnits = (units: number): number => units / SCALE;

interface Sums {
  n: number;
  scoreUnits: number;
  ratingUnits: number;
  nRating: number;
}

/** Folds scored reviews into per-product sums; memory grows with products, not reviews. */
export class Accumulator {
  readonly counts: RowCounts = { rows: 0, scored: 0, outside_period: 0, bad: 0 };
  readonly badRows: BadRow[] = [];
  readonly #products = new Map<string, Sums>();

  add(productId: string, score: number, rating: number | null): void {
    let sums = this.#products.get(productId);
    if (!sums) {
      sums = { n: 0, scoreUnits: 0, ratingUnits: 0, nRating: 0 };
      this.#products.set(productId, sums);
    }
    sums.n++;
    sums.scoreUnits += toUnits(score);
    if (rating !== null) {
      sums.ratingUnits += toUnits(rating);
      sums.nRating++;
    }
    this.counts.scored++;
  }

  bad(row: BadRow): void {
    this.counts.bad++;
    if (this.badRows.length < MAX_LISTED_BAD_ROWS) this.badRows.push(row);
  }

  /** Adds another partial's sums (already exact units once read back). */
  merge(products: readonly ProductSums[]): void {
    for (const p of products) {
      let sums = this.#products.get(p.product_id);
      if (!sums) {
        sums = { n: 0, scoreUnits: 0, ratingUnits: 0, nRating: 0 };
        this.#products.set(p.product_id, sums);
      }
      sums.n += p.n;
      sums.scoreUnits += toUnits(p.sum_score);
      sums.ratingUnits += toUnits(p.sum_rating);
      sums.nRating += p.n_rating;
    }
  }

  products(): ProductSums[] {
    return [...this.#products.entries()]
      .sort(([a], [b]) => compareIds(a, b))
      .map(([product_id, s]) => ({
        product_id,
        n: s.n,
        sum_score: fromUnits(s.scoreUnits),
        sum_rating: fromUnits(s.ratingUnits),
        n_rating: s.nRating,
      }));
  }
}

/** Code-point order, independent of locale. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Merges partials of one period and model. Partials are sorted by input and range first, so bad rows
 * are listed in the same order whichever order the map tasks finished in.
 */
export function mergePartials(partials: readonly Partial[]): Partial {
  const first = partials[0];
  if (!first) throw new BadRequestError('nothing to reduce: no partials');
  for (const p of partials) {
    if (p.format !== PARTIAL_FORMAT)
      throw new BadRequestError(`${p.input?.uri}: not a ${PARTIAL_FORMAT} partial`);
    if (p.period.label !== first.period.label) {
      throw new BadRequestError(`partials mix periods ${first.period.label} and ${p.period.label}`);
    }
    if (p.model.name !== first.model.name || p.model.version !== first.model.version) {
      throw new BadRequestError(
        `partials mix models ${first.model.name}@${first.model.version} and ${p.model.name}@${p.model.version}`,
      );
    }
  }
  const ordered = [...partials].sort(compareInputs);
  const total = new Accumulator();
  for (const p of ordered) {
    for (const key of Object.keys(total.counts) as (keyof RowCounts)[]) total.counts[key] += p.counts[key];
    for (const row of p.bad_rows) if (total.badRows.length < MAX_LISTED_BAD_ROWS) total.badRows.push(row);
    total.merge(p.products);
  }
  return {
    format: PARTIAL_FORMAT,
    input: ordered.length === 1 ? first.input : { uri: `${ordered.length} partials`, range: null },
    period: first.period,
    model: first.model,
    counts: total.counts,
    bad_rows: total.badRows,
    products: total.products(),
  };
}

function compareInputs(a: Partial, b: Partial): number {
  return compareIds(a.input.uri, b.input.uri) || (a.input.range?.start ?? 0) - (b.input.range?.start ?? 0);
}

export function serializePartial(partial: Partial): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(partial)}\n`);
}

export function parsePartial(bytes: Uint8Array, uri: string): Partial {
  let value: Partial;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes)) as Partial;
  } catch (error) {
    throw new BadRequestError(`${uri}: not JSON: ${(error as Error).message}`, { cause: error });
  }
  if (value?.format !== PARTIAL_FORMAT || !Array.isArray(value.products)) {
    throw new BadRequestError(`${uri}: not a ${PARTIAL_FORMAT} partial`);
  }
  return value;
}
