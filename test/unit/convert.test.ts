/**
 * `npm run convert`: a bundle without a graph becomes a new version with model.onnx, the same tfjs and
 * tokenizer bytes, the same manifest otherwise, and `latest` moved to it; the served answers equal tfjs's.
 * With --refit-postprocessing: the same files, post-processing refitted on the bundle's validation split,
 * and the figures in the manifest are the figures the served answers give.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assembleBundle } from '../../src/bundle/files.ts';
import type { Manifest } from '../../src/bundle/manifest.ts';
import { publishBundle } from '../../src/bundle/publish.ts';
import { loadBundle } from '../../src/bundle/read.ts';
import { sha256Hex } from '../../src/common/hash.ts';
import { selectBackend } from '../../src/model/backend.ts';
import { buildScorer } from '../../src/model/build.ts';
import { type CalibrationReport, VIEWS } from '../../training/assess.ts';
import { convertBundle, main } from '../../training/convert.ts';
import { AMAZON_CSV, loadCsv } from '../../training/data.ts';
import { evaluate } from '../../training/evaluate.ts';
import { splitValidation } from '../../training/pipeline.ts';
import { makeTinyBundle, TINY_TEXTS } from '../helpers/tiny-bundle.ts';

let root = '';
before(async () => {
  await selectBackend('cpu');
  root = await mkdtemp(join(tmpdir(), 'convert-'));
  await publishBundle((await makeTinyBundle({ version: 'v1', onnx: false })).files, root);
});
after(() => rm(root, { recursive: true, force: true }));

test('publishes <version>-onnx with model.onnx, the same files and manifest, and moves latest', async () => {
  const result = await convertBundle({ from: root, out: root, backend: 'cpu' });
  assert.equal(result.published.version, 'v1-onnx');
  assert.ok((result.maxDifference ?? Number.POSITIVE_INFINITY) <= 1e-5);
  assert.equal((await readFile(join(root, 'latest'), 'utf8')).trim(), 'v1-onnx');
  const [before, after] = await Promise.all([loadBundle(join(root, 'v1')), loadBundle(root)]);
  assert.equal(after.version, 'v1-onnx');
  for (const name of ['model.json', 'weights.bin', 'tokenizer.json']) {
    assert.deepEqual(after.files.get(name), before.files.get(name), `${name} is copied byte for byte`);
  }
  const strip = (m: Manifest) => {
    const { version, createdAt, files, runtime, convertedFrom, ...rest } = m;
    return { rest, files: Object.keys(files) };
  };
  assert.deepEqual(strip(after.manifest).rest, strip(before.manifest).rest);
  assert.deepEqual(strip(after.manifest).files, [...strip(before.manifest).files, 'model.onnx']);
  assert.equal(after.manifest.runtime?.onnx?.file, 'model.onnx');
  assert.deepEqual(after.manifest.convertedFrom?.version, 'v1');
  assert.equal(after.manifest.convertedFrom?.uri, root);

  const onnx = await buildScorer(after);
  const tfjs = await buildScorer(before);
  assert.equal(onnx.runtime.name, 'onnx');
  assert.equal(tfjs.runtime.name, 'tfjs');
  const sequences = tfjs.encode(TINY_TEXTS);
  const [a, b] = await Promise.all([onnx.probabilities(sequences), tfjs.probabilities(sequences)]);
  sequences.forEach((_, i) => {
    for (const [k, p] of (b[i] ?? []).entries()) assert.ok(Math.abs((a[i]?.[k] ?? Number.NaN) - p) <= 1e-5);
  });
});

test('refuses a bundle that already has a graph, and an existing version', async () => {
  await assert.rejects(
    convertBundle({ from: root, out: root, backend: 'cpu' }),
    /already carries model\.onnx/,
  );
  await assert.rejects(
    convertBundle({ from: join(root, 'v1'), out: root, backend: 'cpu' }),
    /this version already exists/,
  );
});

test('--quantize int8: a smaller graph, dequantised tfjs weights, both runtimes alike, metrics marked', async () => {
  const result = await convertBundle({
    from: root,
    out: root,
    backend: 'cpu',
    quantize: 'int8',
    setLatest: false,
  });
  assert.equal(result.published.version, 'v1-onnx-int8');
  const [source, quantized] = await Promise.all([
    loadBundle(join(root, 'v1-onnx')),
    loadBundle(join(root, 'v1-onnx-int8')),
  ]);
  assert.ok(
    (result.onnxBytes ?? Number.POSITIVE_INFINITY) < (source.files.get('model.onnx')?.byteLength ?? 0),
  );
  assert.notDeepEqual(quantized.files.get('weights.bin'), source.files.get('weights.bin'));
  assert.deepEqual(quantized.files.get('tokenizer.json'), source.files.get('tokenizer.json'));
  assert.deepEqual(quantized.manifest.runtime?.onnx?.quantization, { kind: 'int8', layers: ['embedding'] });
  assert.match(quantized.manifest.convertedFrom?.note ?? '', /the figures are the source model's/);
  const [onnx, tfjs] = await Promise.all([
    buildScorer(quantized),
    buildScorer(quantized, { runtime: 'tfjs', backend: 'cpu' }),
  ]);
  const sequences = tfjs.encode(TINY_TEXTS);
  const [a, b] = await Promise.all([onnx.probabilities(sequences), tfjs.probabilities(sequences)]);
  sequences.forEach((_, i) => {
    for (const [k, p] of (b[i] ?? []).entries()) assert.ok(Math.abs((a[i]?.[k] ?? Number.NaN) - p) <= 1e-5);
  });
});

describe('--refit-postprocessing', () => {
  let dir = '';
  let data = '';
  let testCsv = '';
  const settings = { ...AMAZON_CSV, validationSplit: 0.5, seed: 3, testSplitHash: 0, limit: null };

  /** Rows "label,title,text" whose words the tiny tokenizer knows, so the untrained model varies a little. */
  const csv = (rows: number, offset: number): string =>
    Array.from({ length: rows }, (_, i) => {
      const text = `${TINY_TEXTS[(i + offset) % TINY_TEXTS.length]} ${TINY_TEXTS[(i * 3 + offset) % TINY_TEXTS.length]}`;
      return `"${((i * 7 + offset) % 5) + 1}","${TINY_TEXTS[i % TINY_TEXTS.length]}","${text}"`;
    }).join('\n');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'refit-'));
    data = join(dir, 'train.csv');
    testCsv = join(dir, 'test.csv');
    await writeFile(data, csv(80, 0));
    await writeFile(testCsv, csv(20, 1));
    const { files, manifest } = await makeTinyBundle({ version: 'r1' });
    const { format: _format, files: _files, ...fields } = manifest;
    const training = {
      data: { sha256: sha256Hex(await readFile(data)), validationRows: 40 },
      settings: { ...settings, data, test: testCsv },
    };
    await publishBundle(assembleBundle(files, { ...fields, training }), join(dir, 'models'));
    await publishBundle((await makeTinyBundle({ version: 'bare' })).files, join(dir, 'bare'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('publishes <version>-refit: the same files, post-processing chosen on validation, figures as served', async () => {
    const models = join(dir, 'models');
    const result = await convertBundle({
      from: models,
      out: models,
      refit: { decisions: ['argmax', 'median', 'offsets'] },
      setLatest: false,
    });
    assert.equal(result.published.version, 'r1-refit');
    assert.equal(result.onnxBytes, undefined, 'the graph was there already');
    const [before, after] = await Promise.all([
      loadBundle(join(models, 'r1')),
      loadBundle(join(models, 'r1-refit')),
    ]);
    for (const name of ['model.json', 'weights.bin', 'tokenizer.json', 'model.onnx']) {
      assert.deepEqual(after.files.get(name), before.files.get(name), `${name} is copied byte for byte`);
    }
    assert.deepEqual(after.manifest.postprocessing, result.postprocessing);
    assert.match(
      after.manifest.convertedFrom?.note ?? '',
      /post-processing refitted on the 40 validation rows of/,
    );
    const metrics = after.manifest.metrics as {
      validation: Record<string, { macroF1: number; mae: number; n: number }>;
      test: Record<string, { n: number }>;
      calibration: CalibrationReport;
    };
    assert.deepEqual(
      metrics.calibration.candidates.map((c) => c.decision),
      ['argmax', 'median', 'offsets'],
    );
    assert.deepEqual(Object.keys(metrics.validation), ['title+text', 'text-only']);
    assert.equal(metrics.test['text-only']?.n, 20);
    // The manifest's validation figures are those of the new bundle's own answers on the validation rows.
    const { validation } = splitValidation((await loadCsv(data, AMAZON_CSV)).examples, 0.5, 3);
    const scorer = await buildScorer(after);
    for (const view of ['title+text', 'text-only'] as const) {
      const answers = await scorer.predict(validation.map(VIEWS[view]));
      const labels = after.manifest.labels;
      const m = evaluate(
        Int32Array.from(validation, (e) => labels.indexOf(e.label)),
        answers.map((a) => labels.map((l) => a.probabilities[l] ?? 0)),
        labels,
        after.manifest.labelValues,
        undefined,
        answers.map((a) => labels.indexOf(String(a.rating))),
      );
      assert.equal(m.macroF1, metrics.validation[view]?.macroF1, view);
      assert.equal(m.mae, metrics.validation[view]?.mae, view);
    }
    await scorer.dispose();
  });

  test('--test none drops the test figures rather than keep ones measured under another rule', async () => {
    const models = join(dir, 'models');
    await convertBundle({
      from: join(models, 'r1'),
      out: models,
      version: 'r1-no-test',
      refit: { test: null },
      setLatest: false,
    });
    const metrics = (await loadBundle(join(models, 'r1-no-test'))).manifest.metrics;
    assert.equal(metrics.test, undefined);
    assert.ok(metrics.validation);
  });

  test('refuses other data than the bundle was trained on, and a bundle without its training record', async () => {
    const models = join(dir, 'models');
    await assert.rejects(
      convertBundle({ from: join(models, 'r1'), out: models, version: 'x', refit: { data: testCsv } }),
      /is not the data r1 was trained on .*its validation rows would differ/,
    );
    await assert.rejects(
      convertBundle({ from: join(dir, 'bare'), out: join(dir, 'bare'), refit: {} }),
      /does not record the settings and data hash a refit needs/,
    );
    assert.equal(await main(['--from', models, '--out', models, '--data', data]), 2);
  });
});

test('--quantize does not combine with a refit (which would fit the unquantised model)', async () => {
  await assert.rejects(
    convertBundle({ from: root, out: root, backend: 'cpu', quantize: 'int8', refit: {} }),
    /--quantize and --refit-postprocessing do not combine/,
  );
  assert.equal(await main(['--from', root, '--out', root, '--quantize', 'int4']), 2);
});

test('a refit offers offsets only when asked (--decisions): by default argmax and median', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'refit-rules-'));
  try {
    assert.equal(
      await main(['--from', root, '--out', dir, '--refit-postprocessing', '--decisions', 'median,offsets']),
      2,
      'argmax is the reference and must be listed',
    );
    assert.equal(await main(['--from', root, '--out', dir, '--decisions', 'argmax']), 2, 'only with a refit');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
