/**
 * Reading one byte range of an input object, aligned to whole lines, so several map tasks can share one
 * large file. A range owns every line that STARTS inside [start, end): it skips the partial line it
 * begins in (the previous range finishes that one) and reads past `end` to finish its last line. Ranges
 * that tile the file therefore see each line exactly once. CSV fields must not contain line breaks for
 * this to hold (JSON Lines never do); split such CSVs into whole files instead.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parse } from 'csv-parse/sync';
import { createS3Client, ModelUriError, openStream, parseModelUri, StoreError } from '../model/store.ts';

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** End, exclusive. */
  end: number;
}

export function checkRange(range: ByteRange): ByteRange {
  const ok = Number.isSafeInteger(range.start) && Number.isSafeInteger(range.end);
  if (!ok || range.start < 0 || range.end <= range.start) {
    throw new RangeError(`byte range ${JSON.stringify(range)}: need integers 0 <= start < end`);
  }
  return range;
}

/** The bytes of the lines starting in `range` (the whole object when no range is given). */
export function openInput(uri: string, range: ByteRange | null, options: { s3?: S3Client } = {}): Readable {
  if (range === null) return openStream(uri, options);
  checkRange(range);
  // From the byte before `start`: if it is a line break, the range starts on a line of its own.
  const from = Math.max(0, range.start - 1);
  const raw = openFrom(uri, from, options);
  return Readable.from(alignLines(raw, from, range), { objectMode: false });
}

/** The header row of a CSV: the line starting at byte 0. */
export async function readCsvHeader(uri: string, options: { s3?: S3Client } = {}): Promise<string[]> {
  const first = await text(openInput(uri, { start: 0, end: 1 }, options));
  const records = parse(first, { bom: true }) as string[][];
  const header = records[0];
  if (!header) throw new StoreError(uri, 'empty input; expected a header row');
  return header;
}

function openFrom(uri: string, from: number, options: { s3?: S3Client }): Readable {
  const trimmed = uri.trim();
  if (!trimmed.startsWith('s3://')) {
    const parsed = parseModelUri(trimmed);
    if (parsed.kind !== 'dir') throw new ModelUriError(`${JSON.stringify(uri)} is not an object URI`);
    return createReadStream(parsed.path, { start: from });
  }
  const rest = trimmed.slice('s3://'.length);
  const slash = rest.indexOf('/');
  if (slash <= 0 || slash === rest.length - 1) {
    throw new ModelUriError(`${JSON.stringify(uri)} does not name an object (s3://bucket/key)`);
  }
  const client = options.s3 ?? createS3Client();
  const command = new GetObjectCommand({
    Bucket: rest.slice(0, slash),
    Key: rest.slice(slash + 1),
    // Open-ended: the last line may run past `end`; the reader stops as soon as it has it.
    Range: `bytes=${from}-`,
  });
  async function* chunks(): AsyncGenerator<Uint8Array> {
    let body: Readable;
    try {
      body = (await client.send(command)).Body as Readable;
    } catch (error) {
      throw new StoreError(uri, `GetObject ${command.input.Range}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    try {
      yield* body;
    } finally {
      body.destroy();
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}

const NEWLINE = 0x0a;

/** `source` starts at absolute offset `from`; yields the lines that start in [range.start, range.end). */
export async function* alignLines(
  source: AsyncIterable<Uint8Array>,
  from: number,
  range: ByteRange,
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
