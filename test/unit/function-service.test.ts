import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { publishBundle } from '../../src/bundle/publish.ts';
import { loadBundle } from '../../src/bundle/read.ts';
import { NotFoundError, UnavailableError } from '../../src/errors.ts';
import { createModelService, type ModelServiceOptions } from '../../src/function/service.ts';
import { type BackendPreference, selectBackend } from '../../src/model/backend.ts';
import { buildScorer } from '../../src/model/build.ts';
import type { RuntimePreference } from '../../src/model/runtime.ts';
import { makeTinyBundle, TINY_TEXTS } from '../helpers/tiny-bundle.ts';

/** The real backend selection and a real logger sink, counted so the tests can see how often each ran. */
function observed(modelUri: string, runtime: RuntimePreference = 'tfjs') {
  const calls = { select: 0 };
  const logs: { level: 'info' | 'error'; msg: string; extra: Record<string, unknown> }[] = [];
  const options: ModelServiceOptions = {
    modelUri,
    runtime,
    backend: 'cpu',
    selectBackend: (preference: BackendPreference) => {
      calls.select += 1;
      return selectBackend(preference);
    },
    logger: {
      info: (msg, extra = {}) => logs.push({ level: 'info', msg, extra: extra as Record<string, unknown> }),
      error: (msg, extra = {}) => logs.push({ level: 'error', msg, extra: extra as Record<string, unknown> }),
    },
  };
  /** Load attempts so far: each ends in one 'model loaded' or 'model load failed' line. */
  const attempts = () => logs.filter((l) => l.msg === 'model loaded' || l.msg === 'model load failed').length;
  return { calls, logs, options, attempts };
}

