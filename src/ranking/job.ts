/**
 * One ranking run, as `npm run rank` does it: choose the period (a date pre-pass when none is given),
 * load the model, map the whole input into one partial, and reduce it. Literally map + reduce, so a run
 * split across map tasks writes the same files.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { BackendPreference } from '../model/backend.ts';
import { createS3Client, createStore } from '../model/store.ts';
import { lastDay, mapInput } from './map.ts';
import { lastCompleteWeek, type Period } from './period.ts';
import type { RankOptions } from './rank.ts';
import { type ReduceResult, reduce } from './reduce.ts';
import { type Columns, InputError, type InputFormat } from './rows.ts';
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
  s3?: S3Client;
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
  const s3 = deps.s3 ?? s3For(config);
  const format = config.format ?? undefined;
  const io = { ...(s3 ? { s3 } : {}), ...(format ? { format } : {}) };
  const [period, scorer] = await Promise.all([
    config.period ?? defaultPeriod(config, io, log),
    deps.scorer ?? loadScoreBatch(config.model, { ...(s3 ? { s3 } : {}), backend: config.backend }),
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
  const store = createStore(config.out, s3 ? { s3 } : {});
  const result = await reduce([partial], {
    ...config,
    store,
    ...(deps.generatedAt ? { generatedAt: deps.generatedAt } : {}),
  });
  return { ...result, backend: scorer.backend };
}

/** Only S3 URIs need a client; one is made here when an endpoint or region is given. */
function s3For(config: RankConfig): S3Client | undefined {
  if (config.endpointUrl === null && config.region === null) return undefined;
  return createS3Client({
    ...(config.endpointUrl ? { endpoint: config.endpointUrl } : {}),
    ...(config.region ? { region: config.region } : {}),
  });
}

/** A cheap streaming pass over the dates (no scoring) finds the last day; its last complete week is used. */
async function defaultPeriod(
  config: RankConfig,
  io: { s3?: S3Client; format?: InputFormat },
  log: (message: string) => void,
): Promise<Period> {
  const last = await lastDay(config.reviews, { ...io, columns: config.columns });
  if (last === null)
    throw new InputError(`${config.reviews}: no row with a valid date; give --week or --from/--to`);
  const period = lastCompleteWeek(last);
  log(`no period given: the data ends on ${last}, so the last complete ISO week is ${period.label}`);
  return period;
}
