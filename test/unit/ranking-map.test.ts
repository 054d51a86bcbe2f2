import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { lastDay, type MapOptions, mapInput } from '../../src/ranking/map.ts';
import { mergePartials } from '../../src/ranking/partial.ts';
import { parseRange } from '../../src/ranking/period.ts';
import { DEFAULT_COLUMNS } from '../../src/ranking/rows.ts';
import type { ScoreBatch } from '../../src/ranking/score-batch.ts';
import type { Review } from '../../src/text/review.ts';

/** A stand-in model: the score is the number of '+' in title and text, capped at 5, so sums are known. */
const batches: number[] = [];
const plusCount: ScoreBatch = async (reviews: readonly Review[]) => {
  batches.push(reviews.length);
  return reviews.map((r) =>
    Math.min(5, 1 + [...`${r.title ?? ''}${r.text}`].filter((c) => c === '+').length),
  );
};

const CSV = [
  'product_id,date,rating,title,text',
  'A,2014-01-01,5,+,++',
  'B,2014-01-02,1,,bad',
  'A,2014-01-03,4,,+',
  ',2014-01-03,4,,no product',
  'C,2013-12-31,5,,outside the period',
  'B,2014-01-31,,,+ no rating',
  'C,not a date,5,,x',
  'D,2014-02-01,5,,after the period',
  '',
].join('\n');

describe('mapInput', () => {
  let dir: string;
  let csv: string;
  let jsonl: string;
  const period = parseRange('2014-01-01', '2014-01-31');
  const options: MapOptions = {
    period,
    columns: DEFAULT_COLUMNS,
    scoreBatch: plusCount,
    model: { name: 'm', version: 'v' },
    batchSize: 2,
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rank-map-'));
    csv = join(dir, 'reviews.csv');
    await writeFile(csv, CSV);
    jsonl = join(dir, 'reviews.jsonl');
    await writeFile(
      jsonl,
      `${[
        { product_id: 'A', date: '2014-01-01', title: '+', text: '++', rating: 5 },
        { product_id: 'B', date: '2014-01-02T03:00:00Z', text: 'bad', rating: 1 },
      ]
        .map((o) => JSON.stringify(o))
        .join('\n')}\n`,
    );
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('keeps the period, scores in buffers, folds per product, counts the rest', async () => {
    batches.length = 0;
    const partial = await mapInput(csv, options);
    assert.deepEqual(batches, [2, 2]);
    assert.deepEqual(partial.counts, { rows: 8, scored: 4, outside_period: 2, bad: 2 });
    assert.deepEqual(
      partial.bad_rows.map((r) => [r.line, r.reason]),
      [
        [5, 'missing product id'],
        [8, 'bad date "not a date"'],
      ],
    );
    assert.deepEqual(partial.products, [
      { product_id: 'A', n: 2, sum_score: 6, sum_rating: 9, n_rating: 2 },
      { product_id: 'B', n: 2, sum_score: 3, sum_rating: 1, n_rating: 1 },
    ]);
    assert.deepEqual(partial.input, { uri: csv, range: null });
  });

  test('byte ranges of one file merge to the whole file’s sums and counts', async () => {
    const whole = await mapInput(csv, options);
    const size = (await stat(csv)).size;
    const cuts = [0, 40, 41, 90, size];
    const parts = [];
    for (let i = 0; i + 1 < cuts.length; i++) {
      parts.push(await mapInput(csv, { ...options, range: { start: cuts[i] ?? 0, end: cuts[i + 1] ?? 0 } }));
    }
    const merged = mergePartials(parts);
    assert.deepEqual(merged.products, whole.products);
    assert.deepEqual(merged.counts, whole.counts);
  });

  test('JSON Lines input gives the same sums as the same rows in CSV', async () => {
    const partial = await mapInput(jsonl, options);
    assert.deepEqual(partial.products, [
      { product_id: 'A', n: 1, sum_score: 4, sum_rating: 5, n_rating: 1 },
      { product_id: 'B', n: 1, sum_score: 1, sum_rating: 1, n_rating: 1 },
    ]);
  });

  test('--strict fails at the first bad row, naming its line', async () => {
    await assert.rejects(
      mapInput(csv, { ...options, strict: true }),
      /reviews\.csv: line 5: missing product id/,
    );
  });

  test('the date pre-pass finds the last valid day without scoring', async () => {
    batches.length = 0;
    assert.equal(await lastDay(csv, { columns: DEFAULT_COLUMNS }), '2014-02-01');
    assert.deepEqual(batches, []);
  });

  test('a missing input is an error, not an empty ranking', async () => {
    await assert.rejects(mapInput(join(dir, 'absent.csv'), options), /no such file/);
  });
});
