/**
 * Writes a file so readers never see half of it, and a crash leaves the old file or the new one: a temp
 * file beside the target, fsynced, then `commit` moves it into place (rename replaces; link refuses an
 * existing target with EEXIST), then the folder is fsynced so the move itself survives a crash. Folder
 * stores and training checkpoints both write this way.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

export type Commit = (temp: string, path: string) => Promise<void>;

/** Replaces `path` atomically. */
export const replace: Commit = rename;
/** Creates `path` atomically; an existing file fails with EEXIST (link(2) never overwrites). */
export const createNew: Commit = link;

export async function writeFileAtomic(
  path: string,
  data: Uint8Array | readonly Uint8Array[],
  commit: Commit = replace,
): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await mkdir(dirname(path), { recursive: true });
    const handle = await open(temp, 'w');
    try {
      await handle.writev(data instanceof Uint8Array ? [data] : [...data]);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await commit(temp, path);
  } finally {
    // After rename the temp name is gone (ENOENT); after link, or on failure, it is removed here.
    await unlink(temp).catch(() => undefined);
  }
  await syncFolder(dirname(path));
}

async function syncFolder(path: string): Promise<void> {
  const folder = await open(path, 'r');
  try {
    await folder.sync();
  } catch {
    // Some platforms cannot fsync a folder; the rename is still atomic there.
  } finally {
    await folder.close();
  }
}
