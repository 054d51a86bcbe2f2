import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { medianClass } from '../../src/model/postprocess.ts';
import {
  applyTemperature,
  chooseDecision,
  decide,
  expectedCalibrationError,
  fitOffsets,
  fitTemperature,
  goldenSectionMinimum,
  reliabilityBins,
  softmaxWithTemperature,
  temperatureNll,
} from '../../training/calibration.ts';
import { evaluate } from '../../training/evaluate.ts';

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

  test('offsets shift the answer toward a class; equal offsets are argmax', () => {
    const p = rows([
      [0.5, 0.45, 0.05],
      [0.6, 0.3, 0.1],
      [0, 0.2, 0.8],
    ]);
    assert.deepEqual(Array.from(decide(p, { decision: 'offsets', offsets: [0, 0, 0] })), [0, 0, 2]);
    assert.deepEqual(Array.from(decide(p, { decision: 'offsets', offsets: [1, 1, 1] })), [0, 0, 2]);
    // log(0.5 / 0.45) ≈ 0.105 < 0.3 < log(0.6 / 0.3) ≈ 0.693: only the first row moves to class 1
    assert.deepEqual(Array.from(decide(p, { decision: 'offsets', offsets: [0, 0.3, 0] })), [1, 0, 2]);
    // a probability of 0 is never answered, however large its offset
    assert.deepEqual(Array.from(decide(p, { decision: 'offsets', offsets: [100, 0, 0] })), [0, 0, 2]);
  });
});

/** A rare middle class argmax never answers, and ambiguous rows whose truth is split between two ends. */
function rareMiddle(perClass: number): { p: Float32Array[]; y: Int32Array } {
  const p: number[][] = [];
  const y: number[] = [];
  const add = (n: number, row: number[], label: number) => {
    for (let i = 0; i < n; i++) {
      p.push(row);
      y.push(label);
    }
  };
  add(perClass, [0.6, 0.3, 0.1], 0);
  add(perClass, [0.5, 0.45, 0.05], 1); // class 1 is second everywhere it is true: argmax never answers it
  add(perClass, [0.1, 0.2, 0.7], 2);
  return { p: rows(p), y: Int32Array.from(y) };
}

