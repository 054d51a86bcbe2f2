/** Resident memory of another process, read from Linux's /proc (no cooperation from the process needed). */
import { readFile } from 'node:fs/promises';

/** VmRSS of `pid` in MiB; throws where /proc is missing (not Linux) or the process is gone. */
export async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kB = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
  if (kB === undefined) throw new Error(`/proc/${pid}/status has no VmRSS line`);
  return Number(kB) / 1024;
}
