/**
 * The map step: stream one input object (or a byte range of it), keep the rows dated in the period,
 * score them in buffers of `batchSize` reviews, and fold the scores into per-product partial sums.
 * Only one buffer of reviews is in memory at a time; reading waits while a buffer is scored.
 */
import { BadRequestError, InternalError } from '../errors.ts';
import type { Storage } from '../storage/index.ts';
import { type InputRange, openInput, readCsvHeader } from './byte-range.ts';
import { Accumulator, PARTIAL_FORMAT, type Partial } from './partial.ts';
import { inPeriod, type Period } from './period.ts';
import { type Columns, formatOf, type InputFormat, type ReviewRow, readRows } from './rows.ts';
import type { ModelInfo, ScoreBatch } from './score-batch.ts';

/** Rows scored together: large enough for length batching to find similar lengths, small enough to stay flat. */
export const DEFAULT_BATCH_SIZE = 2048;

export interface MapOptions {
  period: Period;
  columns: Columns;
  scoreBatch: ScoreBatch;
  model: ModelInfo;
  format?: InputFormat;
  range?: InputRange | null;
  batchSize?: number;
  /** Fail at the first bad row instead of counting it. */
  strict?: boolean;
  /** Where the input is read from (default: folders, and S3 with the environment's credentials). */
  storage?: Storage;
  /** Called after each scored buffer, e.g. for a progress line. */
  onProgress?: (counts: Partial['counts']) => void;
}

export async function mapInput(uri: string, options: MapOptions): Promise<Partial> {
  const format = options.format ?? formatOf(uri);
  const range = options.range ?? null;
  const io = options.storage ? { storage: options.storage } : {};
  // A range that does not start the file has no header row of its own.
  const header =
    format === 'csv' && range !== null && range.start > 0 ? await readCsvHeader(uri, io) : undefined;
  const source = openInput(uri, range, io);
  const events = readRows(source, { format, columns: options.columns, uri, ...(header ? { header } : {}) });
  const acc = new Accumulator();
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  let buffer: ReviewRow[] = [];
  const flush = async (): Promise<void> => {
    if (buffer.length === 0) return;
    const rows = buffer;
    buffer = [];
    const scores = await options.scoreBatch(rows.map((row) => row.review));
    if (scores.length !== rows.length)
      throw new InternalError(`scoreBatch returned ${scores.length} scores for ${rows.length} reviews`);
    rows.forEach((row, i) => {
      acc.add(row.productId, checkedScore(scores[i], row), row.rating);
    });
    options.onProgress?.({ ...acc.counts });
  };
  for await (const event of events) {
    acc.counts.rows++;
    if (event.kind === 'bad') {
      if (options.strict) throw new BadRequestError(`${uri}: line ${event.line}: ${event.reason}`);
      acc.bad({ input: uri, offset: range?.start ?? 0, line: event.line, reason: event.reason });
    } else if (!inPeriod(options.period, event.row.date)) {
      acc.counts.outside_period++;
    } else {
      buffer.push(event.row);
      if (buffer.length >= batchSize) await flush();
    }
  }
  await flush();
  return {
    format: PARTIAL_FORMAT,
    input: { uri, range },
    period: options.period,
    model: options.model,
    counts: acc.counts,
    bad_rows: acc.badRows,
    products: acc.products(),
  };
}

function checkedScore(score: number | undefined, row: ReviewRow): number {
  if (score === undefined || !Number.isFinite(score)) {
    throw new InternalError(`line ${row.line}: the model returned ${String(score)} as a score`);
  }
  return score;
}

/** The pre-pass for a default period: the latest valid day in the input (a cheap scan, no scoring). */
export async function lastDay(
  uri: string,
  options: { columns: Columns; format?: InputFormat; storage?: Storage },
): Promise<string | null> {
  const source = openInput(uri, null, options.storage ? { storage: options.storage } : {});
  let last: string | null = null;
  for await (const event of readRows(source, {
    format: options.format ?? formatOf(uri),
    columns: options.columns,
    uri,
  })) {
    if (event.kind === 'row' && (last === null || event.row.date > last)) last = event.row.date;
  }
  return last;
}
