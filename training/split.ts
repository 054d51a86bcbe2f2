/**
 * A fixed held-out split taken from the training file itself: a row is a test row when the sha1 of its
 * lower-cased text falls in the first `share` of the hash space (the first 8 hex digits read as a
 * fraction of 2^32). It depends on the text alone, not on the seed, the row order or the other rows, so
 * the same command always holds out the same rows, duplicates of one text land on the same side, and
 * the baselines CLI (`training/baselines/run.ts --emotion`) holds out exactly the same rows.
 */
import { createHash } from 'node:crypto';

/** Where a text falls in [0, 1): sha1 of its lower-cased form, first 32 bits. */
export function textHashFraction(text: string): number {
  return (
    Number.parseInt(createHash('sha1').update(text.toLowerCase()).digest('hex').slice(0, 8), 16) / 2 ** 32
  );
}

/** Splits rows into kept (training) and test rows by `textHashFraction(text) < share`, keeping order. */
export function splitByTextHash<T extends { text: string }>(
  rows: readonly T[],
  share: number,
): { rest: T[]; test: T[] } {
  const rest: T[] = [];
  const test: T[] = [];
  for (const row of rows) (textHashFraction(row.text) < share ? test : rest).push(row);
  return { rest, test };
}
