/**
 * `npm run bench:load`: `npm start`'s server (src/local/server.ts, default model unless MODEL_URI) in a child
 * on 127.0.0.1, under a bounded closed-loop load of mixed 4- and 64-review bodies. Every answer must be a
 * 200 byte-identical to the single-request answer for the same body. The server's RSS (read from
 * /proc/<pid>/status) is sampled at start, after warm-up and after each pass of 10,000 requests; the run
 * fails (exit 1) when RSS grows by more than the threshold over the second half of the passes, i.e. when
 * memory still grows after warm-up and the first half (a leak grows in every pass; a heap that settles at
 * a larger size grows once). One JSON document on stdout.
 */
import { resolve } from 'node:path';
import { loadConfig } from '../src/function/config.ts';
import { parseStorageUri } from '../src/storage/index.ts';
import { reviewText } from '../src/text/review.ts';
import { AMAZON_CSV, loadCsv } from '../training/data.ts';
import { keepAliveAgent } from './lib/http.ts';
import { closedLoop } from './lib/load.ts';
import { machineInfo } from './lib/machine.ts';
import { printJson, progress } from './lib/output.ts';
import { rssMiB } from './lib/rss.ts';
import { postPredictions, startServerChild } from './lib/server.ts';
import { round, summarize } from './lib/stats.ts';
import { generateTexts, textsOfLength } from './lib/texts.ts';

const ROOT = resolve(import.meta.dirname, '..');
const TEST_CSV = resolve(ROOT, '..', 'shared', 'data', 'test.csv');

const SETTINGS = {
  /**
   * Warm-up rounds run until RSS settles (grows less than `settledMiB` in a round), at most `maxRounds`:
   * on ONNX Runtime the server reaches 2,000 req/s here and its heap took one 46 MiB step after ~21k
   * requests, then stayed within 0.2 MiB for 60k more. A fixed 1,000-request warm-up measured that step
   * as growth; memory that still grows after the warm-up is a leak, and fails the run.
   */
  warmup: { requestsPerRound: 5000, maxRounds: 8, settledMiB: 2 },
  passes: 6,
  requestsPerPass: 10_000,
  concurrency: 16,
  /** Distinct bodies; request i sends body i mod count, so every 10th request carries 64 reviews. */
  bodies: { fourReview: 9, sixtyFourReview: 1 },
  /** Review lengths in words; short enough that 64-review bodies keep a pass to about a minute here. */
  words: { min: 5, max: 30, generated: 15 },
  /** RSS after the last pass may exceed RSS after the middle one (`passes / 2`) by at most this much. */
  maxRssGrowthMiB: 24,
  seed: 7,
} as const;

const WORD_LIST = (
  'the a and it this was is for of to my i not but very with great good bad poor nice book product ' +
  'quality price works broke love hate would buy again recommend author story read use easy time'
).split(' ');

async function reviewTexts(count: number): Promise<{ texts: string[]; source: string }> {
  const { min, max, generated } = SETTINGS.words;
  try {
    const data = await loadCsv(TEST_CSV, { ...AMAZON_CSV, includeTitle: false });
    const texts = textsOfLength(data.examples.map(reviewText), { count, minWords: min, maxWords: max });
    if (texts) return { texts, source: `${TEST_CSV}: ${min}-${max} words, evenly spaced over the file` };
  } catch (error) {
    progress(`${TEST_CSV} unavailable (${(error as Error).message}); generating texts`);
  }
  const texts = generateTexts({ count, words: generated, vocabulary: WORD_LIST, seed: SETTINGS.seed });
  return { texts, source: `generated: ${generated} words from a ${WORD_LIST.length}-word list` };
}

/** The request bodies, 4-review ones first; each a JSON array of distinct texts. */
async function buildBodies(): Promise<{ bodies: string[]; source: string }> {
  const { fourReview, sixtyFourReview } = SETTINGS.bodies;
  const { texts, source } = await reviewTexts(fourReview * 4 + sixtyFourReview * 64);
  const bodies: string[] = [];
  let next = 0;
  for (const size of [...Array(fourReview).fill(4), ...Array(sixtyFourReview).fill(64)] as number[]) {
    bodies.push(JSON.stringify(texts.slice(next, next + size)));
    next += size;
  }
  return { bodies, source };
}

/** One request per body, alone: the answers every loaded request must reproduce byte for byte. */
async function referenceAnswers(url: string, bodies: readonly string[]): Promise<string[]> {
  const answers: string[] = [];
  for (const body of bodies) {
    const response = await postPredictions(url, body);
    if (response.status !== 200) throw new Error(`reference request: ${response.status} ${response.body}`);
    answers.push(response.body);
  }
  return answers;
}

