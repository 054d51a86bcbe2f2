/**
 * Lambda entry points for the ranking job, as thin as the CLI: a Step Functions map state runs
 * `mapHandler` once per input object or byte range, then `reduceHandler` once over the partials.
 * Partials go to S3 (a 900-product partial is ~100 KB, too close to the 256 KB state payload limit to
 * pass inline), and each task returns only their URIs. Environment:
 *   MODEL_URI              bundle root or version (required)
 *   RANKINGS_URI           output root, s3://bucket/prefix/ (required)
 *   RANKING_PARTIALS_URI   where partials go (default <RANKINGS_URI>_partials/)
 *   RANKING_TOP, RANKING_MIN_REVIEWS, RANKING_PRIOR_M   as the CLI's --top, --min-reviews, --prior-m
 */
import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { createS3Client, createStore } from '../model/store.ts';
import type { ByteRange } from './byte-range.ts';
import { mapInput } from './map.ts';
import { type Partial, parsePartial, serializePartial } from './partial.ts';
import { parsePeriodLabel } from './period.ts';
import {
  DEFAULT_MIN_REVIEWS,
  DEFAULT_PRIOR_M,
  DEFAULT_TOP,
  type ProductRow,
  type RankOptions,
} from './rank.ts';
import { reduce } from './reduce.ts';
import { DEFAULT_COLUMNS } from './rows.ts';
import { type LoadedScoreBatch, loadScoreBatch } from './score-batch.ts';

export interface MapEvent {
  bucket: string;
  key: string;
  range?: ByteRange;
  /** '2014-W05' or '2014-01-01_2014-06-30': every map task of one run gets the same period. */
  period: string;
}

export interface MapResult {
  partial: string;
  counts: Partial['counts'];
}

export interface ReduceEvent {
  partials: string[];
}

export interface ReduceResult {
  period: string;
  json: string;
  csv: string;
  latestMoved: boolean;
  top: ProductRow[];
}

export interface HandlerDeps {
  env?: Record<string, string | undefined>;
  s3?: S3Client;
  /** A model already loaded; else MODEL_URI is loaded once per execution environment. */
  scorer?: LoadedScoreBatch;
}

export function createHandlers(deps: HandlerDeps = {}) {
  const env = deps.env ?? process.env;
  const s3 = deps.s3 ?? createS3Client();
  let scorer: Promise<LoadedScoreBatch> | undefined = deps.scorer && Promise.resolve(deps.scorer);
  const model = (): Promise<LoadedScoreBatch> => {
    scorer ??= loadScoreBatch(required(env, 'MODEL_URI'), { s3 }).catch((error: unknown) => {
      scorer = undefined; // a failed load is retried by the next invocation
      throw error;
    });
    return scorer;
  };

  async function map(event: MapEvent): Promise<MapResult> {
    const period = parsePeriodLabel(event.period);
    const input = `s3://${event.bucket}/${event.key}`;
    const loaded = await model();
    const partial = await mapInput(input, {
      period,
      columns: DEFAULT_COLUMNS,
      scoreBatch: loaded.scoreBatch,
      model: loaded.model,
      range: event.range ?? null,
      s3,
    });
    const store = createStore(partialsUri(env), { s3 });
    const key = `${period.label}/${partialName(input, event.range ?? null)}`;
    await store.put(key, serializePartial(partial), 'application/json');
    return { partial: store.uriOf(key), counts: partial.counts };
  }

  async function reduceAll(event: ReduceEvent): Promise<ReduceResult> {
    const partials = await Promise.all(event.partials.map((uri) => readPartial(uri, s3)));
    const store = createStore(required(env, 'RANKINGS_URI'), { s3 });
    const { ranking, published } = await reduce(partials, { ...rankOptions(env), store });
    return { period: ranking.period.label, ...published, top: ranking.top };
  }

  return { map, reduce: reduceAll };
}

let handlers: ReturnType<typeof createHandlers> | undefined;
const defaults = (): ReturnType<typeof createHandlers> => {
  handlers ??= createHandlers();
  return handlers;
};
export const mapHandler = (event: MapEvent): Promise<MapResult> => defaults().map(event);
export const reduceHandler = (event: ReduceEvent): Promise<ReduceResult> => defaults().reduce(event);

/** Readable and unique per input and range, so a retried task overwrites its own partial. */
function partialName(input: string, range: ByteRange | null): string {
  const id = createHash('sha256')
    .update(`${input}#${range?.start ?? ''}-${range?.end ?? ''}`)
    .digest('hex');
  const base = input.split('/').at(-1) ?? 'input';
  return `${base}.${range ? `${range.start}-${range.end}` : 'all'}.${id.slice(0, 12)}.json`;
}

async function readPartial(uri: string, s3: S3Client): Promise<Partial> {
  const slash = uri.lastIndexOf('/');
  const store = createStore(uri.slice(0, slash + 1), { s3 });
  return parsePartial(await store.get(uri.slice(slash + 1)), uri);
}

function partialsUri(env: Record<string, string | undefined>): string {
  return env.RANKING_PARTIALS_URI ?? `${required(env, 'RANKINGS_URI').replace(/\/*$/, '')}_partials/`;
}

function rankOptions(env: Record<string, string | undefined>): RankOptions {
  const number = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value)) throw new Error(`${name}=${JSON.stringify(raw)} is not a number`);
    return value;
  };
  return {
    top: number('RANKING_TOP', DEFAULT_TOP),
    minReviews: number('RANKING_MIN_REVIEWS', DEFAULT_MIN_REVIEWS),
    priorM: number('RANKING_PRIOR_M', DEFAULT_PRIOR_M),
  };
}

function required(env: Record<string, string | undefined>, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}
