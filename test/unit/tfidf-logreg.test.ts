import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { minimizeLbfgs } from '../../training/baselines/lbfgs.ts';
import { lossAndGradient } from '../../training/baselines/logreg.ts';
import { csrFromRows } from '../../training/baselines/sparse.ts';
import { analyze, smoothIdf, TfidfVectorizer } from '../../training/baselines/tfidf.ts';
import { fitTfidfLogreg, loadTfidfLogreg } from '../../training/baselines/tfidf-logreg.ts';

const close = (actual: number | undefined, expected: number, tolerance: number, what: string): void => {
  assert.ok(
    typeof actual === 'number' && Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual} != ${expected} ± ${tolerance}`,
  );
};

/** Dense copy of CSR row r (the tests' matrices are tiny). */
function denseRow(m: ReturnType<typeof csrFromRows>, r: number): number[] {
  const row = new Array<number>(m.columns).fill(0);
  for (let p = m.indptr[r] ?? 0; p < (m.indptr[r + 1] ?? 0); p++) row[m.indices[p] ?? 0] = m.values[p] ?? 0;
  return row;
}

describe('analyze: sklearn word analyzer', () => {
  test('lower-cases and keeps runs of two or more word characters, as (?u)\\b\\w\\w+\\b', () => {
    assert.deepEqual(analyze("Don't STOP-me now: a 42x_y Café!", [1, 1]), [
      'don',
      'stop',
      'me',
      'now',
      '42x_y',
      'café',
    ]);
  });

  test('ngram_range (1, 2) appends the word pairs after the words', () => {
    assert.deepEqual(analyze('great day, great DAY', [1, 2]), [
      'great',
      'day',
      'great',
      'day',
      'great day',
      'day great',
      'great day',
    ]);
    assert.deepEqual(analyze('one two three', [2, 2]), ['one two', 'two three']);
  });
});

describe('TfidfVectorizer', () => {
  // df: apple 3, banana 2, cherry 1; n = 3 → idf = ln(4/4)+1 = 1, ln(4/3)+1, ln(4/2)+1 (smooth_idf=True)
  const docs = ['apple banana', 'apple cherry', 'apple apple banana'];

  test('idf equals sklearn smooth idf computed by hand on three documents', () => {
    const { vectorizer } = TfidfVectorizer.fitTransform(docs, { maxFeatures: null, ngramRange: [1, 1] });
    assert.deepEqual(vectorizer.vocabulary, ['apple', 'banana', 'cherry']);
    close(vectorizer.idf[0], 1, 1e-12, 'idf apple');
    close(vectorizer.idf[1], 1 + Math.log(4 / 3), 1e-12, 'idf banana');
    close(vectorizer.idf[2], 1 + Math.log(2), 1e-12, 'idf cherry');
    close(smoothIdf(1, 3), 1 + Math.log(2), 1e-12, 'smoothIdf');
  });

  test('rows are raw counts × idf, l2-normalised', () => {
    const { matrix } = TfidfVectorizer.fitTransform(docs, { maxFeatures: null, ngramRange: [1, 1] });
    // doc 3: apple ×2 → 2·1, banana ×1 → 1 + ln(4/3); divided by the row's length
    const banana = 1 + Math.log(4 / 3);
    const norm = Math.hypot(2, banana);
    const row = denseRow(matrix, 2);
    close(row[0], 2 / norm, 1e-6, 'apple');
    close(row[1], banana / norm, 1e-6, 'banana');
    close(row[2], 0, 0, 'cherry');
  });

  test('max_features keeps the most frequent terms; ties go to the alphabetically first', () => {
    // counts: bb 3, then aa, cc, dd 1 each; the second slot goes to 'aa'
    const texts = ['bb bb dd cc aa', 'dd bb'];
    const { vectorizer } = TfidfVectorizer.fitTransform(texts, { maxFeatures: 3, ngramRange: [1, 1] });
    assert.deepEqual(vectorizer.vocabulary, ['bb', 'dd', 'aa'].sort());
    const two = TfidfVectorizer.fitTransform(['bb bb cc aa dd'], { maxFeatures: 2, ngramRange: [1, 1] });
    assert.deepEqual(two.vectorizer.vocabulary, ['aa', 'bb']);
  });

  test('transform ignores unknown terms; a text with none is an empty row', () => {
    const { vectorizer } = TfidfVectorizer.fitTransform(docs, { maxFeatures: null, ngramRange: [1, 1] });
    const m = vectorizer.transform(['durian', 'cherry durian']);
    assert.deepEqual(Array.from(m.indptr), [0, 0, 1]);
    close(m.values[0], 1, 1e-7, 'single known term has weight 1');
  });
});

describe('logistic regression', () => {
  test('the analytic gradient matches central differences of the objective', () => {
    const x = csrFromRows(
      [
        new Map([
          [0, 0.6],
          [2, 0.8],
        ]),
        new Map([[1, 1]]),
        new Map([
          [0, 0.3],
          [1, -0.4],
          [2, 0.5],
        ]),
      ],
      3,
    );
    const labels = Int32Array.from([0, 2, 1]);
    const k = 3;
    const params = Float64Array.from({ length: 3 * k + k }, (_, i) => Math.sin(i + 1) / 2);
    const gradient = new Float64Array(params.length);
    lossAndGradient(x, labels, k, 0.3, params, gradient);
    const h = 1e-6;
    const scratch = new Float64Array(params.length);
    for (let i = 0; i < params.length; i++) {
      const shifted = (delta: number): number => {
        const p = Float64Array.from(params);
        p[i] = (p[i] ?? 0) + delta;
        return lossAndGradient(x, labels, k, 0.3, p, scratch);
      };
      close(gradient[i], (shifted(h) - shifted(-h)) / (2 * h), 1e-7, `d/dparam[${i}]`);
    }
  });

  test('L-BFGS reaches the minimum of the Rosenbrock function', () => {
    const rosenbrock = (p: Float64Array, g: Float64Array): number => {
      const [a = 0, b = 0] = p;
      g[0] = -2 * (1 - a) - 400 * a * (b - a * a);
      g[1] = 200 * (b - a * a);
      return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
    };
    const result = minimizeLbfgs(rosenbrock, Float64Array.from([-1.2, 1]), { gradientTolerance: 1e-8 });
    // Near (1, 1) the value reaches ~1e-20, so the relative-decrease rule may end it first.
    assert.ok(result.converged, result.reason);
    close(result.x[0], 1, 1e-6, 'x');
    close(result.x[1], 1, 1e-6, 'y');
  });
});

describe('fitTfidfLogreg', () => {
  const classes = ['neg', 'mid', 'pos'];
  const texts = [
    'awful terrible product',
    'terrible waste awful',
    'broke awful waste',
    'okay average product',
    'average okay fine',
    'fine okay enough',
    'great excellent product',
    'excellent love great',
    'love great wonderful',
  ];
  const labels = Int32Array.from([0, 0, 0, 1, 1, 1, 2, 2, 2]);

  test('separates a separable toy set: accuracy 1 on it and the right class for new texts', () => {
    const model = fitTfidfLogreg(texts, labels, classes, { maxFeatures: null, ngramRange: [1, 1] });
    assert.ok(model.solver.converged, JSON.stringify(model.solver));
    const predicted = model.predictProba(texts).map((row) => row.indexOf(Math.max(...row)));
    assert.deepEqual(predicted, Array.from(labels));
    const fresh = model.predictProba(['simply awful', 'just okay', 'wonderful, I love it']);
    assert.deepEqual(
      fresh.map((row) => classes[row.indexOf(Math.max(...row))]),
      ['neg', 'mid', 'pos'],
    );
    for (const row of fresh)
      close(
        row.reduce((a, b) => a + b, 0),
        1,
        1e-6,
        'row sums to 1',
      );
  });

  test('converges to a stationary point of the regularised objective', () => {
    const model = fitTfidfLogreg(texts, labels, classes, {
      maxFeatures: null,
      ngramRange: [1, 2],
      tolerance: 1e-8,
    });
    assert.ok(model.solver.gradientMax <= 1e-8, `gradient ${model.solver.gradientMax}`);
  });

  test('toJSON → loadTfidfLogreg predicts the same probabilities', () => {
    const model = fitTfidfLogreg(texts, labels, classes, { maxFeatures: 5, ngramRange: [1, 2] });
    const copy = loadTfidfLogreg(JSON.parse(JSON.stringify(model.toJSON())));
    assert.deepEqual(
      copy.predictProba(['great product', 'awful']),
      model.predictProba(['great product', 'awful']),
    );
  });

  test('rejects labels outside the classes', () => {
    assert.throws(() => fitTfidfLogreg(['aa bb', 'cc dd'], [0, 2], ['x', 'y']), /not in 0\.\.1/);
  });
});