async function main(): Promise<void> {
  const machine = machineInfo();
  const config = loadConfig();
  const parsed = parseStorageUri(config.modelUri);
  const modelUri = parsed.kind === 'dir' ? parsed.path : config.modelUri;
  const { bodies, source } = await buildBodies();
  progress(`starting the server on ${modelUri}`);
  const { child, url } = await startServerChild({ MODEL_URI: modelUri });
  const pid = child.process.pid ?? 0;
  const agent = keepAliveAgent(SETTINGS.concurrency);
  try {
    const rss: Record<string, number> = { start: await rssMiB(pid) };
    const expected = await referenceAnswers(url, bodies);
    const send = async (index: number) => {
      const which = index % bodies.length;
      const response = await postPredictions(url, bodies[which] ?? '', agent);
      if (response.status !== 200 || response.body !== expected[which]) {
        throw new Error(
          `request ${index} (body ${which}): ${response.status}, not the reference answer: ${response.body.slice(0, 300)}`,
        );
      }
    };
    const { concurrency, requestsPerPass, warmup } = SETTINGS;
    const warmupRounds = await warmUp(pid, (requests) => closedLoop(send, { requests, concurrency }));
    rss.afterWarmup = warmupRounds.at(-1) ?? rss.start ?? 0;
    const passes = [];
    for (let pass = 1; pass <= SETTINGS.passes; pass++) {
      progress(`pass ${pass}/${SETTINGS.passes}: ${requestsPerPass} requests, ${concurrency} connections`);
      const load = await closedLoop(send, { requests: requestsPerPass, concurrency });
      rss[`after${pass * 10}k`] = await rssMiB(pid);
      const latency = summarize(load.latenciesMs, 1);
      passes.push({
        pass,
        requestsPerSec: round(load.requestsPerSec, 1),
        p50Ms: latency.p50Ms,
        p99Ms: latency.p99Ms,
        maxMs: latency.maxMs,
        elapsedMs: round(load.elapsedMs, 0),
      });
      progress(
        `pass ${pass}: ${passes.at(-1)?.requestsPerSec} req/s, RSS ${round(rss[`after${pass * 10}k`] ?? 0, 1)} MiB`,
      );
    }
    const middlePass = Math.floor(SETTINGS.passes / 2);
    const first = rss[`after${middlePass * 10}k`] ?? 0;
    const last = rss[`after${SETTINGS.passes * 10}k`] ?? 0;
    const growthMiB = round(last - first, 1);
    const flat = growthMiB <= SETTINGS.maxRssGrowthMiB;
    await printJson({
      benchmark: 'load',
      machine,
      settings: { ...SETTINGS, modelUri, texts: source, bodyBytes: bodies.map((b) => Buffer.byteLength(b)) },
      results: {
        requests: SETTINGS.passes * requestsPerPass,
        allAnswers: '200 and byte-identical to the single-request answer for the same body',
        passes,
        warmup: {
          requests: warmupRounds.length * warmup.requestsPerRound,
          rssAfterEachRoundMiB: warmupRounds.map((v) => round(v, 1)),
          settled: warmupRounds.length < warmup.maxRounds,
        },
        rssMiB: Object.fromEntries(Object.entries(rss).map(([k, v]) => [k, round(v, 1)])),
        rssGrowthMiB: {
          warmup: round((rss.afterWarmup ?? 0) - (rss.start ?? 0), 1),
          secondHalf: growthMiB,
          threshold: SETTINGS.maxRssGrowthMiB,
          flat,
        },
      },
    });
    if (!flat) {
      throw new Error(
        `RSS grew ${growthMiB} MiB from after ${middlePass * 10}k to after ${SETTINGS.passes * 10}k requests (limit ${SETTINGS.maxRssGrowthMiB} MiB)`,
      );
    }
  } finally {
    agent.destroy();
    await child.stop();
  }
}

/** Warm-up rounds until RSS settles (or the cap); the RSS after each round. */
async function warmUp(pid: number, load: (requests: number) => Promise<unknown>): Promise<number[]> {
  const { requestsPerRound, maxRounds, settledMiB } = SETTINGS.warmup;
  const after: number[] = [];
  let before = await rssMiB(pid);
  for (let round = 1; round <= maxRounds; round++) {
    await load(requestsPerRound);
    const now = await rssMiB(pid);
    after.push(now);
    progress(`warm-up round ${round}: RSS ${now.toFixed(1)} MiB (${(now - before).toFixed(1)} MiB more)`);
    if (now - before < settledMiB) break;
    before = now;
  }
  return after;
}

if (import.meta.main) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`bench:load: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
