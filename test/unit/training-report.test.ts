import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assessViews } from '../../training/assess.ts';
import type { BadRow } from '../../training/data.ts';
import { evaluate, type Metrics } from '../../training/evaluate.ts';
import { BAD_ROWS_SHOWN, type EpochRecord, type ReportInput, renderReport } from '../../training/report.ts';

const STARS = ['1', '2', '3', '4', '5'];

/** Deterministic predictions that are right ~60% of the time and otherwise one star off. */
function sampleMetrics(labels: string[], values: number[] | null, rows = 400): Metrics {
  const k = labels.length;
  const truth = Array.from({ length: rows }, (_, i) => (i * 7 + (i % 3)) % k);
  const probabilities = truth.map((t, i) => {
    const guess = i % 5 < 3 ? t : Math.min(k - 1, Math.max(0, t + (i % 2 ? 1 : -1)));
    return Array.from({ length: k }, (_, c) => (c === guess ? 0.6 : 0.4 / (k - 1)));
  });
  return evaluate(truth, probabilities, labels, values, [10, 5, 6, 18, 50].slice(0, k));
}

function history(epochs: number): EpochRecord[] {
  return Array.from({ length: epochs }, (_, i) => ({
    epoch: i + 1,
    loss: 1.3 * 0.8 ** i,
    accuracy: 0.5 + 0.04 * i,
    valLoss: 1.2 * 0.9 ** i + 0.02 * Math.max(0, i - 4) ** 2,
    valAccuracy: 0.52 + 0.025 * Math.min(i, 4),
    samplesPerSec: 410 + i,
    seconds: 130 + i,
  }));
}

function input(overrides: Partial<ReportInput> = {}): ReportInput {
  return {
    title: 'review-sentiment 20261121T214500Z-43eb3d8f',
    createdAt: '2026-11-21T21:45:00.000Z',
    bundle: {
      name: 'review-sentiment',
      version: '20261121T214500Z-43eb3d8f',
      uri: 's3://models/review-sentiment/',
    },
    settings: { epochs: 8, batchSize: 64, normalizer: 'keras-original-v1', titleColumn: 1, dropout: 0.2 },
    data: {
      train: { uri: 's3://data/train.csv', rows: 55146, badRows: [] },
      test: {
        uri: 's3://data/test.csv',
        rows: 6154,
        badRows: [{ line: 17, reason: '2 columns, expected 3' }],
      },
    },
    history: history(8),
    bestEpoch: 5,
    stoppedEarly: true,
    metrics: sampleMetrics(STARS, [1, 2, 3, 4, 5]),
    reference: [
      { name: 'TF-IDF + logistic regression', accuracy: 0.684, macroF1: 0.532, mae: 0.471 },
      { name: 'original-design LSTM (PyTorch)', accuracy: 0.636, macroF1: 0.474, mae: 0.548 },
    ],
    ...overrides,
  };
}

const count = (html: string, pattern: RegExp): number => html.match(new RegExp(pattern, 'g'))?.length ?? 0;

