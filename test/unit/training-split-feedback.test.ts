/** The fixed text-hash test split (--test-split-hash) and the rules that turn feedback into fit rows. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Feedback, type FeedbackRecord, feedbackId } from '../../src/feedback/record.ts';
import { parseTrainArgs } from '../../training/args.ts';
import { type Example, loadCsv } from '../../training/data.ts';
import { feedbackRows } from '../../training/feedback.ts';
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
    assert.ok(parsed !== 'help' && parsed.testSplitHash === 0.1 && parsed.feedbackMaxShare === 0.2);
    assert.throws(() => parseTrainArgs([...base, '--test-split-hash', '0.5']), /\[0, 0.5\)/);
    assert.throws(
      () => parseTrainArgs([...base, '--test-split-hash', '0.1', '--test', 't.csv']),
      /exclude each other/,
    );
    assert.throws(() => parseTrainArgs([...base, '--feedback-max-share', '1.5']), /\[0, 1\]/);
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

function record(f: Partial<Feedback> & { text: string; label: string }, minute = 0): FeedbackRecord {
  const content: Feedback = { model: 'emotion', title: null, prediction: null, ...f };
  return {
    format: 'feedback/1',
    id: feedbackId(content),
    ...content,
    modelVersion: 'v1',
    receivedAt: new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString(),
  };
}

describe('feedback rows', () => {
  const data: Example[] = [
    { label: 'joy', text: 'A sunny day.', title: null, line: 2 },
    { label: 'fear', text: 'The storm.', title: null, line: 3 },
  ];
  const rows = (records: FeedbackRecord[], maxShare = 0.2, fitRows = 100) =>
    feedbackRows(records, {
      uri: 'runs/feedback',
      malformed: 0,
      labels: ['fear', 'joy'],
      dataRows: data,
      fitRows,
      maxShare,
      includeTitle: false,
    });

  test('majority label per text; ties, texts in the data and unknown labels are dropped', () => {
    const { rows: added, use } = rows([
      record({ text: 'New text', label: 'fear' }, 1),
      record({ text: 'new text', label: 'fear', prediction: 'joy' }, 2),
      record({ text: 'New text', label: 'joy' }, 3),
      record({ text: 'Tie', label: 'joy' }),
      record({ text: 'Tie', label: 'fear' }),
      record({ text: 'a sunny day.', label: 'fear' }),
      record({ text: 'Other', label: 'surprise' }),
    ]);
    assert.deepEqual(added, [{ label: 'fear', text: 'new text', title: null, line: 0 }]);
    assert.deepEqual(use.dropped, { malformed: 0, unknownLabel: 1, inData: 1, conflicting: 3, overCap: 0 });
    assert.equal(use.records, 7);
    assert.equal(use.used, 1);
  });

  test('the cap is a share of the rows fitted on (data + feedback), newest feedback first', () => {
    const many = Array.from({ length: 10 }, (_, i) => record({ text: `text ${i}`, label: 'joy' }, i));
    const { rows: added, use } = rows(many, 0.2, 20);
    assert.equal(use.cap, 5); // 5 / (20 + 5) = 0.2
    assert.deepEqual(
      added.map((e) => e.text),
      ['text 9', 'text 8', 'text 7', 'text 6', 'text 5'],
    );
    assert.equal(use.dropped.overCap, 5);
    assert.equal(rows(many, 0, 20).use.used, 0);
  });
});
