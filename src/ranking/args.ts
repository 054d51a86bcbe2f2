/**
 * `npm run rank` flags: one table defines each flag and its help line, so --help cannot drift from
 * what is parsed. Every usage mistake is a BadRequestError (exit 2), reported before any work starts.
 */
import { parseArgs } from 'node:util';
import { BadRequestError, messageOf } from '../errors.ts';
import { BACKEND_PREFERENCES, isBackendPreference } from '../model/backend.ts';
import type { RankConfig } from './job.ts';
import { DEFAULT_BATCH_SIZE } from './map.ts';
import { parseRange, parseWeek } from './period.ts';
import { DEFAULT_MIN_REVIEWS, DEFAULT_PRIOR_M, DEFAULT_TOP } from './rank.ts';
import { DEFAULT_COLUMNS } from './rows.ts';

interface Flag {
  name: string;
  value: string;
  help: string;
  boolean?: true;
}

const FLAGS: readonly Flag[] = [
  {
    name: 'reviews',
    value: '<uri>',
    help: 'reviews: CSV or JSON Lines, a path or s3://bucket/key (required)',
  },
  { name: 'out', value: '<uri>', help: 'output root: a folder or s3://bucket/prefix/ (required)' },
  { name: 'week', value: 'YYYY-Www', help: 'rank one ISO week (Monday-Sunday, UTC), e.g. 2014-W05' },
  { name: 'from', value: 'YYYY-MM-DD', help: 'rank a range of days from this day (with --to), inclusive' },
  { name: 'to', value: 'YYYY-MM-DD', help: 'last day of the range, inclusive' },
  { name: 'model', value: '<uri>', help: 'model bundle root or version (default models/review-sentiment)' },
  { name: 'top', value: 'N', help: `products in "top" (default ${DEFAULT_TOP})` },
  {
    name: 'min-reviews',
    value: 'N',
    help: `reviews a product needs in the period to be ranked (default ${DEFAULT_MIN_REVIEWS})`,
  },
  {
    name: 'prior-m',
    value: 'M',
    help: `weight of the prior mean, in reviews (default ${DEFAULT_PRIOR_M}; 0 = plain mean)`,
  },
  {
    name: 'format',
    value: 'csv|jsonl',
    help: 'input format (default from the extension: .jsonl/.ndjson, else csv)',
  },
  {
    name: 'product-column',
    value: '<name>',
    help: `column or JSON key of the product id (default ${DEFAULT_COLUMNS.product})`,
  },
  {
    name: 'date-column',
    value: '<name>',
    help: `review date: YYYY-MM-DD or an ISO timestamp (default ${DEFAULT_COLUMNS.date})`,
  },
  { name: 'text-column', value: '<name>', help: `review text (default ${DEFAULT_COLUMNS.text})` },
  {
    name: 'title-column',
    value: '<name>',
    help: `review title, or "none" (default ${DEFAULT_COLUMNS.title})`,
  },
  {
    name: 'rating-column',
    value: '<name>',
    help: 'star rating, only to check the ranking; "none" to ignore (default rating, if present)',
  },
  {
    name: 'strict',
    value: '',
    help: 'fail at the first bad row instead of counting and listing it',
    boolean: true,
  },
  { name: 'batch-size', value: 'N', help: `reviews scored together (default ${DEFAULT_BATCH_SIZE})` },
  {
    name: 'backend',
    value: '<name>',
    help: `TensorFlow.js backend: ${BACKEND_PREFERENCES.join(', ')} (default auto)`,
  },
  {
    name: 'endpoint-url',
    value: '<url>',
    help: 'S3-compatible endpoint for s3:// URIs (e.g. http://127.0.0.1:4569)',
  },
  { name: 'region', value: '<region>', help: 'S3 region (default from the AWS environment)' },
  { name: 'help', value: '', help: 'print this help and exit', boolean: true },
];