describe('decision offsets', () => {
  test('fitOffsets recovers a class argmax never answers: macro-F1 0.556 → 1', () => {
    const { p, y } = rareMiddle(10);
    const names = ['1', '2', '3'];
    const before = evaluate(y, p, names, null);
    close(before.macroF1, (20 / 30 + 0 + 1) / 3, 1e-9, 'argmax macro-F1');
    const fit = fitOffsets(p, y);
    assert.equal(fit.offsets[0], 0, 'b_0 stays 0');
    const b1 = fit.offsets[1] ?? Number.NaN;
    assert.ok(b1 > Math.log(0.5 / 0.45) && b1 < Math.log(0.6 / 0.3), `b_1 = ${b1} separates classes 0 and 1`);
    const after = evaluate(
      y,
      p,
      names,
      null,
      undefined,
      decide(p, { decision: 'offsets', offsets: fit.offsets }),
    );
    assert.equal(after.macroF1, 1);
    assert.equal(fit.macroF1, 1);
  });

  test('fitOffsets never does worse than argmax and reports the macro-F1 evaluate() gives', () => {
    const next = uniform(5);
    for (let trial = 0; trial < 20; trial++) {
      const n = 200;
      const labels = Int32Array.from({ length: n }, () => Math.min(3, Math.floor(next() ** 2 * 4)));
      const p = rows(
        Array.from(labels, (y) => {
          const raw = [0, 1, 2, 3].map((k) => next() + (k === y ? 0.6 : 0));
          const total = raw.reduce((a, b) => a + b, 0);
          return raw.map((v) => v / total);
        }),
      );
      const names = ['a', 'b', 'c', 'd'];
      const fit = fitOffsets(p, labels);
      const argmaxF1 = evaluate(labels, p, names, null).macroF1;
      const offsetF1 = evaluate(
        labels,
        p,
        names,
        null,
        undefined,
        decide(p, { decision: 'offsets', offsets: fit.offsets }),
      ).macroF1;
      assert.ok(offsetF1 >= argmaxF1 - 1e-12, `trial ${trial}: ${offsetF1} < ${argmaxF1}`);
      close(fit.macroF1, offsetF1, 1e-12, `trial ${trial}: reported macro-F1`);
      assert.ok(fit.offsets.every((b) => Math.abs(b) <= 4));
    }
  });

  test('with two classes the one offset is the best threshold: no grid value does better', () => {
    const next = uniform(9);
    const n = 300;
    const labels = Int32Array.from({ length: n }, () => (next() < 0.2 ? 1 : 0));
    const p = rows(
      Array.from(labels, (y) => {
        const q = Math.min(0.99, Math.max(0.01, next() * 0.7 + (y === 1 ? 0.25 : 0)));
        return [1 - q, q];
      }),
    );
    const fit = fitOffsets(p, labels);
    let bestOnGrid = 0;
    for (let b = -4; b <= 4; b += 0.001) {
      const answers = decide(p, { decision: 'offsets', offsets: [0, b] });
      bestOnGrid = Math.max(bestOnGrid, evaluate(labels, p, ['0', '1'], null, undefined, answers).macroF1);
    }
    assert.ok(fit.macroF1 >= bestOnGrid - 1e-12, `${fit.macroF1} < grid ${bestOnGrid}`);
  });

  test('chooseDecision takes offsets that raise macro-F1 without costing MAE, judged cross-fitted', () => {
    const { p, y } = rareMiddle(50);
    const choice = chooseDecision(p, y, [1, 2, 3]);
    assert.equal(choice.decision.decision, 'offsets');
    assert.equal(choice.decision.offsets?.length, 3);
    assert.equal(choice.folds, 5);
    const offsets = choice.candidates.find((c) => c.decision === 'offsets');
    assert.ok(offsets?.crossFitted && offsets.eligible);
    assert.equal(offsets.macroF1, 1, 'every fold holds the same structure');
    assert.deepEqual(
      choice.candidates.map((c) => c.decision),
      ['argmax', 'median', 'offsets'],
    );
  });

  test('chooseDecision keeps argmax on a tie and refuses offsets whose MAE is worse beyond noise', () => {
    const perfect = rows([
      [0.8, 0.1, 0.1],
      [0.1, 0.8, 0.1],
      [0.1, 0.1, 0.8],
      [0.7, 0.2, 0.1],
      [0.2, 0.7, 0.1],
      [0.1, 0.2, 0.7],
    ]);
    assert.deepEqual(chooseDecision(perfect, Int32Array.from([0, 1, 2, 0, 1, 2]), [1, 2, 3]).decision, {
      decision: 'argmax',
    });
    // Ambiguous rows, 80 true 1-star and 40 true 3-star: answering 3 for them raises macro-F1
    // (0.590 → 0.750) but doubles their error in stars.
    const p: Float32Array[] = [];
    const y: number[] = [];
    const add = (n: number, row: number[], label: number) => {
      for (let i = 0; i < n; i++) {
        p.push(Float32Array.from(row));
        y.push(label);
      }
    };
    add(120, [0.9, 0.05, 0.05], 0);
    add(80, [0.5, 0.05, 0.45], 0);
    add(40, [0.5, 0.05, 0.45], 2);
    add(200, [0.05, 0.9, 0.05], 1);
    const labels = Int32Array.from(y);
    const ordinal = chooseDecision(p, labels, [1, 2, 3]);
    const offsets = ordinal.candidates.find((c) => c.decision === 'offsets');
    const argmaxes = ordinal.candidates.find((c) => c.decision === 'argmax');
    assert.ok(offsets && argmaxes && offsets.macroF1 > argmaxes.macroF1 + 0.1);
    assert.ok((offsets.maeDifference ?? 0) > 2 * (offsets.maeDifferenceStandardError ?? 1));
    assert.equal(offsets.eligible, false);
    assert.equal(ordinal.decision.decision, 'argmax');
    // Without label values there is no MAE to guard: macro-F1 decides.
    assert.equal(chooseDecision(p, labels, null).decision.decision, 'offsets');
  });

  test('chooseDecision skips offsets with fewer groups than folds and checks the groups', () => {
    const { p, y } = rareMiddle(1);
    const choice = chooseDecision(p, y, [1, 2, 3]);
    assert.equal(choice.folds, 0);
    assert.ok(choice.candidates.every((c) => c.decision !== 'offsets'));
    assert.throws(() => chooseDecision(p, y, null, { groups: Int32Array.of(0) }), /1 groups for 3 rows/);
  });
});
