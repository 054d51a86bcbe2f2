/**
 * The default bundle through both runtimes on the whole test split (../shared/data/test.csv, titles
 * joined as serving joins them): ONNX Runtime on model.onnx and TensorFlow.js (wasm) on model.json give
 * every class probability of every review within 1e-5. Skips, saying why, when the data is absent; the
 * tiny-bundle version of this check always runs (test/unit/function-service.test.ts).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { loadBundle } from '../../src/bundle/read.ts';
import { selectBackend } from '../../src/model/backend.ts';
import { buildScorer } from '../../src/model/build.ts';
import { AMAZON_CSV, loadCsv } from '../../training/data.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const TEST_CSV = resolve(ROOT, '..', 'shared', 'data', 'test.csv');
const MODEL = join(ROOT, 'models', 'review-sentiment');

test('default bundle: ONNX Runtime equals TensorFlow.js within 1e-5 on every test.csv review', {
  skip: !existsSync(TEST_CSV) && `${TEST_CSV} is absent (the evaluation split lives beside the project)`,
}, async () => {
  await selectBackend('wasm');
  const bundle = await loadBundle(MODEL);
  assert.ok(bundle.manifest.runtime?.onnx, `${bundle.uri} has no model.onnx: run npm run convert`);
  const onnx = await buildScorer(bundle, { runtime: 'onnx' });
  const tfjs = await buildScorer(bundle, { runtime: 'tfjs' });
  assert.equal(onnx.runtime.name, 'onnx');
  assert.equal(tfjs.runtime.name, 'tfjs');
  const { examples } = await loadCsv(TEST_CSV, AMAZON_CSV);
  assert.ok(examples.length > 6000, `${examples.length} rows`);
  const sequences = onnx.encode(examples);
  const [a, b] = await Promise.all([onnx.probabilities(sequences), tfjs.probabilities(sequences)]);
  let worst = { row: -1, k: -1, difference: 0 };
  sequences.forEach((_, row) => {
    for (const [k, p] of (b[row] ?? []).entries()) {
      const difference = Math.abs((a[row]?.[k] ?? Number.NaN) - p);
      if (!(difference <= worst.difference)) worst = { row, k, difference };
    }
  });
  assert.ok(worst.difference <= 1e-5, `row ${worst.row} class ${worst.k} differs by ${worst.difference}`);
  const ratings = async (s: typeof onnx) => (await s.predict(examples.slice(0, 500))).map((p) => p.rating);
  assert.deepEqual(await ratings(onnx), await ratings(tfjs));
  await onnx.dispose();
  await tfjs.dispose();
});