export function helpText(): string {
  const left = FLAGS.map((f) => `  --${f.name}${f.value ? ` ${f.value}` : ''}`);
  const width = Math.max(...left.map((l) => l.length)) + 2;
  const lines = FLAGS.map((f, i) => `${(left[i] ?? '').padEnd(width)}${f.help}`);
  return [
    'Usage: npm run rank -- --reviews <uri> --out <uri> [--week YYYY-Www | --from YYYY-MM-DD --to YYYY-MM-DD] [options]',
    '',
    'Ranks products by how positively their reviews in a period read to the model: the mean expected',
    'rating, shrunk toward the period mean by a prior worth --prior-m reviews. Without a period, the last',
    'complete ISO week of the data (found by a quick pass over the dates) is ranked.',
    'Writes <out>/<period>/ranking.json and ranking.csv, then <out>/latest.json.',
    '',
    ...lines,
    '',
    'Exit status: 0 done, 1 failed, 2 usage error.',
    '',
  ].join('\n');
}

export function parseRankArgs(argv: string[]): RankConfig | 'help' {
  const options = Object.fromEntries(
    FLAGS.map((f) => [f.name, { type: f.boolean ? ('boolean' as const) : ('string' as const) }]),
  );
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new BadRequestError(messageOf(error), { cause: error });
  }
  if (values.help) return 'help';
  const text = (name: string): string | undefined => {
    const v = values[name];
    return typeof v === 'string' ? v : undefined;
  };
  const reviews = text('reviews');
  const out = text('out');
  if (!reviews) throw new BadRequestError('--reviews is required (a CSV or JSON Lines path or s3:// URI)');
  if (!out) throw new BadRequestError('--out is required (a folder or s3://bucket/prefix/)');
  const backend = text('backend') ?? 'auto';
  if (!isBackendPreference(backend))
    throw new BadRequestError(`--backend must be one of ${BACKEND_PREFERENCES.join(', ')}`);
  const format = text('format') ?? null;
  if (format !== null && format !== 'csv' && format !== 'jsonl')
    throw new BadRequestError('--format must be csv or jsonl');
  const optional = (name: string, fallback: string | null): string | null => {
    const v = text(`${name}-column`);
    return v === undefined ? fallback : v === 'none' ? null : v;
  };
  const required = (name: string, fallback: string): string => {
    const v = optional(name, fallback);
    if (v === null || v === '') throw new BadRequestError(`--${name}-column cannot be none or empty`);
    return v;
  };
  return {
    reviews,
    out,
    period: period(text('week'), text('from'), text('to')),
    model: text('model') ?? 'models/review-sentiment',
    top: integer('top', text('top'), DEFAULT_TOP, 1),
    minReviews: integer('min-reviews', text('min-reviews'), DEFAULT_MIN_REVIEWS, 1),
    priorM: nonNegative('prior-m', text('prior-m'), DEFAULT_PRIOR_M),
    columns: {
      product: required('product', DEFAULT_COLUMNS.product),
      date: required('date', DEFAULT_COLUMNS.date),
      text: required('text', DEFAULT_COLUMNS.text),
      title: optional('title', DEFAULT_COLUMNS.title),
      rating: optional('rating', DEFAULT_COLUMNS.rating),
      ratingOptional: text('rating-column') === undefined,
    },
    format,
    strict: values.strict === true,
    batchSize: integer('batch-size', text('batch-size'), DEFAULT_BATCH_SIZE, 1),
    backend,
    endpointUrl: text('endpoint-url') ?? null,
    region: text('region') ?? null,
  };
}

function period(
  week: string | undefined,
  from: string | undefined,
  to: string | undefined,
): RankConfig['period'] {
  if (week !== undefined) {
    if (from !== undefined || to !== undefined)
      throw new BadRequestError('give --week or --from/--to, not both');
    return parseWeek(week);
  }
  if (from === undefined && to === undefined) return null;
  if (from === undefined || to === undefined) throw new BadRequestError('--from and --to go together');
  return parseRange(from, to);
}

function integer(name: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min) {
    throw new BadRequestError(`--${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function nonNegative(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < 0) {
    throw new BadRequestError(`--${name} must be a number >= 0, got ${JSON.stringify(raw)}`);
  }
  return value;
}
