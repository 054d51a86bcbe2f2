/** A local folder: an absolute or relative path, or a file:// URI. */
import type { Dirent } from 'node:fs';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createNew, replace, writeFileAtomic } from '../common/atomic-write.ts';
import { BadRequestError, ConflictError, NotFoundError, UnavailableError } from '../errors.ts';
import { type ByteRange, checkByteRange, type StorageKind, type Store } from './store.ts';

export interface DirLocation {
  kind: 'dir';
  path: string;
}

function localPath(uri: string): string {
  const trimmed = uri.trim();
  if (!trimmed.startsWith('file:')) return resolve(trimmed);
  try {
    return fileURLToPath(trimmed);
  } catch (error) {
    throw new BadRequestError(
      `${JSON.stringify(uri)} is not a valid file:// URI (use file:///absolute/path)`,
      { cause: error },
    );
  }
}

export const dirKind: StorageKind<DirLocation> = {
  parse: (uri) => ({ kind: 'dir', path: localPath(uri) }),
  open: (location) => new DirStore(location.path),
  object(uri) {
    const path = localPath(uri);
    return { store: new DirStore(dirname(path)), key: basename(path) };
  },
};

function fsError(uri: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR')
    return new NotFoundError(`${uri}: no such file`, { cause: error });
  if (code === 'EEXIST') return new ConflictError(`${uri}: already exists`, { cause: error });
  const message = error instanceof Error ? error.message : String(error);
  return new UnavailableError(`${uri}: ${message}`, { cause: error });
}

export class DirStore implements Store {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  describe(): string {
    return this.root;
  }

  uriOf(key: string): string {
    return join(this.root, key);
  }

  /** Keys come from manifests and pointers; never let one reach outside the root. */
  #path(key: string): string {
    const path = resolve(this.root, key);
    const inside = relative(this.root, path);
    if (inside.startsWith('..') || isAbsolute(inside)) {
      throw new BadRequestError(`${path}: key ${JSON.stringify(key)} points outside ${this.root}`);
    }
    return path;
  }

  async get(key: string): Promise<Uint8Array> {
    const path = this.#path(key);
    try {
      const buffer = await readFile(path);
      return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    } catch (error) {
      throw fsError(path, error);
    }
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const path = this.#path(key);
    await writeFileAtomic(path, bytes, replace).catch((error: unknown) => {
      throw fsError(path, error);
    });
  }

  /** Like put, but fails with ConflictError instead of replacing. */
  async putNew(key: string, bytes: Uint8Array): Promise<void> {
    const path = this.#path(key);
    await writeFileAtomic(path, bytes, createNew).catch((error: unknown) => {
      throw fsError(path, error);
    });
  }

  async exists(key: string): Promise<boolean> {
    const path = this.#path(key);
    try {
      return (await stat(path)).isFile();
    } catch (error) {
      const mapped = fsError(path, error);
      if (mapped instanceof NotFoundError) return false;
      throw mapped;
    }
  }

  async hasAny(prefix: string): Promise<boolean> {
    const path = this.#path(prefix);
    try {
      return (await readdir(path)).length > 0;
    } catch (error) {
      const mapped = fsError(path, error);
      if (mapped instanceof NotFoundError) return false;
      throw mapped;
    }
  }

  /** Files under `prefix` (a folder, or a name prefix within one), as keys relative to the root. */
  async list(prefix: string): Promise<string[]> {
    const folder = prefix.endsWith('/') || prefix === '' ? prefix : dirname(prefix);
    const path = this.#path(folder);
    let entries: Dirent[];
    try {
      // The entries' own types: one directory read, not a stat per file.
      entries = await readdir(path, { recursive: true, withFileTypes: true });
    } catch (error) {
      const mapped = fsError(path, error);
      if (mapped instanceof NotFoundError) return [];
      throw mapped;
    }
    return entries
      .filter((entry) => entry.isFile())
      .map((entry) => relative(this.root, join(entry.parentPath, entry.name)).split('\\').join('/'))
      .filter((key) => key.startsWith(prefix))
      .sort();
  }

  stream(key: string, range?: ByteRange): Readable {
    const path = this.#path(key);
    checkByteRange(range, path);
    const bounds = range
      ? { start: range.start, ...(range.end === undefined ? {} : { end: range.end }) }
      : {};
    async function* chunks(): AsyncGenerator<Uint8Array> {
      let file: Awaited<ReturnType<typeof open>>;
      try {
        file = await open(path);
      } catch (error) {
        throw fsError(path, error);
      }
      try {
        yield* file.createReadStream({ autoClose: false, ...bounds });
      } finally {
        await file.close();
      }
    }
    return Readable.from(chunks(), { objectMode: false });
  }
}
