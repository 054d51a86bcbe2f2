/**
 * Review rows from a CSV (header row naming the columns) or JSON Lines byte stream, one at a time, so
 * memory stays flat however long the input is. A malformed row becomes a `bad` event with its line and
 * the reason; the caller decides whether that is fatal (--strict).
 */

import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { type CsvError, parse } from 'csv-parse';
import { CSV_OPTIONS } from '../common/csv.ts';
import { BadRequestError } from '../errors.ts';
import type { Review } from '../text/review.ts';
import { utcDayOf } from './period.ts';

export type InputFormat = 'csv' | 'jsonl';

export interface Columns {
  product: string;
  date: string;
  text: string;
  /** null: the input has no titles. */
  title: string | null;
  /** null: no ratings. */
  rating: string | null;
  /** The default rating column may be absent from a CSV header; a named one must be there. */
  ratingOptional: boolean;
}

export const DEFAULT_COLUMNS: Columns = Object.freeze({
  product: 'product_id',
  date: 'date',
  text: 'text',
  title: 'title',
  rating: 'rating',
  ratingOptional: true,
});

export interface ReviewRow {
  /** 1-based line the row starts on (within the byte range, when reading one). */
  line: number;
  productId: string;
  /** UTC day, YYYY-MM-DD. */
  date: string;
  review: Review;
  /** Star rating when the input has one; never used for ranking, only to check it. */
  rating: number | null;
}

export type RowEvent = { kind: 'row'; row: ReviewRow } | { kind: 'bad'; line: number; reason: string };

export function formatOf(uri: string): InputFormat {
  return /\.(jsonl|ndjson)(\.|$)/i.test(uri) ? 'jsonl' : 'csv';
}

export interface ReadOptions {
  format: InputFormat;
  columns: Columns;
  /** Names errors. */
  uri: string;
  /** CSV header fields when the stream starts mid-file (a byte range); else the first record is the header. */
  header?: readonly string[];
}

export function readRows(source: Readable, options: ReadOptions): AsyncGenerator<RowEvent> {
  return options.format === 'jsonl' ? readJsonl(source, options) : readCsv(source, options);
}

// ---- CSV ----------------------------------------------------------------------------------------------

interface CsvIndexes {
  product: number;
  date: number;
  text: number;
  title: number | null;
  rating: number | null;
  width: number;
}

type CsvItem = { fields: string[]; line: number } | { error: string; line: number };

async function* readCsv(source: Readable, options: ReadOptions): AsyncGenerator<RowEvent> {
  let indexes = options.header ? csvIndexes(options.header, options) : null;
  for await (const item of csvRecords(source)) {
    if ('error' in item) {
      if (indexes === null)
        throw new BadRequestError(`${options.uri}: line ${item.line}: bad header: ${item.error}`);
      yield { kind: 'bad', line: item.line, reason: item.error };
    } else if (indexes === null) {
      indexes = csvIndexes(item.fields, options);
    } else {
      yield csvEvent(item.fields, item.line, indexes);
    }
  }
  if (indexes === null) throw new BadRequestError(`${options.uri}: empty input; expected a header row`);
}

/** Parsed records and unparseable ones in file order, each with the line it starts on. */
function csvRecords(source: Readable): AsyncIterable<CsvItem> {
  const skipped: CsvItem[] = [];
  const parser = parse({
    ...CSV_OPTIONS,
    on_record: (entry: unknown, context) => {
      const { record, raw } = entry as { record: string[]; raw: string };
      const item: CsvItem = { fields: record, line: startLine(context.lines, raw) };
      // csv-parse types on_record as returning string[]; it passes on whatever we return.
      return item as unknown as string[];
    },
    on_skip: (error: CsvError | undefined, raw: string | undefined) => {
      if (error?.code === 'CSV_MAX_RECORD_SIZE') throw error;
      const line = startLine(typeof error?.lines === 'number' ? error.lines : 0, raw);
      // One broken record may report several errors; it is one bad row.
      if (skipped.at(-1)?.line === line) return undefined;
      skipped.push({ error: `unparseable quoting: ${error?.message ?? 'CSV error'}`, line });
      return undefined;
    },
  });
  source.on('error', (error) => parser.destroy(error));
  source.pipe(parser);
  return mergeSkipped(parser as AsyncIterable<CsvItem>, skipped);
}

