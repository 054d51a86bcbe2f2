/**
 * Reading one byte range of an input object, aligned to whole lines, so several map tasks can share one
 * large file. A range owns every line that STARTS inside [start, end): it skips the partial line it
 * begins in (the previous range finishes that one) and reads past `end` to finish its last line. Ranges
 * that tile the file therefore see each line exactly once. CSV fields must not contain line breaks for
 * this to hold (JSON Lines never do); split such CSVs into whole files instead.
 *
 * The bytes come from storage (`Storage.stream(uri, range)`: a folder's read offsets or S3 GetObject
 * with `Range`); this file only aligns them to lines.
 */
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { parse } from 'csv-parse/sync';
import { BadRequestError } from '../errors.ts';
import { defaultStorage, type Storage } from '../storage/index.ts';

/** A map task's share of an input: the lines starting in [start, end). Unlike storage ranges, `end` is exclusive. */
export interface InputRange {
  /** First byte, inclusive. */
  start: number;
  /** End, exclusive. */
  end: number;
}

export function checkRange(range: InputRange): InputRange {
  const ok = Number.isSafeInteger(range.start) && Number.isSafeInteger(range.end);
  if (!ok || range.start < 0 || range.end <= range.start) {
    throw new BadRequestError(`byte range ${JSON.stringify(range)}: need integers 0 <= start < end`);
  }
  return range;
}

/** The bytes of the lines starting in `range` (the whole object when no range is given). */
export function openInput(
  uri: string,
  range: InputRange | null,
  options: { storage?: Storage } = {},
): Readable {
  const storage = options.storage ?? defaultStorage();
  if (range === null) return storage.stream(uri);
  checkRange(range);
  // From the byte before `start`: if it is a line break, the range starts on a line of its own.
  const from = Math.max(0, range.start - 1);
  // Open-ended: the last line may run past `end`; alignLines stops (and destroys the read) once it has it.
  const raw = storage.stream(uri, { start: from });
  return Readable.from(alignLines(raw, from, range), { objectMode: false });
}

/** The header row of a CSV: the line starting at byte 0. */
export async function readCsvHeader(uri: string, options: { storage?: Storage } = {}): Promise<string[]> {
  const first = await text(openInput(uri, { start: 0, end: 1 }, options));
  const records = parse(first, { bom: true }) as string[][];
  const header = records[0];
  if (!header) throw new BadRequestError(`${uri}: empty input; expected a header row`);
  return header;
}

const NEWLINE = 0x0a;

/** `source` starts at absolute offset `from`; yields the lines that start in [range.start, range.end). */
export async function* alignLines(
  source: AsyncIterable<Uint8Array>,
  from: number,
  range: InputRange,
): AsyncGenerator<Uint8Array> {
  let position = from;
  let skipping = range.start > 0;
  try {
    for await (const input of source) {
      let chunk = input;
      if (skipping) {
        const newline = chunk.indexOf(NEWLINE);
        if (newline === -1) {
          position += chunk.length;
          continue;
        }
        skipping = false;
        position += newline + 1;
        chunk = chunk.subarray(newline + 1);
        if (position >= range.end) return;
      }
      // Our last line is the one holding byte end-1; it ends at the first line break at or after it.
      const stop = chunk.indexOf(NEWLINE, Math.max(0, range.end - 1 - position));
      if (stop !== -1) {
        yield chunk.subarray(0, stop + 1);
        return;
      }
      position += chunk.length;
      if (chunk.length > 0) yield chunk;
    }
  } finally {
    // Leaving early (range done) must release the file or the HTTP response.
    (source as Partial<Readable>).destroy?.();
  }
}
