/** sha256 as lower-case hex: bundle checksums, data hashes, run ids and checkpoints all use this one. */
import { createHash } from 'node:crypto';

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}