/** Unparseable records are reported beside the stream; put them back in line order. */
async function* mergeSkipped(records: AsyncIterable<CsvItem>, skipped: CsvItem[]): AsyncGenerator<CsvItem> {
  for await (const record of records) {
    while (skipped.length > 0 && (skipped[0]?.line ?? 0) < record.line) yield skipped.shift() as CsvItem;
    yield record;
  }
  yield* skipped;
}

/** csv-parse reports the line a record ends on; a quoted field may span lines, so count back. */
function startLine(endLine: number, raw: string | undefined): number {
  const inner = (raw ?? '').replace(/\r?\n$|\r$/, '');
  let breaks = 0;
  for (const char of inner) if (char === '\n') breaks++;
  return Math.max(1, endLine - breaks);
}

function csvIndexes(header: readonly string[], options: ReadOptions): CsvIndexes {
  const names = header.map((name) => name.trim());
  const { columns, uri } = options;
  const find = (flag: string, name: string): number => {
    const index = names.indexOf(name);
    if (index >= 0) return index;
    const listed = names.map((n) => JSON.stringify(n)).join(', ');
    throw new BadRequestError(
      `${uri}: ${flag} ${JSON.stringify(name)} is not in the header; its columns are ${listed}`,
    );
  };
  const rating =
    columns.rating === null || (columns.ratingOptional && !names.includes(columns.rating))
      ? null
      : find('--rating-column', columns.rating);
  return {
    product: find('--product-column', columns.product),
    date: find('--date-column', columns.date),
    text: find('--text-column', columns.text),
    title: columns.title === null ? null : find('--title-column', columns.title),
    rating,
    width: names.length,
  };
}

function csvEvent(fields: string[], line: number, at: CsvIndexes): RowEvent {
  if (fields.length !== at.width) {
    return { kind: 'bad', line, reason: `${fields.length} columns, expected ${at.width}` };
  }
  const cell = (index: number | null): string | null => (index === null ? null : (fields[index] ?? ''));
  return rowEvent(line, {
    product: cell(at.product),
    date: cell(at.date),
    text: cell(at.text),
    title: cell(at.title),
    rating: cell(at.rating),
  });
}

// ---- JSON Lines ---------------------------------------------------------------------------------------

async function* readJsonl(source: Readable, options: ReadOptions): AsyncGenerator<RowEvent> {
  const lines = createInterface({ input: source, crlfDelay: Number.POSITIVE_INFINITY });
  const { columns } = options;
  let line = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      yield { kind: 'bad', line, reason: `invalid JSON: ${(error as Error).message}` };
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      yield { kind: 'bad', line, reason: 'not a JSON object' };
      continue;
    }
    const record = value as Record<string, unknown>;
    const field = (name: string | null): string | null => {
      const v = name === null ? null : record[name];
      return typeof v === 'string' || typeof v === 'number' ? String(v) : null;
    };
    yield rowEvent(line, {
      product: field(columns.product),
      date: field(columns.date),
      text: field(columns.text),
      title: field(columns.title),
      rating: field(columns.rating),
    });
  }
}

// ---- Shared -------------------------------------------------------------------------------------------

interface Cells {
  product: string | null;
  date: string | null;
  text: string | null;
  title: string | null;
  rating: string | null;
}

function rowEvent(line: number, cells: Cells): RowEvent {
  const productId = cells.product?.trim() ?? '';
  if (productId === '') return { kind: 'bad', line, reason: 'missing product id' };
  const text = cells.text?.trim() ?? '';
  if (text === '') return { kind: 'bad', line, reason: 'missing text' };
  const date = cells.date === null ? null : utcDayOf(cells.date);
  if (date === null) return { kind: 'bad', line, reason: `bad date ${JSON.stringify(cells.date ?? null)}` };
  const title = cells.title?.trim() || null;
  return {
    kind: 'row',
    row: { line, productId, date, review: { text, title }, rating: parseRating(cells.rating) },
  };
}

/** A missing or non-numeric rating is no rating: ratings only check the ranking, so the review still counts. */
function parseRating(cell: string | null): number | null {
  if (cell === null || cell.trim() === '') return null;
  const value = Number(cell);
  return Number.isFinite(value) ? value : null;
}
