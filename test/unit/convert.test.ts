/**
 * `npm run convert`: a bundle without a graph becomes a new version with model.onnx, the same tfjs and
 * tokenizer bytes, the same manifest otherwise, and `latest` moved to it; the served answers equal tfjs's.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Manifest } from '../../src/bundle/manifest.ts';
import { publishBundle } from '../../src/bundle/publish.ts';
import { loadBundle } from '../../src/bundle/read.ts';
import { selectBackend } from '../../src/model/backend.ts';
import { buildScorer } from '../../src/model/build.ts';
import { convertBundle } from '../../training/convert.ts';
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
  assert.ok(result.maxDifference <= 1e-5);
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
  assert.ok(result.onnxBytes < (source.files.get('model.onnx')?.byteLength ?? 0));
  assert.notDeepEqual(quantized.files.get('weights.bin'), source.files.get('weights.bin'));
  assert.deepEqual(quantized.files.get('tokenizer.json'), source.files.get('tokenizer.json'));
  assert.deepEqual(quantized.manifest.runtime?.onnx?.quantization, { kind: 'int8', layers: ['embedding'] });
  assert.match(quantized.manifest.convertedFrom?.note ?? '', /metrics are the source model's/);
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
