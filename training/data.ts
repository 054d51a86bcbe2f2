/**
 * Training data: streams a labelled-text CSV (a local path or an s3:// URI) into examples. The bytes are
 * hashed as they are read (one pass), so the data's sha256 can name the bundle version. Malformed rows
 * are skipped and listed with their line numbers, or fail the run at the first one in strict mode.
 */
import { createHash } from 'node:crypto';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type CsvError, parse } from 'csv-parse';
import { CSV_OPTIONS } from '../src/common/csv.ts';
import { BadRequestError } from '../src/errors.ts';
import { defaultStorage, type Storage } from '../src/storage/index.ts';
import type { Review } from '../src/text/review.ts';

export interface CsvOptions {
  /** The first row names the columns (and is not data). */
  header: boolean;
  /** Column name (needs header) or 0-based index. */
  labelColumn: string | number;
  textColumn: string | number;
  titleColumn: string | number | null;
  /** Prepend the title to the text; needs titleColumn. */
  includeTitle: boolean;
  /** Fail at the first malformed row instead of skipping it. */
  strict: boolean;
}

/** Amazon Review Full shape: no header; rating (1-5), title, text. */
export const AMAZON_CSV: CsvOptions = Object.freeze({
  header: false,
  labelColumn: 0,
  titleColumn: 1,
  textColumn: 2,
  includeTitle: true,
  strict: false,
});

/** One labelled review; reviewText(example) is what the model reads (title and text joined). */
export interface Example extends Review {
  label: string;
  text: string;
  /** The title when the title column is used and non-empty, else null. */
  title: string | null;
  /** 1-based line where the row starts. */
  line: number;
}

export interface BadRow {
  line: number;
  reason: string;
}

export interface Dataset {
  uri: string;
  examples: Example[];
  badRows: BadRow[];
  /** Data rows read (good and bad), header excluded. */
  rows: number;
  /** sha256 of the raw bytes of the file. */
  sha256: string;
  labels: string[];
}

/** Reads the whole CSV at a path or s3://bucket/key. */
export async function loadCsv(
  uri: string,
  options: CsvOptions,
  deps: { storage?: Storage } = {},
): Promise<Dataset> {
  validateOptions(options);
  // A missing file or object fails with a NotFoundError that names it.
  return readCsv((deps.storage ?? defaultStorage()).stream(uri), uri, options);
}

/** Parses a CSV byte stream; `uri` names it in errors and in the result. */
export async function readCsv(source: Readable, uri: string, options: CsvOptions): Promise<Dataset> {
  validateOptions(options);
  const hash = createHash('sha256');
  const hasher = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  const rows = new RowCollector(uri, options);
  const parser = parse({
    ...CSV_OPTIONS,
    on_record: (record: unknown, context) => {
      rows.record(fieldsOf(record), startLine(context.lines, context.raw));
      return null; // collected above; nothing flows downstream
    },
    on_skip: (error: CsvError | undefined, raw: string | undefined) => {
      rows.unparseable(error, raw);
      return undefined;
    },
  });
  await pipeline(source, hasher, parser, async (records: AsyncIterable<unknown>) => {
    for await (const _ of records);
  });
  return rows.finish(hash.digest('hex'));
}

/** Numeric labels ascending ("1".."5", "10" after "9"), otherwise by code point (locale-independent). */
export function sortLabels(labels: Iterable<string>): string[] {
  const unique = [...new Set(labels)];
  const numeric = unique.length > 0 && unique.every((label) => /^-?\d+(\.\d+)?$/.test(label));
  const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return unique.sort(numeric ? (a, b) => Number(a) - Number(b) || byCodePoint(a, b) : byCodePoint);
}

interface Columns {
  label: number;
  text: number;
  title: number | null;
}

/** Turns parsed records into examples and bad rows, in file order. */
class RowCollector {
  readonly #uri: string;
  readonly #options: CsvOptions;
  readonly #examples: Example[] = [];
  readonly #badRows: BadRow[] = [];
  readonly #labels = new Set<string>();
  #columns: Columns | null = null;
  #expectedLength: number | null = null;
  #rows = 0;

  constructor(uri: string, options: CsvOptions) {
    this.#uri = uri;
    this.#options = options;
    if (!options.header) this.#columns = indexColumns(options, uri);
  }

