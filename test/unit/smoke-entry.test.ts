/**
 * The image's smoke test must run (and fail the build when it fails) on any Node: where import.meta.main
 * is missing (before Node 24.2) it decides from the entry path instead of silently doing nothing.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { isEntryPoint } from '../../scripts/smoke.ts';

const SMOKE = join(import.meta.dirname, '..', '..', 'scripts', 'smoke.ts');

test('isEntryPoint: import.meta.main wins where it exists', () => {
  assert.equal(isEntryPoint({ main: true, url: 'file:///x.mts' }, undefined), true);
  assert.equal(isEntryPoint({ main: false, url: pathToFileURL(SMOKE).href }, SMOKE), false);
});

test('isEntryPoint: without import.meta.main, the entry path decides', () => {
  const meta = { url: pathToFileURL(SMOKE).href, filename: SMOKE };
  assert.equal(isEntryPoint(meta, SMOKE), true);
  assert.equal(
    isEntryPoint(meta, join(SMOKE, '..', '..', 'scripts', 'smoke.ts')),
    true,
    'a relative spelling',
  );
  assert.equal(isEntryPoint(meta, '/somewhere/else.mjs'), false);
  assert.equal(isEntryPoint({ url: meta.url }, SMOKE), true, 'older Node: no import.meta.filename either');
  assert.equal(isEntryPoint(meta, undefined), false);
});
