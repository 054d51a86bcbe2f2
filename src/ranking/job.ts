/**
 * One ranking run, as `npm run rank` does it: choose the period (a date pre-pass when none is given),
 * load the model, map the whole input into one partial, and reduce it. Literally map + reduce, so a run
 * split across map tasks writes the same files.
 */
import { BadRequestError } from '../errors.ts';
import type { BackendPreference } from '../model/backend.ts';
import { createStorage, defaultStorage, type Storage } from '../storage/index.ts';
import { lastDay, mapInput } from './map.ts';
import { lastCompleteWeek, type Period } from './period.ts';
import type { RankOptions } from './rank.ts';
import { type ReduceResult, reduce } from './reduce.ts';
import type { Columns, InputFormat } from './rows.ts';
import { type LoadedScoreBatch, loadScoreBatch } from './score-batch.ts';

export interface RankConfig extends RankOptions {
  reviews: string;
  out: string;
  /** null: the last complete ISO week of the data. */
  period: Period | null;
  model: string;
  columns: Columns;
  /** null: from the extension (.jsonl/.ndjson, else CSV). */
  format: InputFormat | null;
  strict: boolean;
  batchSize: number;
  backend: BackendPreference;
  endpointUrl: string | null;
  region: string | null;
}

export interface RankDeps {
  /** Where input, model and output live; default: from config.endpointUrl/region, else defaultStorage(). */
  storage?: Storage;
  /** A model already loaded (tests, a warm Lambda); else config.model is loaded. */
  scorer?: LoadedScoreBatch;
  log?: (message: string) => void;
  generatedAt?: string;
}

export interface RunResult extends ReduceResult {
  backend: string;
}

export async function runRanking(config: RankConfig, deps: RankDeps = {}): Promise<RunResult> {
  const log = deps.log ?? (() => undefined);
  const storage = deps.storage ?? storageFor(config);
  const format = config.format ?? undefined;
  const io = { storage, ...(format ? { format } : {}) };
  const [period, scorer] = await Promise.all([
    config.period ?? defaultPeriod(config, io, log),
    deps.scorer ?? loadScoreBatch(config.model, { storage, backend: config.backend }),
  ]);
  log(
    `period ${period.label} (${period.from}..${period.to}); model ${scorer.model.name}@${scorer.model.version} on ${scorer.backend}`,
  );
  const started = performance.now();
  const partial = await mapInput(config.reviews, {
    ...io,
    period,
    columns: config.columns,
    scoreBatch: scorer.scoreBatch,
    model: scorer.model,
    batchSize: config.batchSize,
    strict: config.strict,
    onProgress: (c) => {
      const perSec = Math.round(c.scored / ((performance.now() - started) / 1000));
      log(
        `read ${c.rows} rows, scored ${c.scored} (${perSec}/s), ${c.outside_period} outside the period, ${c.bad} bad`,
      );
    },
  });
  const store = storage.store(config.out);
  const result = await reduce([partial], {
    ...config,
    store,
    ...(deps.generatedAt ? { generatedAt: deps.generatedAt } : {}),
  });
  return { ...result, backend: scorer.backend };
}

/** --endpoint-url and --region configure the S3 client; without them the process-wide default serves. */
function storageFor(config: RankConfig): Storage {
  if (config.endpointUrl === null && config.region === null) return defaultStorage();
  return createStorage({
    s3: {
      ...(config.endpointUrl ? { endpoint: config.endpointUrl } : {}),
      ...(config.region ? { region: config.region } : {}),
    },
  });
}

/** A cheap streaming pass over the dates (no scoring) finds the last day; its last complete week is used. */
async function defaultPeriod(
  config: RankConfig,
  io: { storage: Storage; format?: InputFormat },
  log: (message: string) => void,
): Promise<Period> {
  const last = await lastDay(config.reviews, { ...io, columns: config.columns });
  if (last === null)
    throw new BadRequestError(`${config.reviews}: no row with a valid date; give --week or --from/--to`);
  const period = lastCompleteWeek(last);
  log(`no period given: the data ends on ${last}, so the last complete ISO week is ${period.label}`);
  return period;
}
