/**
 * The ranking job on the real data file (skipped when ../shared/data/product_reviews.csv is absent):
 * map over parts + reduce writes the single run's files byte for byte (apart from generated_at), and
 * the CLI ranks 2014-01-01..2014-06-30. A tiny real bundle stands in for the default model to keep the
 * tests fast; bench:rank and docs/rankings.md cover the default model.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { selectBackend } from '../../src/model/backend.ts';
import { runRanking } from '../../src/ranking/job.ts';
import { mapInput } from '../../src/ranking/map.ts';
import { parseRange } from '../../src/ranking/period.ts';
import { reduce } from '../../src/ranking/reduce.ts';
import { DEFAULT_COLUMNS } from '../../src/ranking/rows.ts';
import { type LoadedScoreBatch, loadScoreBatch } from '../../src/ranking/score-batch.ts';
import { DirStore } from '../../src/storage/dir.ts';
import { PRODUCT_REVIEWS, rankConfig, withoutGeneratedAt } from '../helpers/ranking.ts';
import { makeTinyBundle, writeBundleDir } from '../helpers/tiny-bundle.ts';

const run = promisify(execFile);
const CLI = new URL('../../src/ranking/cli.ts', import.meta.url).pathname;
const skip = existsSync(PRODUCT_REVIEWS) ? false : `${PRODUCT_REVIEWS} is absent (the data is not committed)`;

describe('ranking product_reviews.csv', { skip }, () => {
  let dir: string;
  let modelRoot: string;
  let scorer: LoadedScoreBatch;

  before(async () => {
    await selectBackend('wasm');
    dir = await mkdtemp(join(tmpdir(), 'rank-data-'));
    modelRoot = join(dir, 'model');
    await writeBundleDir(modelRoot, (await makeTinyBundle({ version: 'v1' })).files, 'v1', { latest: true });
    scorer = await loadScoreBatch(modelRoot, { backend: 'wasm' });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('map over parts (files and byte ranges) + reduce = the single run, byte for byte', async () => {
    // Every row is read; the 3,300 reviews of 2014 are scored, in different batches by each path.
    const period = parseRange('2014-01-01', '2014-12-31');
    const single = join(dir, 'single');
    await runRanking(rankConfig({ reviews: PRODUCT_REVIEWS, out: single, period, batchSize: 1024 }), {
      scorer,
    });

    const lines = (await readFile(PRODUCT_REVIEWS, 'utf8')).trimEnd().split('\n');
    const [header, ...rows] = lines;
    const cut = [0, 3001, 3002, 7777, rows.length];
    const parts: string[] = [];
    for (let i = 0; i + 1 < cut.length; i++) {
      const file = join(dir, `part-${i}.csv`);
      await writeFile(file, `${[header, ...rows.slice(cut[i], cut[i + 1])].join('\n')}\n`);
      parts.push(file);
    }
    const size = (await stat(PRODUCT_REVIEWS)).size;
    const ranges = [0, 1_000_000, 2_500_017, 4_000_000, size];
    const options = {
      period,
      columns: DEFAULT_COLUMNS,
      scoreBatch: scorer.scoreBatch,
      model: scorer.model,
      batchSize: 700,
    };
    const partials = await Promise.all([
      ...parts.map((file) => mapInput(file, options)),
      ...ranges
        .slice(1)
        .map((end, i) => mapInput(PRODUCT_REVIEWS, { ...options, range: { start: ranges[i] ?? 0, end } })),
    ]);
    const fromFiles = join(dir, 'files');
    const fromRanges = join(dir, 'ranges');
    const rank = { top: 5, minReviews: 3, priorM: 15 };
    await reduce(partials.slice(0, parts.length), { ...rank, store: new DirStore(fromFiles) });
    await reduce(partials.slice(parts.length).reverse(), { ...rank, store: new DirStore(fromRanges) });

    for (const file of ['ranking.json', 'ranking.csv']) {
      const expected = withoutGeneratedAt(await readFile(join(single, period.label, file), 'utf8'));
      for (const out of [fromFiles, fromRanges]) {
        assert.equal(
          withoutGeneratedAt(await readFile(join(out, period.label, file), 'utf8')),
          expected,
          `${out} ${file}`,
        );
      }
    }
    const json = JSON.parse(await readFile(join(single, period.label, 'ranking.json'), 'utf8'));
    assert.deepEqual(
      [
        json.counts.rows,
        json.counts.scored,
        json.counts.outside_period,
        json.counts.bad,
        json.counts.products,
      ],
      [10254, 2679, 7575, 0, 772],
    );
  });

  test('the CLI ranks 2014-01-01..2014-06-30 into <out>/<period>/ and moves latest.json', async () => {
    const out = join(dir, 'cli');
    const args = ['--reviews', PRODUCT_REVIEWS, '--out', out, '--from', '2014-01-01', '--to', '2014-06-30'];
    const { stdout } = await run(process.execPath, [CLI, ...args, '--model', modelRoot, '--backend', 'wasm']);
    const summary = JSON.parse(stdout);
    assert.equal(summary.period, '2014-01-01_2014-06-30');
    assert.equal(summary.counts.rows, 10254);
    assert.equal(summary.counts.scored, 2460);
    assert.equal(summary.counts.outside_period, 7794);
    assert.equal(summary.counts.products, 752);
    assert.equal(summary.top.length, 5);
    assert.equal(typeof summary.check.spearman_mean_score_vs_mean_rating, 'number');
    const json = JSON.parse(await readFile(join(out, '2014-01-01_2014-06-30', 'ranking.json'), 'utf8'));
    assert.deepEqual(json.top, json.products.slice(0, 5));
    assert.deepEqual(json.model, { name: 'tiny-test-model', version: 'v1' });
    const latest = JSON.parse(await readFile(join(out, 'latest.json'), 'utf8'));
    assert.equal(latest.period, '2014-01-01_2014-06-30');
  });

  test('the CLI exits 2 on a usage error and 1 on a failure', async () => {
    const usage = await run(process.execPath, [
      CLI,
      '--reviews',
      PRODUCT_REVIEWS,
      '--out',
      dir,
      '--week',
      '2021-W53',
    ]).catch((error: { code: number; stderr: string }) => error);
    assert.equal((usage as { code: number }).code, 2);
    assert.match((usage as { stderr: string }).stderr, /2021 has ISO weeks 01-52/);
    const missing = join(dir, 'absent.csv');
    const failed = await run(process.execPath, [
      CLI,
      '--reviews',
      missing,
      '--out',
      dir,
      '--week',
      '2014-W05',
      '--model',
      modelRoot,
      '--backend',
      'cpu',
    ]).catch((error: { code: number; stderr: string }) => error);
    assert.equal((failed as { code: number }).code, 1);
    assert.match((failed as { stderr: string }).stderr, /absent\.csv: no such file/);
  });
});