describe('createModelService', () => {
  let root: string;
  let files: Map<string, Uint8Array>;
  before(async () => {
    await selectBackend('cpu');
    root = await mkdtemp(join(tmpdir(), 'service-'));
    files = (await makeTinyBundle({ version: 'v7' })).files;
    await publishBundle(files, join(root, 'good'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  test('concurrent get() calls share one load; it is logged once with its timings', async () => {
    const { calls, logs, options } = observed(join(root, 'good'));
    const service = createModelService(options);
    const all = await Promise.all([service.get(), service.get(), service.get()]);
    assert.equal(calls.select, 1);
    assert.ok(all.every((m) => m === all[0]));
    assert.equal(await service.get(), all[0], 'a later get() reuses the loaded model');
    assert.equal(calls.select, 1);
    assert.deepEqual(
      logs.map((l) => l.msg),
      ['model loaded'],
    );
    const timings = logs[0]?.extra.timings as Record<string, number>;
    for (const key of ['resolveMs', 'fetchMs', 'verifyMs', 'buildMs', 'warmUpMs', 'loadMs']) {
      assert.ok(Number.isInteger(timings[key]) && (timings[key] ?? -1) >= 0, `${key} = ${timings[key]}`);
    }
    const loaded = all[0];
    assert.ok(loaded);
    assert.equal(loaded.manifest.version, 'v7');
    assert.equal(loaded.uri, join(root, 'good', 'v7/'));
    assert.equal(loaded.backend, 'cpu');
    assert.equal(loaded.runtime, 'tfjs');
    assert.equal(logs[0]?.extra.runtime, 'tfjs');
    assert.equal(logs[0]?.extra.backend, 'cpu');
  });

  test('RUNTIME=auto serves model.onnx with ONNX Runtime and never selects a tfjs backend', async () => {
    const { calls, logs, options } = observed(join(root, 'good'), 'auto');
    const loaded = await createModelService(options).get();
    assert.equal(loaded.runtime, 'onnx');
    assert.equal(loaded.backend, null);
    assert.equal(calls.select, 0);
    assert.equal(logs[0]?.extra.runtime, 'onnx');
    // Same answers as the tfjs files of the same bundle, within 1e-5.
    const tfjs = await createModelService(observed(join(root, 'good'), 'tfjs').options).get();
    const sequences = tfjs.scorer.encode(TINY_TEXTS);
    const [a, b] = await Promise.all([loaded, tfjs].map((m) => m.scorer.probabilities(sequences)));
    sequences.forEach((_, i) => {
      for (const [k, p] of (b?.[i] ?? []).entries()) {
        assert.ok(Math.abs((a?.[i]?.[k] ?? Number.NaN) - p) <= 1e-5, `text ${i} class ${k}`);
      }
    });
  });

  test('on ONNX Runtime only model.onnx and tokenizer.json are read and verified; tfjs reads its own files', async () => {
    const uri = join(root, 'bad-weights');
    await publishBundle(files, uri);
    const weights = join(uri, 'v7', 'weights.bin');
    const bytes = await readFile(weights);
    bytes[0] = (bytes[0] ?? 0) ^ 0xff;
    await writeFile(weights, bytes);
    const { logs, options } = observed(uri, 'auto');
    const onnx = await createModelService(options).get();
    assert.equal(onnx.runtime, 'onnx');
    const onnxBytes =
      (files.get('model.onnx')?.byteLength ?? 0) + (files.get('tokenizer.json')?.byteLength ?? 0);
    assert.equal(logs[0]?.extra.bytes, onnxBytes + (files.get('manifest.json')?.byteLength ?? 0));
    await assert.rejects(
      createModelService(observed(uri, 'tfjs').options).get(),
      /weights\.bin: sha256 [0-9a-f]{64} does not match manifest\.json/,
    );
  });

  test('a bundle without model.onnx is served with tfjs on auto, and refused on RUNTIME=onnx', async () => {
    const uri = join(root, 'no-graph');
    await publishBundle((await makeTinyBundle({ version: 'v1', maskZero: false })).files, uri);
    const auto = await createModelService(observed(uri, 'auto').options).get();
    assert.equal(auto.runtime, 'tfjs');
    const onnx = createModelService(observed(uri, 'onnx').options);
    await assert.rejects(onnx.get(), /RUNTIME=onnx but the bundle has no model\.onnx.*npm run convert/);
  });

  test('the served scorer predicts what the bundle predicts when built directly', async () => {
    const service = createModelService(observed(join(root, 'good')).options);
    const { scorer } = await service.get();
    const direct = await buildScorer(await loadBundle(join(root, 'good', 'v7')));
    assert.deepEqual(await scorer.predict(TINY_TEXTS), await direct.predict(TINY_TEXTS));
  });

  test('status goes idle -> loading -> ready', async () => {
    const uri = join(root, 'good');
    const service = createModelService(observed(uri).options);
    assert.deepEqual(service.status(), { state: 'idle', modelUri: uri });
    const pending = service.get();
    assert.equal(service.status().state, 'loading');
    await pending;
    assert.deepEqual(service.status(), {
      state: 'ready',
      modelUri: uri,
      runtime: 'tfjs',
      backend: 'cpu',
      model: { name: 'tiny-test-model', version: 'v7' },
      labels: ['1', '2', '3', '4', '5'],
    });
  });

  test('a failed load is shared by concurrent callers, then retried by the first get() after its back-off', async () => {
    const uri = join(root, 'later');
    const { calls, logs, options, attempts } = observed(uri);
    let now = 0;
    const service = createModelService({ ...options, clock: () => now, random: () => 0 });
    const failures = await Promise.allSettled([service.get(), service.get()]);
    assert.equal(calls.select, 0, 'the bundle is read before a runtime is chosen');
    for (const failure of failures) {
      assert.equal(failure.status, 'rejected');
      const error = failure.status === 'rejected' ? failure.reason : undefined;
      assert.ok(error instanceof UnavailableError);
      assert.ok(error.cause instanceof NotFoundError);
      assert.match(error.message, new RegExp(`cannot load the model from ${uri}: .*neither manifest\\.json`));
    }
    const status = service.status();
    assert.equal(status.state, 'failed');
    assert.equal(status.retryAfterSeconds, 1);
    assert.match(status.error ?? '', /neither manifest\.json/);
    assert.deepEqual(
      logs.map((l) => `${l.level} ${l.msg}`),
      ['error model load failed'],
    );

    await publishBundle(files, uri);
    now = 999;
    await assert.rejects(service.get(), (e: unknown) => {
      assert.ok(e instanceof UnavailableError);
      assert.equal(e.problem?.headers?.['retry-after'], '1');
      return true;
    });
    assert.equal(attempts(), 1, 'no new load during the back-off, though the bundle is there now');
    now = 1000;
    const loaded = await service.get();
    assert.equal(attempts(), 2);
    assert.equal(calls.select, 1, 'the runtime is chosen once the bundle is read');
    assert.equal(loaded.manifest.version, 'v7');
    assert.equal(service.status().state, 'ready');
    assert.equal(service.status().error, undefined);
  });

  test('back-off doubles from 1 s to 60 s across failed loads', async () => {
    const uri = join(root, 'flaky');
    let now = 0;
    const service = createModelService({ ...observed(uri).options, clock: () => now, random: () => 0 });
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      await assert.rejects(service.get());
      waits.push(service.status().retryAfterSeconds ?? -1);
      now += (service.status().retryAfterSeconds ?? 0) * 1000;
    }
    assert.deepEqual(waits, [1, 2, 4, 8, 16, 32, 60, 60]);
  });

  test('warm() starts a load unless loaded, loading or backing off, and never throws', async () => {
    const uri = join(root, 'warm');
    let now = 0;
    const { options, attempts } = observed(uri);
    const service = createModelService({ ...options, clock: () => now, random: () => 0 });
    service.warm();
    assert.equal(service.status().state, 'loading');
    service.warm();
    await assert.rejects(service.get());
    assert.equal(attempts(), 1, 'warm() while loading shares the load');
    service.warm();
    assert.equal(service.status().state, 'failed', 'backing off: warm() waits');
    await publishBundle(files, uri);
    now = 1000;
    service.warm();
    assert.equal(service.status().state, 'loading');
    assert.equal((await service.get()).manifest.version, 'v7');
    assert.equal(attempts(), 2);
  });
});
