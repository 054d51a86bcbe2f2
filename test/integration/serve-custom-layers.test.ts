/**
 * Bundles of the bag and lstm-pool architectures name custom layers (MaskedPooling, NgramIds) in
 * model.json. A fresh function process, which imports no architecture, must still load and serve them.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { selectBackend } from '../../src/model/backend.ts';
import { makeTinyBundle, writeBundleDir } from '../helpers/tiny-bundle.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
let dir: string;

before(async () => {
  await selectBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'custom-layers-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

for (const arch of ['bag', 'lstm-pool']) {
  test(`a ${arch} bundle is served by a fresh process (npm run invoke)`, async () => {
    const tiny = await makeTinyBundle({ arch, name: 'emotion', labels: ['anger', 'joy'] });
    const modelUri = join(dir, arch);
    await writeBundleDir(modelUri, tiny.files, 'v1', { latest: true });
    const run = spawnSync(process.execPath, ['src/local/invoke.ts', 'events/predictions-4-reviews.json'], {
      cwd: ROOT,
      env: { ...process.env, MODEL_URI: modelUri, TFJS_BACKEND: 'cpu', LOG_LEVEL: 'ERROR' },
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
    const response = JSON.parse(run.stdout) as { statusCode: number; body: string };
    assert.equal(response.statusCode, 200, response.body);
    const body = JSON.parse(response.body) as { predictions: { probabilities: object }[] };
    assert.deepEqual(Object.keys(body.predictions[0]?.probabilities ?? {}), ['anger', 'joy']);
  });
}
