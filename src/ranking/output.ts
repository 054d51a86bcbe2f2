/**
 * Writing a ranking: <out>/<period>/ranking.json and ranking.csv, then <out>/latest.json. Each object
 * is replaced atomically (folder: temp file + rename in DirStore.put; S3: PutObject). latest.json moves
 * last, only after both period files were read back and match what was written, so a run that fails
 * half-way never becomes latest. Same inputs and model give the same bytes apart from generated_at.
 */
import { NotFoundError, UnavailableError } from '../errors.ts';
import type { Store } from '../storage/index.ts';
import type { ProductRow, Ranking } from './rank.ts';

export const RANKING_JSON = 'ranking.json';
export const RANKING_CSV = 'ranking.csv';
export const LATEST = 'latest.json';

export interface Latest {
  period: string;
  from: string;
  to: string;
  /** Key of ranking.json relative to the output root. */
  path: string;
  /** Full URI of ranking.json. */
  uri: string;
  generated_at: string;
}

export interface Published {
  json: string;
  csv: string;
  /** False when latest.json already names a later period (re-running an old week does not move it back). */
  latestMoved: boolean;
}

/** The output contract's key order: period, model, generated_at, then the rest. */
export function renderJson(ranking: Ranking, generatedAt: string): string {
  const { period, model, ...rest } = ranking;
  return `${JSON.stringify({ period, model, generated_at: generatedAt, ...rest }, null, 2)}\n`;
}

const CSV_COLUMNS = ['product_id', 'rank', 'reviews', 'mean_score', 'adjusted_score'] as const;

export function renderCsv(ranking: Ranking): string {
  const withRatings = ranking.check !== undefined;
  const header = withRatings ? [...CSV_COLUMNS, 'mean_rating'] : [...CSV_COLUMNS];
  const line = (row: ProductRow): string => {
    const cells: unknown[] = CSV_COLUMNS.map((column) => row[column]);
    if (withRatings) cells.push(row.mean_rating);
    return cells.map(csvCell).join(',');
  };
  return `${[header.join(','), ...ranking.products.map(line)].join('\n')}\n`;
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export async function publishRanking(
  store: Store,
  ranking: Ranking,
  generatedAt: string = new Date().toISOString(),
): Promise<Published> {
  const label = ranking.period.label;
  const files: [string, Uint8Array, string][] = [
    [`${label}/${RANKING_CSV}`, encode(renderCsv(ranking)), 'text/csv; charset=utf-8'],
    // JSON last: it is what readers follow, so it is never newer than its CSV.
    [`${label}/${RANKING_JSON}`, encode(renderJson(ranking, generatedAt)), 'application/json'],
  ];
  for (const [key, bytes, type] of files) await store.put(key, bytes, type);
  for (const [key, bytes] of files) await verify(store, key, bytes);
  const latestMoved = await moveLatest(store, ranking, generatedAt);
  return {
    json: store.uriOf(`${label}/${RANKING_JSON}`),
    csv: store.uriOf(`${label}/${RANKING_CSV}`),
    latestMoved,
  };
}

async function verify(store: Store, key: string, expected: Uint8Array): Promise<void> {
  const actual = await store.get(key);
  if (Buffer.compare(Buffer.from(actual), Buffer.from(expected)) !== 0) {
    throw new UnavailableError(
      `${store.uriOf(key)}: read back ${actual.byteLength} bytes that differ from those written`,
    );
  }
}

/** Points latest.json at this period unless it already names a later one. */
async function moveLatest(store: Store, ranking: Ranking, generatedAt: string): Promise<boolean> {
  const current = await readLatest(store);
  const { period } = ranking;
  if (current && current.to > period.to) return false;
  const path = `${period.label}/${RANKING_JSON}`;
  const latest: Latest = {
    period: period.label,
    from: period.from,
    to: period.to,
    path,
    uri: store.uriOf(path),
    generated_at: generatedAt,
  };
  await store.put(LATEST, encode(`${JSON.stringify(latest, null, 2)}\n`), 'application/json');
  return true;
}

export async function readLatest(store: Store): Promise<Latest | null> {
  let bytes: Uint8Array;
  try {
    bytes = await store.get(LATEST);
  } catch (error) {
    if (error instanceof NotFoundError) return null;
    throw error;
  }
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as Latest;
  } catch {
    // A corrupt pointer is replaced rather than blocking every later run.
    return null;
  }
}

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