  record(fields: string[], line: number): void {
    if (this.#columns === null) {
      this.#columns = headerColumns(this.#options, fields, this.#uri);
      this.#expectedLength = fields.length;
      return;
    }
    this.#rows++;
    const reason = this.#check(fields, this.#columns);
    if (reason !== null) {
      this.#bad(line, reason);
      return;
    }
    const label = (fields[this.#columns.label] ?? '').trim();
    const title = this.#columns.title === null ? '' : (fields[this.#columns.title] ?? '').trim();
    const text = (fields[this.#columns.text] ?? '').trim();
    this.#labels.add(label);
    this.#examples.push({ label, text, title: title.length > 0 ? title : null, line });
  }

  /** A record csv-parse could not parse; one record may report several errors, so keep the first. */
  unparseable(error: CsvError | undefined, raw: string | undefined): void {
    const at = typeof error?.lines === 'number' ? error.lines : 0;
    const line = startLine(at, raw);
    if (this.#columns === null) {
      throw new BadRequestError(
        `${this.#uri}: line ${line}: the header row is unparseable: ${error?.message}`,
      );
    }
    if (error?.code === 'CSV_MAX_RECORD_SIZE') {
      // csv-parse drops the rest of the chunk after this error, so skipping it would lose rows silently.
      throw new BadRequestError(`${this.#uri}: line ${line}: ${error.message} (an unclosed quote?)`);
    }
    if (this.#badRows.at(-1)?.line === line) return;
    this.#rows++;
    this.#bad(line, `unparseable quoting: ${error?.message ?? 'unknown CSV error'}`);
  }

  finish(sha256: string): Dataset {
    if (this.#columns === null)
      throw new BadRequestError(`${this.#uri}: the file is empty; expected a header row`);
    if (this.#examples.length === 0) {
      const first = this.#badRows[0];
      const why = first ? `; first bad row: line ${first.line}: ${first.reason}` : '';
      throw new BadRequestError(`${this.#uri}: no usable rows (${this.#badRows.length} bad)${why}`);
    }
    return {
      uri: this.#uri,
      examples: this.#examples,
      badRows: this.#badRows,
      rows: this.#rows,
      sha256,
      labels: sortLabels(this.#labels),
    };
  }

  #check(fields: string[], columns: Columns): string | null {
    const needed = Math.max(columns.label, columns.text, columns.title ?? 0) + 1;
    // Without a header, the first row with enough columns sets the count every later row must have.
    if (this.#expectedLength === null && fields.length >= needed) this.#expectedLength = fields.length;
    if (this.#expectedLength === null) return `${fields.length} columns, need at least ${needed}`;
    if (fields.length !== this.#expectedLength)
      return `${fields.length} columns, expected ${this.#expectedLength}`;
    if ((fields[columns.label] ?? '').trim() === '') return 'empty label';
    if ((fields[columns.text] ?? '').trim() === '') return 'empty text';
    return null;
  }

  #bad(line: number, reason: string): void {
    if (this.#options.strict) throw new BadRequestError(`${this.#uri}: line ${line}: ${reason}`);
    this.#badRows.push({ line, reason });
  }
}

/** With `raw: true` csv-parse hands on_record `{ record, raw }`, although its types promise `string[]`. */
function fieldsOf(entry: unknown): string[] {
  const fields = Array.isArray(entry) ? entry : (entry as { record?: unknown } | null)?.record;
  if (!Array.isArray(fields)) throw new Error(`csv-parse produced an unexpected record: ${typeof entry}`);
  return fields as string[];
}

/**
 * csv-parse reports the line a record (or error) ends on; a quoted field may span lines, so count the
 * line breaks inside the raw text (not the record's own terminator) to get the line it starts on.
 */
function startLine(endLine: number, raw: string | undefined): number {
  const inner = (raw ?? '').replace(/\r?\n$|\r$/, '');
  let breaks = 0;
  for (const char of inner) if (char === '\n') breaks++;
  return Math.max(1, endLine - breaks);
}

function validateOptions(options: CsvOptions): void {
  const columns: [string, unknown][] = [
    ['labelColumn', options.labelColumn],
    ['textColumn', options.textColumn],
  ];
  if (options.titleColumn !== null) columns.push(['titleColumn', options.titleColumn]);
  for (const [name, value] of columns) {
    const index = typeof value === 'number' && Number.isInteger(value) && value >= 0;
    const label = typeof value === 'string' && value.length > 0;
    if (!index && !label) {
      throw new BadRequestError(
        `${name} must be a column name or a 0-based index, got ${JSON.stringify(value)}`,
      );
    }
  }
  if (options.includeTitle && options.titleColumn === null) {
    throw new BadRequestError('includeTitle needs a titleColumn (or set includeTitle to false)');
  }
}

/** Resolves the label, text and (when used) title columns with `index`, which throws for a bad one. */
function resolveColumns(
  options: CsvOptions,
  uri: string,
  index: (option: string, value: string | number) => number,
): Columns {
  return distinct(
    {
      label: index('labelColumn', options.labelColumn),
      text: index('textColumn', options.textColumn),
      title:
        options.includeTitle && options.titleColumn !== null
          ? index('titleColumn', options.titleColumn)
          : null,
    },
    uri,
  );
}

function indexColumns(options: CsvOptions, uri: string): Columns {
  const index = (name: string, value: string | number): number => {
    if (typeof value === 'number') return value;
    throw new BadRequestError(
      `${uri}: ${name} ${JSON.stringify(value)} is a name, but the file has no header; use a 0-based index`,
    );
  };
  return resolveColumns(options, uri, index);
}

function headerColumns(options: CsvOptions, header: string[], uri: string): Columns {
  const names = header.map((name) => name.trim());
  const listed = names.map((name) => JSON.stringify(name)).join(', ');
  const index = (option: string, value: string | number): number => {
    const found = typeof value === 'number' ? (value < names.length ? value : -1) : names.indexOf(value);
    if (found >= 0) return found;
    const what = typeof value === 'number' ? `index ${value}` : JSON.stringify(value);
    throw new BadRequestError(`${uri}: ${option} ${what} is not in the header; its columns are ${listed}`);
  };
  return resolveColumns(options, uri, index);
}

function distinct(columns: Columns, uri: string): Columns {
  if (columns.label === columns.text || columns.title === columns.label || columns.title === columns.text) {
    throw new BadRequestError(
      `${uri}: label, text and title must be different columns (got ${JSON.stringify(columns)})`,
    );
  }
  return columns;
}
