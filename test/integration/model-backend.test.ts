/**
 * Backend selection. The process-wide choices (auto, explicit cpu, explicit node) each run in a fresh child
 * process; the rest runs here on the wasm backend, switching to cpu with tf.setBackend to compare outputs.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import nodeUtil from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { MANIFEST_FILE, MODEL_FILE, parseManifest, TOKENIZER_FILE } from '../../src/bundle/manifest.ts';
import { modelFromFiles } from '../../src/bundle/serialize.ts';
import {
  BACKEND_PREFERENCES,
  isBackendPreference,
  polyfillRemovedNodeUtil,
  selectBackend,
} from '../../src/model/backend.ts';
import { Scorer } from '../../src/model/scorer.ts';
import { TfjsRuntime } from '../../src/model/tfjs-runtime.ts';
import { WordTokenizer } from '../../src/text/tokenizer.ts';
import { makeTinyBundle, TINY_TEXTS } from '../helpers/tiny-bundle.ts';

const BACKEND_MODULE = join(import.meta.dirname, '..', '..', 'src', 'model', 'backend.ts');

/** Runs selectBackend(preference) in a new Node process; returns its info or its error message. */
function selectInChild(preference: string): Promise<{ info?: Record<string, unknown>; error?: string }> {
  const script = `
    import { selectBackend } from ${JSON.stringify(BACKEND_MODULE)};
    try { console.log(JSON.stringify({ info: await selectBackend(${JSON.stringify(preference)}) })); }
    catch (e) { console.log(JSON.stringify({ error: e.message })); }`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], (error, stdout, stderr) => {
      if (error) reject(new Error(`child failed: ${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}'));
    });
  });
}

describe('selectBackend in a fresh process', () => {
  test('auto picks wasm with our kernels here and records why tfjs-node was skipped', async () => {
    const { info, error } = await selectInChild('auto');
    assert.equal(error, undefined);
    assert.equal(info?.preference, 'auto');
    assert.equal(info?.name, 'wasm');
    assert.equal(info?.package, '@tensorflow/tfjs-backend-wasm');
    const tried = info?.tried as { package: string; error: string }[];
    assert.equal(tried.length, 1);
    assert.equal(tried[0]?.package, '@tensorflow/tfjs-node');
    assert.match(tried[0]?.error ?? '', /Cannot find (package|module) '@tensorflow\/tfjs-node'/);
    assert.match(String(info?.detail), /tfjs-backend-wasm-simd\.wasm, 1 thread.*UnsortedSegmentSum/);
    assert.ok(typeof info?.ms === 'number' && info.ms >= 0);
  });

  test('explicit cpu works', async () => {
    const { info } = await selectInChild('cpu');
    assert.equal(info?.name, 'cpu');
    assert.equal(info?.package, '@tensorflow/tfjs-backend-cpu');
    assert.deepEqual(info?.tried, []);
  });

  test('explicit node fails loudly, naming the package and the cause', async () => {
    const { info, error } = await selectInChild('node');
    assert.equal(info, undefined);
    assert.match(
      error ?? '',
      /^backend node \(@tensorflow\/tfjs-node\) failed: Cannot find (package|module)/,
    );
  });
});

describe('selectBackend in this process', () => {
  test('unknown preferences are rejected', async () => {
    assert.deepEqual(BACKEND_PREFERENCES, ['auto', 'node-gpu', 'node', 'wasm', 'cpu']);
    assert.ok(isBackendPreference('wasm'));
    for (const bad of ['gpu', 'WASM', '', null, 3]) assert.equal(isBackendPreference(bad), false);
    await assert.rejects(
      selectBackend('tpu' as 'cpu'),
      /unknown backend preference "tpu": use auto, node-gpu/,
    );
  });

  test('is idempotent; auto accepts the selection, another explicit backend is refused', async () => {
    const first = await selectBackend('wasm');
    assert.equal(first.name, 'wasm');
    assert.equal(await selectBackend('wasm'), first);
    assert.equal(await selectBackend(), first);
    await assert.rejects(
      selectBackend('cpu'),
      /backend already selected: wasm \(@tensorflow\/tfjs-backend-wasm\); cannot switch to cpu/,
    );
  });

  test('the tfjs-node util polyfill adds only what is missing, with the documented semantics', () => {
    const util = nodeUtil as unknown as Record<string, unknown>;
    const hadArray = typeof util.isArray === 'function';
    const added = polyfillRemovedNodeUtil();
    assert.ok(added.includes('isNullOrUndefined') || typeof util.isNullOrUndefined === 'function');
    assert.equal(added.includes('isArray'), !hadArray);
    const isNullOrUndefined = util.isNullOrUndefined as (v: unknown) => boolean;
    assert.deepEqual([null, undefined, 0, '', false].map(isNullOrUndefined), [
      true,
      true,
      false,
      false,
      false,
    ]);
    assert.equal(
      createRequire(import.meta.url)('util').isNullOrUndefined,
      isNullOrUndefined,
      'what CJS sees',
    );
    assert.deepEqual(polyfillRemovedNodeUtil(), [], 'a second call changes nothing');
  });

  test('the tiny bundle gives the same ratings and probabilities on wasm and cpu', async () => {
    await selectBackend('wasm');
    const { files } = await makeTinyBundle();
    const text = (name: string) => JSON.parse(new TextDecoder().decode(files.get(name)));
    const texts = [...TINY_TEXTS, '', 'unknown words only', TINY_TEXTS.join(' ')];
    const predictOn = async (backend: string) => {
      assert.ok(await tf.setBackend(backend));
      const model = await modelFromFiles(text(MODEL_FILE), (path) => files.get(path) ?? new Uint8Array());
      const scorer = new Scorer(
        new TfjsRuntime(model, null, backend),
        new WordTokenizer(text(TOKENIZER_FILE)),
        parseManifest(text(MANIFEST_FILE)),
      );
      const raw = await scorer.probabilities(texts.map((t) => scorer.tokenizer.encode(t, 20)));
      const predictions = await scorer.predict(texts);
      model.dispose();
      return { raw, predictions };
    };
    const cpu = await predictOn('cpu');
    const wasm = await predictOn('wasm');
    assert.deepEqual(
      wasm.predictions.map((p) => p.rating),
      cpu.predictions.map((p) => p.rating),
    );
    wasm.raw.forEach((row, i) => {
      row.forEach((p, k) => {
        const q = cpu.raw[i]?.[k] ?? Number.NaN;
        assert.ok(Math.abs(p - q) <= 1e-5, `text ${i} class ${k}: wasm ${p}, cpu ${q}`);
      });
    });
  });
});
