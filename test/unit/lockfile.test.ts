/**
 * `npm ci` refuses a lockfile that lacks an entry for any optional dependency, even one for another
 * platform. This machine's registry mirror serves only Linux builds of some packages (biome), so an
 * `npm install` here can silently drop the others' entries and break CI and the Docker build.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

interface LockEntry {
  version?: string;
  optionalDependencies?: Record<string, string>;
}

test('package-lock.json has an entry for every optional dependency (npm ci needs them all)', () => {
  const lock = JSON.parse(readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  const missing: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    for (const dep of Object.keys(entry.optionalDependencies ?? {})) {
      const nested = `${path ? `${path}/` : ''}node_modules/${dep}`;
      if (!lock.packages[nested] && !lock.packages[`node_modules/${dep}`])
        missing.push(`${dep} (of ${path || 'root'})`);
    }
  }
  assert.deepEqual(
    missing,
    [],
    'restore the entries (see the commit that added this test) before committing',
  );
});