describe('renderReport', () => {
  test('is one self-contained HTML page: no scripts, links, external resources or URLs', () => {
    const html = renderReport(input());
    assert.match(html, /^<!doctype html>/);
    assert.equal(count(html, /\s(src|href|xlink:href|srcset|action)\s*=/i), 0);
    assert.doesNotMatch(html, /<(script|link|img|iframe|object|embed)\b/i);
    assert.doesNotMatch(html, /url\(|@import|https?:\/\//i);
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  });

  test('has the loss, accuracy and confusion SVGs, each closed', () => {
    const html = renderReport(input());
    assert.equal(count(html, /<svg\b/), 3);
    assert.equal(count(html, /<\/svg>/), 3);
    assert.match(html, /train loss/);
    assert.match(html, /validation accuracy/);
  });

  test('marks the best epoch on the curves and in the epoch table', () => {
    const html = renderReport(input());
    assert.equal(count(html, />best 5</), 2);
    assert.equal(count(html, /<tr class="best"><td class="num">5<\/td>/), 1);
    assert.match(html, /Training stopped early/);
  });

  test('one rect per confusion cell, with its count', () => {
    const metrics = sampleMetrics(STARS, [1, 2, 3, 4, 5]);
    const html = renderReport(input({ metrics }));
    assert.equal(count(html, /<rect class="cell"/), 25);
    const counts = [...html.matchAll(/<rect class="cell"[\s\S]*?<\/rect><text [^>]*>(\d+)<\/text>/g)].map(
      (m) => Number(m[1]),
    );
    assert.deepEqual(counts, metrics.confusion.flat());
  });

  test('the metrics table shows the model, the majority baseline and the reference figures', () => {
    const metrics = sampleMetrics(STARS, [1, 2, 3, 4, 5]);
    const html = renderReport(input({ metrics }));
    const row = (name: string): string => html.split('\n').find((line) => line.includes(name)) ?? '';
    assert.ok(row('This model').includes(`<td class="num">${metrics.accuracy.toFixed(3)}</td>`));
    assert.ok(row('This model').includes(`<td class="num">${metrics.macroF1.toFixed(3)}</td>`));
    const baseline = row('Majority baseline');
    assert.ok(baseline.includes('always “5”'));
    assert.ok(baseline.includes(`<td class="num">${metrics.majorityBaseline.accuracy.toFixed(3)}</td>`));
    assert.match(row('TF-IDF'), /0\.684<\/td><td class="num">0\.532<\/td><td class="num">0\.471/);
    assert.match(
      row('original-design LSTM'),
      /0\.636<\/td><td class="num">0\.474<\/td><td class="num">0\.548/,
    );
    for (const c of metrics.perClass) {
      assert.ok(
        html.includes(`<tr><td>${c.label}</td><td class="num">${c.precision.toFixed(3)}</td>`),
        c.label,
      );
    }
  });

  test('labels, URIs and settings from user data are escaped', () => {
    const labels = ['<script>alert(1)</script>', 'a&b', '"quoted"'];
    const html = renderReport(
      input({
        title: 'x</title><script>',
        bundle: { name: 'n', version: 'v', uri: 's3://b/"><img onerror=x>' },
        settings: { '<b>key</b>': '<i>value</i>' },
        data: { train: { uri: '/data/<train>.csv', rows: 3, badRows: [{ line: 2, reason: 'bad "<tag>"' }] } },
        metrics: sampleMetrics(labels, null, 30),
      }),
    );
    assert.doesNotMatch(html, /<script|<img|<b>|<i>|<train>|<tag>/);
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(html.includes('a&amp;b'));
    assert.ok(html.includes('&quot;quoted&quot;'));
    assert.equal(count(html, /<rect class="cell"/), 9);
  });

  test('lists the first bad rows with line numbers and counts them all', () => {
    const badRows: BadRow[] = Array.from({ length: 120 }, (_, i) => ({
      line: i * 3 + 2,
      reason: 'empty text',
    }));
    const html = renderReport(input({ data: { train: { uri: 'train.csv', rows: 1000, badRows } } }));
    assert.equal(count(html, /<tr><td class="num">\d+<\/td><td>empty text<\/td><\/tr>/), BAD_ROWS_SHOWN);
    assert.ok(html.includes(`(first ${BAD_ROWS_SHOWN} of 120)`));
    assert.ok(html.includes('<td class="num">149</td><td>empty text'));
    assert.ok(!html.includes('<td class="num">152</td><td>empty text'));
    assert.ok(html.includes('<tr><th>Rows skipped as malformed</th><td>120</td></tr>'));
  });

  test('no test set, no epochs and a diverged loss still render cleanly', () => {
    const diverged = history(3).map((h, i) =>
      i === 2 ? { ...h, loss: Number.NaN, valLoss: Number.NaN } : h,
    );
    for (const variant of [
      input({ metrics: null }),
      input({ history: [], bestEpoch: 0, stoppedEarly: false }),
      input({ history: diverged, bestEpoch: 2 }),
      input({ history: history(1), bestEpoch: 1 }),
      input({ history: history(40), bestEpoch: 31 }),
    ]) {
      const html = renderReport(variant);
      assert.doesNotMatch(html, /NaN|undefined|Infinity|null/);
    }
    assert.match(renderReport(input({ metrics: null })), /No test set was given/);
    assert.equal(count(renderReport(input({ metrics: null })), /<svg\b/), 2);
    assert.match(renderReport(input({ history: [], bestEpoch: 0 })), /No epochs were recorded/);
  });

  test('non-ordinal labels show no MAE', () => {
    const metrics = sampleMetrics(['anger', 'fear', 'joy'], null, 30);
    const html = renderReport(input({ metrics, reference: [] }));
    const model = html.split('\n').find((line) => line.includes('This model')) ?? '';
    assert.match(model, /<td class="num">—<\/td><td class="num">—<\/td><\/tr>$/);
  });
});

test('shows the validation split beside the test metrics when given', () => {
  const sample = input();
  const html = renderReport({ ...sample, validation: sample.metrics });
  assert.match(html, /This model on the validation split \(\d+ rows\)/);
  assert.doesNotMatch(renderReport(sample), /validation split \(/);
});

test('says which decision rule was chosen, how, and the validation figures of each candidate', () => {
  // Class 2 is second wherever it is true: argmax never answers it, offsets do.
  const rows = [
    ...Array.from({ length: 40 }, () => [0.6, 0.3, 0.1]),
    ...Array.from({ length: 40 }, () => [0.5, 0.45, 0.05]),
    ...Array.from({ length: 40 }, () => [0.1, 0.2, 0.7]),
  ].map((r) => Float32Array.from(r));
  const labels = Int32Array.from(rows, (_, i) => Math.floor(i / 40));
  const view = { probabilities: rows, labels };
  const assessment = assessViews(
    { 'title+text': view, 'text-only': view },
    { 'title+text': view },
    { names: ['1', '2', '3'], values: [1, 2, 3] },
  );
  assert.equal(assessment.postprocessing.decision, 'offsets');
  assert.equal(assessment.validation['text-only']?.macroF1, 1);
  const html = renderReport(input({ assessment: { ...assessment, baselines: null } }));
  assert.match(html, /the offsets rule \(offsets 0, /);
  assert.match(html, /<td>offsets \(cross-fitted, 5 folds\) — chosen<\/td>/);
  assert.match(html, /<td>argmax<\/td><td class="num">0\.667<\/td><td class="num">0\.556<\/td>/);
  assert.match(html, /Chosen: the highest validation macro-F1/);
  assert.match(html, /in-sample macro-F1 1\.000/);
});
