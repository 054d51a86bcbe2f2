/**
 * How every CSV of reviews is parsed (training data, ranking input): csv-parse's options, written once.
 * Column counts are left to the callers, which report a short or long row as one bad row by line rather
 * than letting the first row's count make every later row bad.
 */
import type { Options } from 'csv-parse';

/**
 * No review is a megabyte long (the longest Amazon text is ~20k characters); a longer record is an
 * unclosed quote swallowing the rest of the file, which must fail loudly rather than become one bad row.
 */
export const MAX_RECORD_CHARS = 1_000_000;

export const CSV_OPTIONS = {
  bom: true,
  skip_empty_lines: true,
  relax_column_count: true,
  skip_records_with_error: true,
  max_record_size: MAX_RECORD_CHARS,
  raw: true,
} as const satisfies Options;
