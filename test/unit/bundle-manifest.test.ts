import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { makeVersionId, verifyFiles } from '../../src/bundle/files.ts';
import { type Manifest, ordinalValues, parseManifest } from '../../src/bundle/manifest.ts';
import { sha256Hex } from '../../src/common/hash.ts';
import { InternalError } from '../../src/errors.ts';
import { makeTinyBundle } from '../helpers/tiny-bundle.ts';

describe('manifest', () => {
  test('a created bundle lists every file with its sha256, manifest.json last', async () => {
    const { files, manifest } = await makeTinyBundle();
    assert.deepEqual(
      [...files.keys()],
      ['model.json', 'weights.bin', 'tokenizer.json', 'model.onnx', 'manifest.json'],
    );
    // The graph is recorded with the probe check that admitted it.
    const onnx = manifest.runtime?.onnx;
    assert.equal(onnx?.file, 'model.onnx');
    assert.equal(onnx?.opset, 17);
    const check = onnx?.check as { probes: number; tolerance: number; maxDifference: number };
    assert.equal(check.probes, 200);
    assert.equal(check.tolerance, 1e-5);
    assert.ok(check.maxDifference >= 0 && check.maxDifference <= 1e-5);
    for (const [name, entry] of Object.entries(manifest.files)) {
      assert.equal(entry.sha256, sha256Hex(files.get(name) ?? new Uint8Array()));
    }
    verifyFiles(manifest, files);
  });

  test('verifyFiles names the file that is missing, resized or altered', async () => {
    const { files, manifest } = await makeTinyBundle();
    const without = new Map(files);
    without.delete('weights.bin');
    assert.throws(() => verifyFiles(manifest, without), /weights\.bin is listed/);
    const altered = new Map(files);
    const bytes = Uint8Array.from(files.get('tokenizer.json') ?? []);
    bytes[5] = (bytes[5] ?? 0) ^ 1;
    altered.set('tokenizer.json', bytes);
    assert.throws(
      () => verifyFiles(manifest, altered),
      (e: Error) => e instanceof InternalError && /tokenizer\.json: sha256/.test(e.message),
    );
    altered.set('tokenizer.json', bytes.subarray(1));
    assert.throws(() => verifyFiles(manifest, altered), /tokenizer\.json: \d+ bytes/);
  });

  test('parseManifest rejects what serving cannot use, naming the field', async () => {
    const { manifest } = await makeTinyBundle();
    const bad: [(m: Manifest) => unknown, RegExp][] = [
      [(m) => ({ ...m, format: 'v0' }), /format/],
      [(m) => ({ ...m, version: '../x' }), /version/],
      [(m) => ({ ...m, labels: ['1'] }), /labels/],
      [(m) => ({ ...m, labelValues: [1, 2] }), /labelValues/],
      [(m) => ({ ...m, preprocessing: { ...m.preprocessing, normalizer: 'x' } }), /normalizer/],
      [(m) => ({ ...m, preprocessing: { ...m.preprocessing, maxLen: 0 } }), /maxLen/],
      [
        (m) => ({ ...m, files: { ...m.files, '../etc/passwd': { sha256: 'a'.repeat(64), bytes: 1 } } }),
        /plain file name/,
      ],
      [(m) => ({ ...m, files: { 'model.json': m.files['model.json'] } }), /tokenizer\.json/],
      [
        (m) => ({ ...m, runtime: { onnx: { file: 'missing.onnx', opset: 17 } } }),
        /runtime\.onnx\.file must name a file the manifest lists/,
      ],
      [() => 'nope', /not a JSON object/],
      [
        (m) => ({ ...m, postprocessing: { temperature: 1, decision: 'offsets' } }),
        /postprocessing\.offsets must list one number per label \(5\)/,
      ],
      [
        (m) => ({ ...m, postprocessing: { temperature: 1, decision: 'offsets', offsets: [0, 0.1, 0.2] } }),
        /postprocessing\.offsets must list one number per label \(5\)/,
      ],
      [
        (m) => ({
          ...m,
          postprocessing: { temperature: 1, decision: 'offsets', offsets: [0, 0.1, null, 0, 0] },
        }),
        /postprocessing\.offsets\[2\] must be a finite number, got null/,
      ],
      [
        (m) => ({
          ...m,
          postprocessing: { temperature: 1, decision: 'offsets', offsets: [0, '0.1', 0, 0, 0] },
        }),
        /postprocessing\.offsets\[1\] must be a finite number/,
      ],
      [
        (m) => ({ ...m, postprocessing: { temperature: 1, decision: 'argmax', offsets: [0, 0, 0, 0, 0] } }),
        /postprocessing\.offsets is only read with decision "offsets", not "argmax"/,
      ],
      [(m) => ({ ...m, postprocessing: { temperature: 1, decision: 'mode' } }), /argmax, median, offsets/],
    ];
    for (const [mutate, message] of bad)
      assert.throws(() => parseManifest(mutate(structuredClone(manifest))), message);
  });

  test('parseManifest takes offsets with one finite number per label, and bundles without post-processing', async () => {
    const { manifest } = await makeTinyBundle();
    const offsets = { temperature: 0.96, decision: 'offsets', offsets: [0, 0.15, 0.12, -0.02, -0.2] };
    assert.deepEqual(
      parseManifest({ ...structuredClone(manifest), postprocessing: offsets }).postprocessing,
      offsets,
    );
    const { postprocessing: _, ...old } = structuredClone(manifest);
    assert.equal(parseManifest(old).postprocessing, undefined);
  });

  test('a model the graph cannot reproduce is refused, not published without its graph', async () => {
    // An unmasked embedding cannot be reproduced by the graph (it would read padding as words).
    await assert.rejects(makeTinyBundle({ maskZero: false, onnx: true }), /only maskZero embeddings export/);
  });

  test('ordinal labels get numeric values, others none', () => {
    assert.deepEqual(ordinalValues(['1', '2', '3', '4', '5']), [1, 2, 3, 4, 5]);
    assert.equal(ordinalValues(['joy', 'fear']), null);
    assert.equal(ordinalValues(['5', '1']), null);
  });

  test('version ids sort by time and carry the data hash', () => {
    const id = makeVersionId(new Date('2026-11-21T21:45:00.123Z'), 'abcdef0123456789');
    assert.equal(id, '20261121T214500Z-abcdef01');
  });
});
