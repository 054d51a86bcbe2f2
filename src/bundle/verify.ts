/**
 * The checksum rule, on its own so that reading a bundle (serving) needs nothing that builds one (the
 * exporter and TensorFlow.js come in through ./files.ts).
 */
import { sha256Hex } from '../common/hash.ts';
import { InternalError } from '../errors.ts';
import type { Manifest } from './manifest.ts';

/**
 * Throws InternalError naming the first of `names` (default: every listed file) that is not listed, is
 * missing, has the wrong size or the wrong sha256.
 */
export function verifyFiles(
  manifest: Manifest,
  files: ReadonlyMap<string, Uint8Array>,
  names: readonly string[] = Object.keys(manifest.files),
): void {
  for (const path of names) {
    const entry = manifest.files[path];
    if (!entry) throw new InternalError(`${path} is not listed in manifest.json`);
    const bytes = files.get(path);
    if (!bytes) throw new InternalError(`${path} is listed in manifest.json but was not read`);
    if (bytes.byteLength !== entry.bytes) {
      throw new InternalError(`${path}: ${bytes.byteLength} bytes, manifest.json says ${entry.bytes}`);
    }
    const actual = sha256Hex(bytes);
    if (actual !== entry.sha256) {
      throw new InternalError(`${path}: sha256 ${actual} does not match manifest.json (${entry.sha256})`);
    }
  }
}
