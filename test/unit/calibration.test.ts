import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { medianClass } from '../../src/model/postprocess.ts';
import {
  applyTemperature,
  chooseOrdinalRule,
  decide,
  expectedCalibrationError,
  fitTemperature,
  goldenSectionMinimum,
  reliabilityBins,
  softmaxWithTemperature,
  temperatureNll,
} from '../../training/calibration.ts';

const close = (actual: number | undefined, expected: number, tolerance: number, what: string): void => {
  assert.ok(
    typeof actual === 'number' && Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual} != ${expected} ± ${tolerance}`,
  );
};

/** Deterministic uniform numbers in [0, 1) (mulberry32), so the synthetic sets are the same every run. */
function uniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rows = (values: number[][]): Float32Array[] => values.map((v) => Float32Array.from(v));

describe('expected calibration error', () => {
  test('is ~0 when each confidence level is right exactly that often', () => {
    // Two classes; 20 rows at each confidence c, class 0 on top, class 0 true in exactly 20·c of them.
    const probabilities: Float32Array[] = [];
    const labels: number[] = [];
    for (const c of [0.55, 0.65, 0.75, 0.85, 0.95]) {
      for (let i = 0; i < 20; i++) {
        probabilities.push(Float32Array.from([c, 1 - c]));
        labels.push(i < Math.round(20 * c) ? 0 : 1);
      }
    }
    close(expectedCalibrationError(probabilities, Int32Array.from(labels)), 0, 1e-6, 'ECE');
  });

  test('a hand-computed case: weighted gap between accuracy and confidence per bin', () => {
    // bin (0.8, 0.9]: 2 rows at 0.9, one right → |0.5 − 0.9| = 0.4; bin (0.5, 0.6]: 2 rows at 0.6, both right → 0.4
    const probabilities = rows([
      [0.9, 0.1],
      [0.9, 0.1],
      [0.4, 0.6],
      [0.6, 0.4],
    ]);
    const labels = Int32Array.from([0, 1, 1, 0]);
    close(expectedCalibrationError(probabilities, labels), 0.4, 1e-6, 'ECE');
    const bins = reliabilityBins(probabilities, labels);
    assert.equal(bins.length, 10);
    assert.deepEqual(
      bins.map((b) => b.count),
      [0, 0, 0, 0, 0, 2, 0, 0, 2, 0],
    );
    close(bins[8]?.accuracy, 0.5, 0, 'accuracy of (0.8, 0.9]');
  });

  test('rejects labels that are not class indexes', () => {
    assert.throws(() => expectedCalibrationError(rows([[0.5, 0.5]]), Int32Array.from([2])), RangeError);
  });
});

describe('temperature scaling', () => {
  test('recovers the temperature that generated the labels', () => {
    const next = uniform(7);
    const trueT = 2.5;
    const logits: Float32Array[] = [];
    const labels = new Int32Array(20_000);
    for (let i = 0; i < labels.length; i++) {
      const z = Float32Array.from({ length: 5 }, () => 8 * next() - 4);
      const p = softmaxWithTemperature([z], trueT)[0] ?? new Float32Array(5);
      let u = next();
      let k = 0;
      while (k < 4 && u >= (p[k] ?? 0)) u -= p[k++] ?? 0;
      logits.push(z);
      labels[i] = k;
    }
    const fit = fitTemperature(logits, labels);
    close(fit.temperature, trueT, 0.1, 'temperature');
    assert.ok(!fit.atBound);
    assert.ok(fit.nllAfter < fit.nllBefore, `${fit.nllAfter} < ${fit.nllBefore}`);
    for (const t of [fit.temperature * 0.98, fit.temperature * 1.02]) {
      assert.ok(temperatureNll(logits, labels, t) > fit.nllAfter, `NLL at ${t} is not lower`);
    }
  });

  test('fits log-probabilities as well as logits (they differ by a constant per row)', () => {
    const logits = rows([
      [2, 0, -1],
      [0.5, 1.5, 0],
      [-1, 0, 3],
      [1, 1, 0],
    ]);
    const labels = Int32Array.from([0, 0, 2, 1]);
    const logProbabilities = softmaxWithTemperature(logits, 1).map((p) => Float32Array.from(p, Math.log));
    close(
      fitTemperature(logProbabilities, labels).temperature,
      fitTemperature(logits, labels).temperature,
      1e-4,
      'T',
    );
  });

  test('applyTemperature: T = 1 keeps the rows, T = 2 is the square root renormalised', () => {
    const p = rows([[0.64, 0.36, 0]]);
    const same = applyTemperature(p, 1)[0];
    close(same?.[0], 0.64, 1e-6, 'p0 at T=1');
    const flat = applyTemperature(p, 2)[0];
    close(flat?.[0], 0.8 / 1.4, 1e-6, 'p0 at T=2');
    close(flat?.[1], 0.6 / 1.4, 1e-6, 'p1 at T=2');
    close(flat?.[2], 0, 0, 'a zero stays zero');
    assert.throws(() => applyTemperature(p, 0), RangeError);
  });

  test('golden-section search finds the minimum of a parabola', () => {
    close(
      goldenSectionMinimum((x) => (x - 1.3) ** 2, -5, 5, 1e-9),
      1.3,
      1e-8,
      'argmin',
    );
  });
});

describe('ordinal decision rules', () => {
  test('median and argmax on hand examples', () => {
    const p = rows([
      [0.45, 0, 0.1, 0, 0.45], // mode: first of the tied ends; median: the middle
      [0.3, 0.1, 0.15, 0.15, 0.3], // cumulative 0.3, 0.4, 0.55 → median 2
      [0.125, 0.125, 0.25, 0.25, 0.25], // cumulative exactly 0.5 at 2: 2 and 3 tie, the lower is kept
      [0, 0, 0, 0.2, 0.8],
    ]);
    assert.deepEqual(Array.from(decide(p, 'argmax')), [0, 0, 2, 4]);
    assert.deepEqual(Array.from(decide(p, 'median')), [2, 2, 2, 4]);
  });

  test('the median minimises the expected absolute error', () => {
    const next = uniform(11);
    for (let trial = 0; trial < 200; trial++) {
      const raw = Array.from({ length: 5 }, () => next() ** 3);
      const total = raw.reduce((a, b) => a + b, 0);
      const p = Float32Array.from(raw, (v) => v / total);
      const expected = (c: number): number => p.reduce((sum, pk, k) => sum + pk * Math.abs(k - c), 0);
      const best = Math.min(...[0, 1, 2, 3, 4].map(expected));
      close(expected(medianClass(p)), best, 1e-6, `expected |error| of the median for ${Array.from(p)}`);
    }
  });

  test('chooseOrdinalRule picks the median only when it lowers MAE beyond noise', () => {
    const bimodal = rows([
      [0.45, 0, 0.1, 0, 0.45],
      [0.4, 0.05, 0.1, 0.05, 0.4],
    ]);
    const middle = Int32Array.from([2, 2]);
    assert.deepEqual(chooseOrdinalRule(bimodal, middle), {
      rule: 'median',
      mae: { argmax: 2, median: 0 },
      standardError: 0,
    });
    const ends = Int32Array.from([0, 0]);
    assert.deepEqual(chooseOrdinalRule(bimodal, ends), {
      rule: 'argmax',
      mae: { argmax: 0, median: 2 },
      standardError: 0,
    });
    // A small average gain with a large spread is noise: the median loses accuracy for nothing.
    const noisy = rows([
      [0.45, 0, 0.1, 0, 0.45],
      [0.45, 0, 0.1, 0, 0.45],
      [0.45, 0, 0.1, 0, 0.45],
    ]);
    const mixed = chooseOrdinalRule(noisy, Int32Array.from([2, 0, 2]));
    assert.ok(mixed.mae.median < mixed.mae.argmax, 'the median has the lower MAE here');
    assert.equal(mixed.rule, 'argmax', 'but not by two standard errors');
    // label values scale the error (e.g. stars 1..5 → same as indexes; 0, 10, … → ten times)
    const tens = chooseOrdinalRule(bimodal, middle, [0, 10, 20, 30, 40]);
    assert.deepEqual(tens.mae, { argmax: 20, median: 0 });
  });
});
