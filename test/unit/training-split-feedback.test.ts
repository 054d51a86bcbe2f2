/** The fixed text-hash test split (--test-split-hash). */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseTrainArgs } from '../../training/args.ts';
import { loadCsv } from '../../training/data.ts';
import { splitByTextHash, textHashFraction } from '../../training/split.ts';

const EMOTION_CSV = fileURLToPath(new URL('../../../shared/data/emotion.csv', import.meta.url));

describe('--test-split-hash', () => {
  test('a text falls at a fixed place in [0, 1), whatever its case, order or neighbours', () => {
    const x = textHashFraction('When my grandfather died.');
    assert.ok(x >= 0 && x < 1);
    assert.equal(textHashFraction('WHEN MY GRANDFATHER DIED.'), x);
    const rows = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((text) => ({ text }));
    const forward = splitByTextHash(rows, 0.4).test.map((r) => r.text);
    const backward = splitByTextHash([...rows].reverse(), 0.4).test.map((r) => r.text);
    assert.deepEqual([...backward].reverse(), forward);
    assert.deepEqual(splitByTextHash(rows, 0).test, []);
  });

  test('flags: a share in [0, 0.5), and never together with --test', () => {
    const base = ['--data', 'x.csv'];
    const parsed = parseTrainArgs([...base, '--test-split-hash', '0.1']);
    assert.ok(parsed !== 'help' && parsed.testSplitHash === 0.1);
    assert.throws(() => parseTrainArgs([...base, '--test-split-hash', '0.5']), /\[0, 0.5\)/);
    assert.throws(
      () => parseTrainArgs([...base, '--test-split-hash', '0.1', '--test', 't.csv']),
      /exclude each other/,
    );
  });

  test('emotion.csv: 700 of 7,480 rows held out, duplicates of a text on one side', {
    skip: existsSync(EMOTION_CSV) ? false : `${EMOTION_CSV} is absent (data is not committed)`,
  }, async () => {
    const options = {
      header: true,
      labelColumn: 'label',
      textColumn: 'text',
      titleColumn: null,
      includeTitle: false,
      strict: true,
    };
    const data = await loadCsv(EMOTION_CSV, options);
    const { rest, test: held } = splitByTextHash(data.examples, 0.1);
    assert.equal(held.length, 700);
    assert.equal(rest.length + held.length, 7480);
    const heldTexts = new Set(held.map((e) => e.text.toLowerCase()));
    assert.ok(rest.every((e) => !heldTexts.has(e.text.toLowerCase())));
  });
});
