/**
 * Lambda entry points for the ranking job, as thin as the CLI: the state machine's Distributed Map runs
 * `mapHandler` once per input object (or byte range), then `reduceHandler` once over the partials.
 * Partials go to storage (a 900-product partial is ~100 KB, too close to the 256 KB state payload limit
 * to pass inline), and each task returns only their URIs. Environment:
 *   MODEL_URI              bundle root or version (required by the map function)
 *   RANKINGS_URI           output root, s3://bucket/prefix/ (required by the reduce function)
 *   RANKING_PARTIALS_URI   where partials go (default <RANKINGS_URI>_partials/)
 *   RANKING_TOP, RANKING_MIN_REVIEWS, RANKING_PRIOR_M   as the CLI's --top, --min-reviews, --prior-m
 * Bundled by scripts/build.ts as dist/ranking.mjs; the image's ImageConfig.Command picks
 * `ranking.mapHandler` or `ranking.reduceHandler`.
 */
import { createHash } from 'node:crypto';
import { BadRequestError } from '../errors.ts';
import { defaultStorage, type Storage } from '../storage/index.ts';
import type { InputRange } from './byte-range.ts';
import { mapInput } from './map.ts';
import { type Partial, parsePartial, serializePartial } from './partial.ts';
import { dayBefore, lastCompleteWeek, type Period, parsePeriodLabel } from './period.ts';
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

/** The period the scheduled run asks for: the last ISO week that ended before the execution started. */
export const LAST_COMPLETE_WEEK = 'last-complete-week';

export interface MapEvent {
  bucket: string;
  key: string;
  range?: InputRange;
  /**
   * '2014-W05', '2014-01-01_2014-06-30', or 'last-complete-week' with `asOf`: every map task of one run
   * gets the same label and the same `asOf` (the execution's start time), so they agree on the period.
   */
  period: string;
  /** ISO timestamp; required with 'last-complete-week'. */
  asOf?: string;
}

export interface MapResult {
  /** null for a folder marker (a key ending in "/", as the S3 console creates): nothing to read. */
  partial: string | null;
  counts: Partial['counts'];
}

export interface ReduceEvent {
  /** The map results' URIs in any order; nulls (folder markers) are ignored. */
  partials: (string | null)[];
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
  storage?: Storage;
  /** A model already loaded; else MODEL_URI is loaded once per execution environment. */
  scorer?: LoadedScoreBatch;
}

export function createHandlers(deps: HandlerDeps = {}) {
  const env = deps.env ?? process.env;
  const storage = deps.storage ?? defaultStorage();
  let scorer: Promise<LoadedScoreBatch> | undefined = deps.scorer && Promise.resolve(deps.scorer);
  const model = (): Promise<LoadedScoreBatch> => {
    scorer ??= loadScoreBatch(required(env, 'MODEL_URI'), { storage }).catch((error: unknown) => {
      scorer = undefined; // a failed load is retried by the next invocation
      throw error;
    });
    return scorer;
  };

  async function map(event: MapEvent): Promise<MapResult> {
    const period = resolvePeriod(event);
    if (event.key.endsWith('/'))
      return { partial: null, counts: { rows: 0, scored: 0, outside_period: 0, bad: 0 } };
    const input = `s3://${event.bucket}/${event.key}`;
    const loaded = await model();
    const partial = await mapInput(input, {
      period,
      columns: DEFAULT_COLUMNS,
      scoreBatch: loaded.scoreBatch,
      model: loaded.model,
      range: event.range ?? null,
      storage,
    });
    const store = storage.store(partialsUri(env));
    const key = `${period.label}/${partialName(input, event.range ?? null)}`;
    await store.put(key, serializePartial(partial), 'application/json');
    return { partial: store.uriOf(key), counts: partial.counts };
  }

  async function reduceAll(event: ReduceEvent): Promise<ReduceResult> {
    if (!Array.isArray(event?.partials))
      throw new BadRequestError('the reduce event needs {"partials": [uri, …]}');
    const uris = event.partials.filter((uri): uri is string => typeof uri === 'string');
    const partials = await Promise.all(
      uris.map(async (uri) => parsePartial(await storage.store(parentOf(uri)).get(baseOf(uri)), uri)),
    );
    const store = storage.store(required(env, 'RANKINGS_URI'));
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

/** A label, or the last complete ISO week before `asOf` (a run on Monday 03:00 ranks the week that just ended). */
export function resolvePeriod(event: Pick<MapEvent, 'period' | 'asOf'>): Period {
  if (event.period !== LAST_COMPLETE_WEEK) return parsePeriodLabel(event.period);
  const asOf = event.asOf === undefined ? Number.NaN : Date.parse(event.asOf);
  if (!Number.isFinite(asOf)) {
    throw new BadRequestError(
      `period "${LAST_COMPLETE_WEEK}" needs asOf, an ISO timestamp; got ${JSON.stringify(event.asOf)}`,
    );
  }
  return lastCompleteWeek(dayBefore(new Date(asOf).toISOString().slice(0, 10)));
}

/** Readable and unique per input and range, so a retried task overwrites its own partial. */
function partialName(input: string, range: InputRange | null): string {
  const id = createHash('sha256')
    .update(`${input}#${range?.start ?? ''}-${range?.end ?? ''}`)
    .digest('hex');
  const base = input.split('/').at(-1) ?? 'input';
  return `${base}.${range ? `${range.start}-${range.end}` : 'all'}.${id.slice(0, 12)}.json`;
}

const parentOf = (uri: string): string => uri.slice(0, uri.lastIndexOf('/') + 1);
const baseOf = (uri: string): string => uri.slice(uri.lastIndexOf('/') + 1);

function partialsUri(env: Record<string, string | undefined>): string {
  return env.RANKING_PARTIALS_URI || `${required(env, 'RANKINGS_URI').replace(/\/*$/, '')}_partials/`;
}

function rankOptions(env: Record<string, string | undefined>): RankOptions {
  const number = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value)) throw new BadRequestError(`${name}=${JSON.stringify(raw)} is not a number`);
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
  if (!value) throw new BadRequestError(`${name} is not set`);
  return value;
}
