import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { InternalError } from '../../src/errors.ts';
import { AMAZON_CSV, loadCsv } from '../../training/data.ts';
import { evaluate } from '../../training/evaluate.ts';

const DATA = fileURLToPath(new URL('../../../shared/data/', import.meta.url));
const STARS = ['1', '2', '3', '4', '5'];
const close = (actual: number | null | undefined, expected: number, what: string): void => {
  assert.ok(
    typeof actual === 'number' && Math.abs(actual - expected) < 1e-12,
    `${what}: ${actual} != ${expected}`,
  );
};

/** A probability row whose argmax is `k` (the rest share what is left). */
function peaked(k: number, classes: number, top = 0.6): number[] {
  return Array.from({ length: classes }, (_, i) => (i === k ? top : (1 - top) / (classes - 1)));
}

describe('evaluate: a small case computed by hand', () => {
  // labels 1,2,3; truth 0 0 0 1 1 2; predicted 0 0 1 1 2 2
  // confusion [true][pred]: [2 1 0] [0 1 1] [0 0 1]
  // class 1: P 2/2, R 2/3, F1 0.8 | class 2: P 1/2, R 1/2, F1 0.5 | class 3: P 1/2, R 1/1, F1 2/3
  // accuracy 4/6; macro-F1 (0.8 + 0.5 + 2/3) / 3 = 59/90; |errors| 0 0 1 0 1 0 -> MAE 2/6; all within one
  const truth = [0, 0, 0, 1, 1, 2];
  const predicted = [0, 0, 1, 1, 2, 2];
  const probabilities = predicted.map((k) => peaked(k, 3));
  const labels = ['1', '2', '3'];

  test('accuracy, macro-F1, MAE, within-one and the confusion matrix', () => {
    const m = evaluate(truth, probabilities, labels, [1, 2, 3]);
    assert.equal(m.n, 6);
    close(m.accuracy, 4 / 6, 'accuracy');
    close(m.macroF1, 59 / 90, 'macroF1');
    close(m.mae, 2 / 6, 'mae');
    close(m.withinOne, 1, 'withinOne');
    assert.deepEqual(m.confusion, [
      [2, 1, 0],
      [0, 1, 1],
      [0, 0, 1],
    ]);
    assert.deepEqual(m.labels, labels);
  });

  test('per-class precision, recall, F1 and support', () => {
    const m = evaluate(truth, probabilities, labels, [1, 2, 3]);
    const expected = [
      { label: '1', precision: 1, recall: 2 / 3, f1: 0.8, support: 3 },
      { label: '2', precision: 0.5, recall: 0.5, f1: 0.5, support: 2 },
      { label: '3', precision: 0.5, recall: 1, f1: 2 / 3, support: 1 },
    ];
    for (const [k, want] of expected.entries()) {
      const got = m.perClass[k];
      assert.equal(got?.label, want.label);
      assert.equal(got?.support, want.support);
      close(got?.precision, want.precision, `precision ${want.label}`);
      close(got?.recall, want.recall, `recall ${want.label}`);
      close(got?.f1, want.f1, `f1 ${want.label}`);
    }
  });

  test('majority baseline uses the training counts when given', () => {
    // train majority is class "2": accuracy 2/6; F1 of "2" = 2·(2/6)·1/(2/6+1) = 0.5, others 0 -> 0.5/3;
    // MAE (|2-1|·3 + 0·2 + |2-3|·1) / 6 = 4/6
    const m = evaluate(truth, probabilities, labels, [1, 2, 3], [1, 5, 2]);
    assert.equal(m.majorityBaseline.label, '2');
    close(m.majorityBaseline.accuracy, 2 / 6, 'baseline accuracy');
    close(m.majorityBaseline.macroF1, 0.5 / 3, 'baseline macroF1');
    close(m.majorityBaseline.mae, 4 / 6, 'baseline mae');
  });

  test('majority baseline falls back to the most frequent true class', () => {
    // test majority is class "1" (3 of 6): accuracy 0.5; F1 of "1" = 2·0.5·1/1.5 = 2/3 -> macro 2/9;
    // MAE (0·3 + 1·2 + 2·1) / 6 = 4/6
    const m = evaluate(truth, probabilities, labels, [1, 2, 3]);
    assert.equal(m.majorityBaseline.label, '1');
    close(m.majorityBaseline.accuracy, 0.5, 'baseline accuracy');
    close(m.majorityBaseline.macroF1, 2 / 9, 'baseline macroF1');
    close(m.majorityBaseline.mae, 4 / 6, 'baseline mae');
  });

  test('argmax takes the first of equal probabilities and typed arrays work', () => {
    const m = evaluate(
      Int32Array.from([0, 1]),
      [Float32Array.from([0.4, 0.4, 0.2]), [0.1, 0.45, 0.45]],
      labels,
      null,
    );
    assert.deepEqual(m.confusion, [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 0],
    ]);
  });
});

