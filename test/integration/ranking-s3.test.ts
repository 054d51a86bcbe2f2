/**
 * The ranking job against a real S3-protocol server: input and output on S3, the Lambda map/reduce
 * handlers giving the single run's files, the date pre-pass, and a failure in the middle of publishing
 * leaving latest.json where it was.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { publishBundle } from '../../src/bundle/publish.ts';
import { selectBackend } from '../../src/model/backend.ts';
import { runRanking } from '../../src/ranking/job.ts';
import { createHandlers, LAST_COMPLETE_WEEK, resolvePeriod } from '../../src/ranking/lambda.ts';
import { publishRanking, readLatest } from '../../src/ranking/output.ts';
import { parseWeek } from '../../src/ranking/period.ts';
import { rankPartial } from '../../src/ranking/rank.ts';
import { type LoadedScoreBatch, loadScoreBatch } from '../../src/ranking/score-batch.ts';
import { failingOnPut } from '../helpers/failing-store.ts';
import { rankConfig, syntheticCsv, withoutGeneratedAt } from '../helpers/ranking.ts';
import { type S3rverHandle, startS3rver } from '../helpers/s3rver.ts';
import { makeTinyBundle } from '../helpers/tiny-bundle.ts';

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

describe('ranking on S3', () => {
  let s3: S3rverHandle;
  let scorer: LoadedScoreBatch;
  let csvBytes: Buffer;
  let reviews: string;
  let root: string;

  before(async () => {
    // Before any tensor exists, so tfjs stays quiet and on one backend.
    await selectBackend('cpu');
    s3 = await startS3rver('rankings-bucket');
    root = `s3://${s3.bucket}`;
    const { files } = await makeTinyBundle({ version: 'v1' });
    await publishBundle(files, `${root}/models/tiny/`, { storage: s3.storage });
    // Loaded from S3 like the Lambda would; the cpu backend keeps the test independent of wasm.
    scorer = await loadScoreBatch(`${root}/models/tiny/`, { storage: s3.storage, backend: 'cpu' });
    csvBytes = Buffer.from(syntheticCsv(600));
    await s3.client.send(
      new PutObjectCommand({ Bucket: s3.bucket, Key: 'input/reviews.csv', Body: csvBytes }),
    );
    reviews = `${root}/input/reviews.csv`;
  });
  after(() => s3.stop());

  test('a single run reads its input from S3 and writes ranking.json, ranking.csv and latest.json there', async () => {
    const out = `${root}/rankings/`;
    const config = rankConfig({ reviews, out, period: parseWeek('2014-W02') });
    const { ranking } = await runRanking(config, { storage: s3.storage, scorer });
    assert.equal(ranking.counts.rows, 600);
    assert.ok(ranking.counts.scored > 0 && ranking.counts.outside_period > 0);
    assert.equal(ranking.model.version, 'v1');
    const store = s3.storage.store(out);
    const json = JSON.parse(text(await store.get('2014-W02/ranking.json')));
    assert.equal(json.period.label, '2014-W02');
    assert.equal(json.top.length, 5);
    assert.match(
      text(await store.get('2014-W02/ranking.csv')),
      /^product_id,rank,reviews,mean_score,adjusted_score,mean_rating\n/,
    );
    const latest = await readLatest(store);
    assert.equal(latest?.uri, `${out}2014-W02/ranking.json`);
  });

  test('the Lambda handlers (map per byte range, then reduce) write the single run’s files', async () => {
    const period = '2014-01-01_2014-01-31';
    const single = `${root}/single/`;
    await runRanking(
      rankConfig({ reviews, out: single, period: { from: '2014-01-01', to: '2014-01-31', label: period } }),
      { storage: s3.storage, scorer },
    );
    const env = { MODEL_URI: 'unused', RANKINGS_URI: `${root}/split/` };
    const handlers = createHandlers({ env, storage: s3.storage, scorer });
    const cuts = [0, 5000, 5001, 17_000, csvBytes.length];
    const mapped = await Promise.all(
      cuts.slice(1).map((end, i) =>
        handlers.map({
          bucket: s3.bucket,
          key: 'input/reviews.csv',
          range: { start: cuts[i] ?? 0, end },
          period,
        }),
      ),
    );
    assert.ok(mapped.every((m) => m.partial?.startsWith(`${root}/split_partials/${period}/`)));
    assert.equal(
      mapped.reduce((sum, m) => sum + m.counts.rows, 0),
      600,
    );
    const reduced = await handlers.reduce({ partials: mapped.map((m) => m.partial).reverse() });
    assert.equal(reduced.latestMoved, true);
    const a = s3.storage.store(single);
    const b = s3.storage.store(`${root}/split/`);
    for (const file of ['ranking.json', 'ranking.csv']) {
      const [x, y] = [text(await a.get(`${period}/${file}`)), text(await b.get(`${period}/${file}`))];
      assert.equal(withoutGeneratedAt(y), withoutGeneratedAt(x), file);
    }
  });

  test('the scheduled run asks for the last complete week as of the execution start', async () => {
    const handlers = createHandlers({
      env: { RANKINGS_URI: `${root}/scheduled/` },
      storage: s3.storage,
      scorer,
    });
    const asOf = '2014-01-27T03:00:00Z'; // a Monday: the week that ended the day before is 2014-W04
    const mapped = await handlers.map({
      bucket: s3.bucket,
      key: 'input/reviews.csv',
      period: LAST_COMPLETE_WEEK,
      asOf,
    });
    assert.match(
      String(mapped.partial),
      new RegExp(`^${root}/scheduled_partials/2014-W04/reviews\\.csv\\.all\\.`),
    );
    // The S3 console's folder marker is listed too; it maps to nothing and reduce skips it.
    const marker = await handlers.map({ bucket: s3.bucket, key: 'input/', period: LAST_COMPLETE_WEEK, asOf });
    assert.deepEqual(marker, { partial: null, counts: { rows: 0, scored: 0, outside_period: 0, bad: 0 } });
    const reduced = await handlers.reduce({ partials: [marker.partial, mapped.partial] });
    assert.equal(reduced.period, resolvePeriod({ period: LAST_COMPLETE_WEEK, asOf }).label);
    assert.equal(await s3.storage.store(`${root}/scheduled/`).exists('2014-W04/ranking.json'), true);
  });

  test('without a period, a pre-pass over the S3 input picks the last complete ISO week', async () => {
    const { ranking } = await runRanking(rankConfig({ reviews, out: `${root}/default/` }), {
      storage: s3.storage,
      scorer,
    });
    // The synthetic data ends on Friday 2014-01-31, so the week of 27 January is incomplete.
    assert.equal(ranking.period.label, '2014-W04');
  });

  test('a store failing on the second put leaves latest.json unchanged and the new period never latest', async () => {
    const store = s3.storage.store(`${root}/crash/`);
    const partial = (label: string) => ({
      format: 'review-ranking-partial/1' as const,
      input: { uri: reviews, range: null },
      period: parseWeek(label),
      model: scorer.model,
      counts: { rows: 3, scored: 3, outside_period: 0, bad: 0 },
      bad_rows: [],
      products: [{ product_id: 'A', n: 3, sum_score: 12, sum_rating: 0, n_rating: 0 }],
    });
    const options = { top: 5, minReviews: 1, priorM: 15 };
    await publishRanking(store, rankPartial(partial('2014-W03'), options));
    const before = text(await store.get('latest.json'));
    await assert.rejects(
      publishRanking(failingOnPut(store, 2), rankPartial(partial('2014-W04'), options)),
      /injected failure on put 2 \(2014-W04\/ranking.json\)/,
    );
    assert.equal(text(await store.get('latest.json')), before);
    assert.equal(await store.exists('2014-W04/ranking.json'), false);
    assert.equal((await readLatest(store))?.period, '2014-W03');
  });
});
