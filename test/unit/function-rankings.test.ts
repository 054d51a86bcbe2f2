/** GET /rankings/*: the reader over a folder (what it serves, how long it caches) and the routes. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { toProblem } from '../../src/function/http/problems.ts';
import {
  createRankingsReader,
  LATEST_TTL_S,
  NO_RANKINGS,
  PERIOD_TTL_S,
  type RankingsReader,
} from '../../src/function/rankings.ts';
import { matchRoute } from '../../src/function/routes/index.ts';
import { DirStore } from '../../src/storage/dir.ts';
import { publishTestRanking } from '../helpers/ranking.ts';

/** The problem a rejected read is answered with. */
async function problemOf(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    return toProblem(error);
  }
  assert.fail('expected a rejection');
}

describe('rankings reader (folder)', () => {
  let dir: string;
  let store: DirStore;
  let clock: number;
  let reader: RankingsReader;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rankings-read-'));
    store = new DirStore(dir);
    clock = 1_000_000;
    reader = createRankingsReader({ uri: dir, now: () => clock });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('nothing published yet: 404 for latest and for a period, not cached', async () => {
    const latest = await problemOf(reader.latest());
    assert.equal(latest.problem.status, 404);
    assert.match(latest.problem.detail, /no ranking has been published yet/);
    const period = await problemOf(reader.period('2014-W04'));
    assert.equal(period.problem.status, 404);
    assert.match(period.problem.detail, /no ranking for 2014-W04/);
  });

  test('serves ranking.json exactly as stored; latest follows latest.json', async () => {
    await publishTestRanking(store, '2014-W04');
    const stored = await readFile(join(dir, '2014-W04', 'ranking.json'), 'utf8');
    const latest = await reader.latest();
    assert.deepEqual(latest, { period: '2014-W04', body: stored, maxAge: LATEST_TTL_S });
    assert.deepEqual(await reader.period('2014-W04'), {
      period: '2014-W04',
      body: stored,
      maxAge: PERIOD_TTL_S,
    });
  });

  test(`latest is cached ${LATEST_TTL_S} s, a fixed period ${PERIOD_TTL_S} s; misses never`, async () => {
    await publishTestRanking(store, '2014-W05');
    assert.equal((await reader.latest()).period, '2014-W04', 'still the cached latest');
    // A miss a moment ago does not hide a ranking published since.
    assert.equal((await reader.period('2014-W05')).period, '2014-W05');
    clock += LATEST_TTL_S * 1000 + 1;
    assert.equal((await reader.latest()).period, '2014-W05');

    await writeFile(join(dir, '2014-W04', 'ranking.json'), '{"rewritten": true}\n');
    assert.notEqual((await reader.period('2014-W04')).body, '{"rewritten": true}\n');
    clock += PERIOD_TTL_S * 1000;
    assert.equal((await reader.period('2014-W04')).body, '{"rewritten": true}\n');
  });

  test('malformed labels are 400 invalid-period; labels are canonical', async () => {
    for (const label of [
      'last-week',
      '2014-W5',
      '2014-W54',
      '2014-02-30_2014-03-01',
      '2014-06-30_2014-01-01',
    ]) {
      const { problem } = await problemOf(reader.period(label));
      assert.equal(problem.status, 400, label);
      assert.equal(problem.type, 'tag:review-sentiment,2026:problems/invalid-period');
      assert.match(problem.detail, /ISO weeks \(2014-W05\) or day ranges/);
    }
  });

  test('a corrupt latest.json is a 503 that does not leak where rankings live', async () => {
    const broken = await mkdtemp(join(tmpdir(), 'rankings-broken-'));
    try {
      await writeFile(join(broken, 'latest.json'), 'not json');
      const { problem, headers } = await problemOf(createRankingsReader({ uri: broken }).latest());
      assert.equal(problem.status, 503);
      assert.equal(headers['retry-after'], '5');
      assert.ok(!problem.detail.includes(broken));
    } finally {
      await rm(broken, { recursive: true, force: true });
    }
  });

  test('without RANKINGS_URI both routes answer 404 saying so', async () => {
    for (const read of [NO_RANKINGS.latest(), NO_RANKINGS.period('2014-W05')]) {
      const { problem } = await problemOf(read);
      assert.equal(problem.status, 404);
      assert.match(problem.detail, /RANKINGS_URI is not set/);
    }
  });
});

describe('rankings routes', () => {
  test('/rankings/latest is not read as a period; other methods get 405', () => {
    assert.equal(matchRoute('GET', '/rankings/latest').route, '/rankings/latest');
    const period = matchRoute('GET', '/rankings/2014-01-01_2014-06-30');
    assert.equal(period.route, '/rankings/{period}');
    assert.deepEqual(period.params, { period: '2014-01-01_2014-06-30' });
    assert.throws(() => matchRoute('POST', '/rankings/latest'), /use GET/);
    assert.throws(() => matchRoute('GET', '/rankings'), /no route/);
  });
});
