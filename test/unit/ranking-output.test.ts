import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { publishRanking, readLatest, renderCsv } from '../../src/ranking/output.ts';
import { PARTIAL_FORMAT, type ProductSums } from '../../src/ranking/partial.ts';
import { type Period, parseRange, parseWeek } from '../../src/ranking/period.ts';
import { type Ranking, rankPartial } from '../../src/ranking/rank.ts';
import { DirStore } from '../../src/storage/dir.ts';
import { failingOnPut } from '../helpers/failing-store.ts';

function ranking(period: Period, products: ProductSums[]): Ranking {
  const scored = products.reduce((s, p) => s + p.n, 0);
  return rankPartial(
    {
      format: PARTIAL_FORMAT,
      input: { uri: 'in.csv', range: null },
      period,
      model: { name: 'review-sentiment', version: 'v1' },
      counts: { rows: scored, scored, outside_period: 0, bad: 0 },
      bad_rows: [],
      products,
    },
    { top: 5, minReviews: 2, priorM: 1 },
  );
}
const P = (product_id: string, n: number, sum_score: number, n_rating = 0): ProductSums => ({
  product_id,
  n,
  sum_score,
  sum_rating: n_rating * 4,
  n_rating,
});

describe('publishRanking to a folder', () => {
  let dir: string;
  let store: DirStore;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rank-out-'));
    store = new DirStore(dir);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const week5 = ranking(parseWeek('2014-W05'), [P('b"q,x', 3, 12, 3), P('a', 2, 9, 2), P('c', 1, 5)]);

  test('writes ranking.json and ranking.csv under the period, then latest.json', async () => {
    const published = await publishRanking(store, week5, '2014-02-03T00:00:00.000Z');
    assert.equal(published.latestMoved, true);
    const json = JSON.parse(await readFile(join(dir, '2014-W05', 'ranking.json'), 'utf8'));
    assert.deepEqual(Object.keys(json).slice(0, 7), [
      'period',
      'model',
      'generated_at',
      'prior',
      'counts',
      'check',
      'top',
    ]);
    assert.deepEqual(json.period, { from: '2014-01-27', to: '2014-02-02', label: '2014-W05' });
    assert.deepEqual(
      json.products.map((p: { product_id: string; rank: number | null }) => [p.product_id, p.rank]),
      [
        ['a', 1],
        ['b"q,x', 2],
        ['c', null],
      ],
    );
    const csv = await readFile(join(dir, '2014-W05', 'ranking.csv'), 'utf8');
    assert.equal(csv, renderCsv(week5));
    assert.deepEqual(csv.split('\n').slice(0, 4), [
      'product_id,rank,reviews,mean_score,adjusted_score,mean_rating',
      `a,1,2,4.5,${json.products[0].adjusted_score},4`,
      `"b""q,x",2,3,4,${json.products[1].adjusted_score},4`,
      `c,,1,5,${json.products[2].adjusted_score},`,
    ]);
    const latest = await readLatest(store);
    assert.equal(latest?.period, '2014-W05');
    assert.equal(latest?.path, '2014-W05/ranking.json');
  });

  test('a re-run gives the same bytes apart from generated_at, and leaves no temp files', async () => {
    const before = await readFile(join(dir, '2014-W05', 'ranking.json'), 'utf8');
    await publishRanking(store, week5, '2099-01-01T00:00:00.000Z');
    const again = await readFile(join(dir, '2014-W05', 'ranking.json'), 'utf8');
    assert.equal(again.replace(/"generated_at": "[^"]+"/, ''), before.replace(/"generated_at": "[^"]+"/, ''));
    assert.deepEqual((await readdir(join(dir, '2014-W05'))).sort(), ['ranking.csv', 'ranking.json']);
  });

  test('an earlier period is written but does not move latest back', async () => {
    const published = await publishRanking(store, ranking(parseWeek('2014-W04'), [P('a', 2, 8)]));
    assert.equal(published.latestMoved, false);
    assert.equal((await readLatest(store))?.period, '2014-W05');
  });

  test('a failure on any put leaves latest.json naming the last complete period', async () => {
    const range = ranking(parseRange('2014-01-01', '2014-06-30'), [P('a', 2, 8)]);
    for (const n of [1, 2, 3]) {
      await assert.rejects(publishRanking(failingOnPut(store, n), range), /injected failure/);
      assert.equal((await readLatest(store))?.period, '2014-W05', `failure on put ${n}`);
    }
    await publishRanking(store, range);
    assert.equal((await readLatest(store))?.period, '2014-01-01_2014-06-30');
  });
});
