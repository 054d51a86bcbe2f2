/**
 * `npm run bench:rank`: the ranking job's batch path on this machine. Prints one JSON document.
 *
 * 1. Scoring rate: the default model scores a sample of product_reviews.csv (BENCH_RANK_SAMPLE rows,
 *    default 3000) through mapInput, i.e. reading, reviewText, tokenizer, length batches, folding.
 * 2. Memory: 100,000- and 1,000,000-row inputs made by repeating product_reviews.csv's rows (generated
 *    under a temp dir, streamed, deleted afterwards). Each run is a fresh child process, so its peak RSS
 *    (VmHWM) is its own; RSS is also sampled every 50 ms. Two modes per size:
 *      - `stub`: every row is scored by a trivial ScoreBatch: the full streaming + buffering +
 *        aggregation path over all rows, without the model's cost;
 *      - `model`: the default model, with the period set to the ISO week 2014-W29, so all rows are read
 *        and filtered but only that week's copies (~0.2% of rows) are scored: scoring 1M rows at this
 *        machine's rate would take close to an hour.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { mapInput } from '../src/ranking/map.ts';
import { type Period, parseRange, parseWeek } from '../src/ranking/period.ts';
import { DEFAULT_COLUMNS } from '../src/ranking/rows.ts';
import { type LoadedScoreBatch, loadScoreBatch } from '../src/ranking/score-batch.ts';
import { machineInfo } from './lib/machine.ts';
import { printJson, progress } from './lib/output.ts';
import { round } from './lib/stats.ts';

const DATA = join(import.meta.dirname, '..', '..', 'shared', 'data', 'product_reviews.csv');
const MODEL = join(import.meta.dirname, '..', 'models', 'review-sentiment');
const SAMPLE_ROWS = Number(process.env.BENCH_RANK_SAMPLE ?? 3000);
const SIZES = (process.env.BENCH_RANK_SIZES ?? '100000,1000000').split(',').map(Number);
const BATCH_SIZE = 2048;
const MODEL_WEEK = '2014-W29';
const MiB = 2 ** 20;

interface ChildTask {
  file: string;
  mode: 'stub' | 'model';
  period: Period;
}

interface ChildResult {
  rows: number;
  scored: number;
  seconds: number;
  /** RSS once the model (if any) is loaded, before the input is read. */
  baselineRssMiB: number;
  /** VmHWM: the process's peak resident set. */
  peakRssMiB: number;
  maxSampledRssMiB: number;
  rowsPerSec: number;
  reviewsPerSec: number;
  backend: string;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    await printJson(await child(JSON.parse(process.argv[3] ?? '{}') as ChildTask));
    return;
  }
  if (!existsSync(DATA))
    throw new Error(`${DATA} is absent: bench:rank needs ../shared/data/product_reviews.csv`);
  const machine = machineInfo();
  const dir = await mkdtemp(join(tmpdir(), 'bench-rank-'));
  try {
    const sample = join(dir, `sample-${SAMPLE_ROWS}.csv`);
    await repeatRows(sample, SAMPLE_ROWS);
    progress(`scoring rate: default model on ${SAMPLE_ROWS} rows`);
    const scoring = await runChild({
      file: sample,
      mode: 'model',
      period: parseRange('2000-01-01', '2099-12-31'),
    });
    const memory: Record<string, Record<string, ChildResult>> = {};
    for (const rows of SIZES) {
      const file = join(dir, `reviews-${rows}.csv`);
      progress(`generating ${rows} rows`);
      await repeatRows(file, rows);
      memory[String(rows)] = {};
      for (const mode of ['stub', 'model'] as const) {
        progress(`${rows} rows, ${mode}`);
        const period = mode === 'stub' ? parseRange('2000-01-01', '2099-12-31') : parseWeek(MODEL_WEEK);
        (memory[String(rows)] ?? {})[mode] = await runChild({ file, mode, period });
      }
      await rm(file);
    }
    await printJson({
      benchmark: 'rank',
      machine,
      settings: {
        model: MODEL,
        batchSize: BATCH_SIZE,
        scoringSampleRows: SAMPLE_ROWS,
        modelModePeriod: MODEL_WEEK,
        inputs: 'product_reviews.csv data rows repeated in order, one header',
      },
      scoring: {
        reviewsPerSec: scoring.reviewsPerSec,
        reviews: scoring.scored,
        seconds: scoring.seconds,
        backend: scoring.backend,
      },
      memory,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Writes `rows` data rows by cycling through product_reviews.csv's rows (one header). */
async function repeatRows(file: string, rows: number): Promise<void> {
  const [header, ...lines] = (await readFile(DATA, 'utf8')).trimEnd().split('\n');
  const out = createWriteStream(file);
  out.write(`${header}\n`);
  for (let i = 0; i < rows; i++) {
    if (!out.write(`${lines[i % lines.length]}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

async function runChild(task: ChildTask): Promise<ChildResult> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [import.meta.filename, '--child', JSON.stringify(task)],
    {
      maxBuffer: 1 << 20,
    },
  );
  return JSON.parse(stdout) as ChildResult;
}

async function child(task: ChildTask): Promise<ChildResult> {
  const loaded: LoadedScoreBatch =
    task.mode === 'model'
      ? await loadScoreBatch(MODEL)
      : {
          model: { name: 'stub', version: '0' },
          backend: 'none',
          scoreBatch: async (reviews) => reviews.map((r) => 1 + (r.text.length % 5)),
        };
  globalThis.gc?.();
  const baseline = process.memoryUsage().rss;
  let maxSampled = baseline;
  const sampler = setInterval(() => {
    maxSampled = Math.max(maxSampled, process.memoryUsage().rss);
  }, 50);
  const started = performance.now();
  const partial = await mapInput(task.file, {
    period: task.period,
    columns: DEFAULT_COLUMNS,
    scoreBatch: loaded.scoreBatch,
    model: loaded.model,
    batchSize: BATCH_SIZE,
  });
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  return {
    rows: partial.counts.rows,
    scored: partial.counts.scored,
    seconds: round(seconds, 2),
    baselineRssMiB: round(baseline / MiB, 1),
    peakRssMiB: round((await vmHwm()) / MiB, 1),
    maxSampledRssMiB: round(maxSampled / MiB, 1),
    rowsPerSec: round(partial.counts.rows / seconds, 1),
    reviewsPerSec: round(partial.counts.scored / seconds, 1),
    backend: loaded.backend,
  };
}

async function vmHwm(): Promise<number> {
  const status = await readFile('/proc/self/status', 'utf8').catch(() => '');
  const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
  return kb ? Number(kb) * 1024 : process.memoryUsage().rss;
}

await main();
