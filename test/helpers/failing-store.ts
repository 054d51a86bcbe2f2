/** A store that fails its n-th put and passes everything else through: a crash in the middle of a write. */
import { UnavailableError } from '../../src/errors.ts';
import type { Store } from '../../src/storage/index.ts';

export function failingOnPut(store: Store, n: number): Store {
  let puts = 0;
  return {
    describe: () => store.describe(),
    uriOf: (key) => store.uriOf(key),
    get: (key) => store.get(key),
    put: async (key, bytes, type) => {
      if (++puts === n) throw new UnavailableError(`injected failure on put ${n} (${key})`);
      return store.put(key, bytes, type);
    },
    putNew: (key, bytes, type) => store.putNew(key, bytes, type),
    exists: (key) => store.exists(key),
    hasAny: (prefix) => store.hasAny(prefix),
    list: (prefix) => store.list(prefix),
    stream: (key, range) => store.stream(key, range),
  };
}
