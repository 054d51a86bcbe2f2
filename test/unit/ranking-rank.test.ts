import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BadRequestError } from '../../src/errors.ts';
import {
  Accumulator,
  mergePartials,
  PARTIAL_FORMAT,
  type Partial,
  type ProductSums,
} from '../../src/ranking/partial.ts';
import { parseWeek } from '../../src/ranking/period.ts';
import { bayesianAverage, rankPartial } from '../../src/ranking/rank.ts';
import { averageRanks, spearman } from '../../src/ranking/spearman.ts';

const PERIOD = parseWeek('2014-W05');
const MODEL = { name: 'm', version: 'v1' };

function partial(products: ProductSums[], uri = 'in.csv', start = 0): Partial {
  const scored = products.reduce((s, p) => s + p.n, 0);
  return {
    format: PARTIAL_FORMAT,
    input: { uri, range: start === 0 ? null : { start, end: start + 10 } },
    period: PERIOD,
    model: MODEL,
    counts: { rows: scored + 2, scored, outside_period: 1, bad: 1 },
    bad_rows: [{ input: uri, offset: start, line: 3, reason: 'missing text' }],
    products,
  };
}
const sums = (product_id: string, scores: number[], ratings: number[] = []): ProductSums => ({
  product_id,
  n: scores.length,
  sum_score: scores.reduce((s, v) => s + v, 0),
  sum_rating: ratings.reduce((s, v) => s + v, 0),
  n_rating: ratings.length,
});

describe('Bayesian average ranking', () => {
  test('shrinks toward the period mean by m reviews; one glowing review does not beat many good ones', () => {
    // μ = (5 + 4.5·10 + 2·4) / 15 = 58/15.
    const merged = partial([sums('one', [5]), sums('many', Array(10).fill(4.5)), sums('low', [2, 2, 2, 2])]);
    const ranking = rankPartial(merged, { top: 5, minReviews: 1, priorM: 5 });
    const mu = 58 / 15;
    assert.equal(ranking.prior.mean, Math.round(mu * 1e4) / 1e4);
    assert.deepEqual(
      ranking.products.map((p) => [p.product_id, p.rank, p.reviews, p.mean_score]),
      [
        ['many', 1, 10, 4.5],
        ['one', 2, 1, 5],
        ['low', 3, 4, 2],
      ],
    );
    const many = ranking.products[0];
    assert.equal(many?.adjusted_score, Math.round(bayesianAverage(45, 10, mu, 5) * 1e4) / 1e4);
    assert.equal(bayesianAverage(45, 10, 4, 0), 4.5);
  });

  test('below --min-reviews: listed with rank null after the ranked ones, never in top', () => {
    const merged = partial([sums('a', [5]), sums('b', [3, 3, 3]), sums('c', [4, 4, 4])]);
    const ranking = rankPartial(merged, { top: 5, minReviews: 3, priorM: 2 });
    assert.deepEqual(
      ranking.products.map((p) => [p.product_id, p.rank]),
      [
        ['c', 1],
        ['b', 2],
        ['a', null],
      ],
    );
    assert.deepEqual(
      ranking.top.map((p) => p.product_id),
      ['c', 'b'],
    );
    assert.equal(ranking.counts.ranked, 2);
    assert.equal(ranking.counts.products, 3);
    assert.equal(ranking.counts.skipped, 2);
  });

  test('ties break by adjusted score, then reviews, then product id; top takes the first N', () => {
    // With m = 0 the adjusted score is the mean; all four tie at 4.
    const merged = partial([
      sums('b', [4, 4]),
      sums('a', [4, 4]),
      sums('c', [4, 4, 4]),
      sums('d', [3.5, 4.5]),
    ]);
    const ranking = rankPartial(merged, { top: 2, minReviews: 1, priorM: 0 });
    assert.deepEqual(
      ranking.products.map((p) => p.product_id),
      ['c', 'a', 'b', 'd'],
    );
    assert.deepEqual(
      ranking.top.map((p) => p.product_id),
      ['c', 'a'],
    );
  });

  test('ratings give mean_rating and a Spearman check; without ratings neither appears', () => {
    const withRatings = partial([
      sums('a', [4.5, 4.5], [5, 5]),
      sums('b', [3, 3], [3, 2]),
      sums('c', [4, 4], []),
    ]);
    const ranking = rankPartial(withRatings, { top: 5, minReviews: 1, priorM: 1 });
    assert.deepEqual(
      ranking.products.map((p) => p.mean_rating),
      [5, null, 2.5],
    );
    assert.deepEqual(ranking.check, { spearman_mean_score_vs_mean_rating: null, products: 2 });
    const without = rankPartial(partial([sums('a', [4])]), { top: 5, minReviews: 1, priorM: 1 });
    assert.equal(without.check, undefined);
    assert.equal('mean_rating' in (without.products[0] ?? {}), false);
  });

  test('bad options are refused', () => {
    const merged = partial([sums('a', [4])]);
    assert.throws(() => rankPartial(merged, { top: 0, minReviews: 1, priorM: 1 }), BadRequestError);
    assert.throws(() => rankPartial(merged, { top: 1, minReviews: 1, priorM: -1 }), BadRequestError);
  });
});

describe('partials', () => {
  test('merging in any order gives the same exact sums, products sorted, bad rows in input order', () => {
    const a = new Accumulator();
    const b = new Accumulator();
    const whole = new Accumulator();
    const scores = [4.1, 3.3, 0.1, 0.2, 4.7, 1.9, 2.25, 3.000001];
    scores.forEach((s, i) => {
      (i % 2 ? a : b).add(i % 3 ? 'x' : 'y', s, i % 4 ? 5 : null);
      whole.add(i % 3 ? 'x' : 'y', s, i % 4 ? 5 : null);
    });
    const pa = partial(a.products(), 'in.csv', 100);
    const pb = partial(b.products(), 'in.csv', 0);
    const ab = mergePartials([pa, pb]);
    const ba = mergePartials([pb, pa]);
    assert.deepEqual(ab, ba);
    assert.deepEqual(ab.products, whole.products());
    assert.deepEqual(
      ab.bad_rows.map((r) => r.offset),
      [0, 100],
    );
    assert.equal(ab.counts.rows, pa.counts.rows + pb.counts.rows);
  });

  test('partials of different periods or models do not merge', () => {
    const p = partial([sums('a', [4])]);
    assert.throws(() => mergePartials([p, { ...p, period: parseWeek('2014-W06') }]), /mix periods/);
    assert.throws(() => mergePartials([p, { ...p, model: { name: 'm', version: 'v2' } }]), /mix models/);
    assert.throws(() => mergePartials([]), /no partials/);
  });
});

describe('Spearman', () => {
  test('hand-computed values, ties at average ranks', () => {
    assert.deepEqual(averageRanks([10, 30, 20, 30]), [1, 3.5, 2, 3.5]);
    assert.equal(spearman([1, 2, 3, 4, 5], [10, 20, 30, 40, 50]), 1);
    assert.equal(spearman([1, 2, 3, 4, 5], [9, 7, 5, 3, 1]), -1);
    // ranks of y: [1, 2, 3.5, 5, 3.5]; Σdxdy = 8, Σdx² = 10, Σdy² = 9.5.
    assert.ok(Math.abs((spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) ?? 0) - 8 / Math.sqrt(95)) < 1e-12);
    assert.equal(spearman([1, 2, 3], [4, 4, 4]), null);
    assert.equal(spearman([1, 2], [1, 2]), null);
  });
});