describe('evaluate: edge cases', () => {
  test('perfect predictions', () => {
    const truth = [0, 1, 2, 3, 4, 4, 3, 0];
    const m = evaluate(
      truth,
      truth.map((k) => peaked(k, 5, 0.9)),
      STARS,
      [1, 2, 3, 4, 5],
    );
    assert.equal(m.accuracy, 1);
    assert.equal(m.macroF1, 1);
    assert.equal(m.mae, 0);
    assert.equal(m.withinOne, 1);
    for (const c of m.perClass) assert.deepEqual([c.precision, c.recall, c.f1], [1, 1, 1]);
    assert.deepEqual(
      m.confusion.map((row, t) => row[t]),
      [2, 1, 1, 2, 2],
    );
  });

  test('predicting one class for every row: the others get F1 = 0', () => {
    // truth 1 2 3 5 5, always "5": class 5 P 2/5, R 1, F1 = 2·0.4/1.4 = 4/7; classes 1,2,3 F1 0;
    // class 4 neither occurs nor is predicted, so it is left out: macro-F1 = (4/7) / 4.
    // |errors| 4 3 2 0 0 -> MAE 9/5; within one: rows 5,5 -> 2/5
    const truth = [0, 1, 2, 4, 4];
    const m = evaluate(
      truth,
      truth.map(() => peaked(4, 5)),
      STARS,
      [1, 2, 3, 4, 5],
    );
    close(m.accuracy, 2 / 5, 'accuracy');
    close(m.macroF1, 4 / 7 / 4, 'macroF1');
    close(m.mae, 9 / 5, 'mae');
    close(m.withinOne, 2 / 5, 'withinOne');
    assert.deepEqual(
      m.perClass.slice(0, 4).map((c) => c.f1),
      [0, 0, 0, 0],
    );
    close(m.perClass[4]?.f1, 4 / 7, 'f1 of "5"');
    assert.deepEqual(
      m.perClass.map((c) => c.precision),
      [0, 0, 0, 0, 2 / 5],
    );
  });

  test('non-ordinal labels have no MAE or within-one', () => {
    const labels = ['anger', 'fear', 'joy'];
    const truth = [2, 2, 1, 0];
    const m = evaluate(
      truth,
      [peaked(2, 3), peaked(1, 3), peaked(1, 3), peaked(0, 3)],
      labels,
      null,
      [10, 3, 40],
    );
    close(m.accuracy, 3 / 4, 'accuracy');
    assert.equal(m.mae, null);
    assert.equal(m.withinOne, null);
    assert.equal(m.majorityBaseline.label, 'joy');
    assert.equal(m.majorityBaseline.mae, null);
    close(m.majorityBaseline.accuracy, 2 / 4, 'baseline accuracy');
  });

  test('bad input is named', () => {
    const ok = [peaked(0, 3)];
    const cases: [string, () => unknown, RegExp][] = [
      ['no rows', () => evaluate([], [], STARS, null), /no examples/],
      [
        'length mismatch',
        () => evaluate([0, 1], ok, ['a', 'b', 'c'], null),
        /2 true labels but 1 probability rows/,
      ],
      ['index out of range', () => evaluate([3], ok, ['a', 'b', 'c'], null), /trueIdx\[0\] = 3/],
      [
        'row width',
        () => evaluate([0], [[0.5, 0.5]], ['a', 'b', 'c'], null),
        /probabilities\[0\] has 2 values/,
      ],
      [
        'NaN output',
        () => evaluate([0], [[0.5, Number.NaN, 0]], ['a', 'b', 'c'], null),
        /probabilities\[0\]\[1\] is NaN/,
      ],
      ['label values', () => evaluate([0], ok, ['a', 'b', 'c'], [1, 2]), /labelValues/],
      ['train counts', () => evaluate([0], ok, ['a', 'b', 'c'], null, [1, 2]), /trainLabelCounts/],
      ['one label', () => evaluate([0], [[1]], ['a'], null), /at least two labels/],
    ];
    for (const [name, run, message] of cases) {
      assert.throws(run, (e: unknown) => e instanceof InternalError && message.test(e.message), name);
    }
  });
});

describe('evaluate on the Amazon split', () => {
  test('loader + majority baseline reproduce the reference 0.516 on test.csv', {
    skip: existsSync(join(DATA, 'test.csv')) ? false : 'needs ../shared/data (absent)',
  }, async () => {
    const [train, testSet] = await Promise.all([
      loadCsv(join(DATA, 'train.csv'), AMAZON_CSV),
      loadCsv(join(DATA, 'test.csv'), AMAZON_CSV),
    ]);
    assert.deepEqual(train.labels, STARS);
    const counts = STARS.map((l) => train.examples.filter((e) => e.label === l).length);
    const truth = testSet.examples.map((e) => STARS.indexOf(e.label));
    // Perfect predictions: only the baseline is under test here.
    const m = evaluate(
      truth,
      truth.map((k) => peaked(k, 5)),
      STARS,
      [1, 2, 3, 4, 5],
      counts,
    );
    assert.equal(m.n, 6154);
    assert.equal(m.majorityBaseline.label, '5');
    assert.equal(m.majorityBaseline.accuracy.toFixed(3), '0.516');
    assert.equal(m.accuracy, 1);
  });
});
