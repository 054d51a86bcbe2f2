import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BadRequestError } from '../../src/errors.ts';
import { helpText, parseRankArgs } from '../../src/ranking/args.ts';
import type { RankConfig } from '../../src/ranking/job.ts';

const BASE = ['--reviews', 'r.csv', '--out', 'runs/rankings'];
const parse = (...extra: string[]): RankConfig => {
  const config = parseRankArgs([...BASE, ...extra]);
  assert.notEqual(config, 'help');
  return config as RankConfig;
};

describe('rank arguments', () => {
  test('defaults: last complete week (null period), default model, top 5, prior 15, min 3', () => {
    const config = parse();
    assert.equal(config.period, null);
    assert.equal(config.model, 'models/review-sentiment');
    assert.deepEqual([config.top, config.priorM, config.minReviews], [5, 15, 3]);
    assert.deepEqual(config.columns, {
      product: 'product_id',
      date: 'date',
      text: 'text',
      title: 'title',
      rating: 'rating',
      ratingOptional: true,
    });
  });

  test('a week or a range; both, half a range or a bad day are usage errors', () => {
    assert.equal(parse('--week', '2020-W53').period?.to, '2021-01-03');
    assert.equal(parse('--from', '2014-01-01', '--to', '2014-06-30').period?.label, '2014-01-01_2014-06-30');
    for (const bad of [
      ['--week', '2014-W05', '--from', '2014-01-01', '--to', '2014-01-02'],
      ['--from', '2014-01-01'],
      ['--from', '2014-02-30', '--to', '2014-03-01'],
      ['--week', '2021-W53'],
    ]) {
      assert.throws(() => parse(...bad), BadRequestError, bad.join(' '));
    }
  });

  test('columns: none for title and rating, a named rating column is required', () => {
    const config = parse('--title-column', 'none', '--rating-column', 'stars', '--product-column', 'asin');
    assert.equal(config.columns.title, null);
    assert.equal(config.columns.rating, 'stars');
    assert.equal(config.columns.ratingOptional, false);
    assert.equal(config.columns.product, 'asin');
    assert.equal(parse('--rating-column', 'none').columns.rating, null);
    assert.throws(() => parse('--text-column', 'none'), BadRequestError);
  });

  test('numbers, choices and required flags are checked before any work', () => {
    assert.equal(parse('--prior-m', '0').priorM, 0);
    assert.equal(parse('--prior-m', '2.5').priorM, 2.5);
    for (const bad of [
      ['--top', '0'],
      ['--top', '2.5'],
      ['--min-reviews', 'x'],
      ['--prior-m', '-1'],
      ['--format', 'xml'],
      ['--backend', 'gpu'],
      ['--unknown'],
    ]) {
      assert.throws(() => parse(...bad), BadRequestError, bad.join(' '));
    }
    assert.throws(() => parseRankArgs(['--out', 'x']), /--reviews is required/);
    assert.throws(() => parseRankArgs(['--reviews', 'x']), /--out is required/);
  });

  test('--help documents every flag in aligned columns', () => {
    assert.equal(parseRankArgs(['--help']), 'help');
    const text = helpText();
    const flagLines = text.split('\n').filter((line) => line.startsWith('  --'));
    const flags = flagLines.map((line) => line.trim().split(' ')[0]);
    for (const flag of [
      '--reviews',
      '--out',
      '--week',
      '--from',
      '--to',
      '--model',
      '--top',
      '--min-reviews',
    ]) {
      assert.ok(flags.includes(flag), flag);
    }
    for (const flag of [
      '--prior-m',
      '--endpoint-url',
      '--title-column',
      '--rating-column',
      '--strict',
      '--help',
    ]) {
      assert.ok(flags.includes(flag), flag);
    }
    const helpColumns = new Set(flagLines.map((line) => /^ {2}--\S+( [^ ]+)?\s+/.exec(line)?.[0].length));
    assert.equal(helpColumns.size, 1, 'help texts start in one column');
  });
});
