/**
 * `npm run bench:serve`: serving latency and cold start, printed as one JSON document on stdout.
 *
 * 1. handler4 / handler64: the whole middy chain in this process on the 4-review event and on 64 reviews
 *    of ~50 words. Reference: the scorer alone on the same texts, fast path (real tokens only) vs every
 *    batch padded to maxLen, so the JSON shows what the fast path buys.
 * 2. server16: the local server (`npm start`'s entry) in a child process, 16 keep-alive clients here.
 * 3. coldStart: spawn of that entry with MODEL_URI=s3://... on a loopback s3rver until its first 200.
 *
 * MODEL_URI (default models/review-sentiment/) and TFJS_BACKEND (default auto) as for the function.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { publishBundle } from '../src/bundle/publish.ts';
import { type LoadedBundle, loadBundle } from '../src/bundle/read.ts';
import { type Config, loadConfig } from '../src/function/config.ts';
import { createHandler, type Handler } from '../src/function/handler.ts';
import type { ApiGatewayEvent } from '../src/function/http/event.ts';
import { createLogger } from '../src/function/logger.ts';
import { createModelService } from '../src/function/service.ts';
import { createLocalContext } from '../src/local/server.ts';
import { type BackendInfo, selectBackend } from '../src/model/backend.ts';
import { batchedProbabilities } from '../src/model/batching.ts';
import type { Scorer } from '../src/model/scorer.ts';
import type { TfjsRuntime } from '../src/model/tfjs-runtime.ts';
import { parseStorageUri } from '../src/storage/index.ts';
import { reviewText } from '../src/text/review.ts';
import { startS3rver } from '../test/helpers/s3rver.ts';
import { AMAZON_CSV, loadCsv } from '../training/data.ts';
import { type Child, runChild, startChild } from './lib/child.ts';
import { httpRequest, keepAliveAgent } from './lib/http.ts';
import { closedLoop } from './lib/load.ts';
import { machineInfo } from './lib/machine.ts';
import { printJson, progress } from './lib/output.ts';
import { median, round, type Summary, speedup, summarize } from './lib/stats.ts';
import { generateTexts, textsOfLength, wordCount } from './lib/texts.ts';
import { timeIterations } from './lib/timing.ts';

const ROOT = resolve(import.meta.dirname, '..');
const SERVER_ENTRY = join(ROOT, 'src', 'local', 'server.ts');
const FOUR_EVENT = join(ROOT, 'events', 'predictions-4-reviews.json');
/** The evaluation split beside the project (never inside it). */
const TEST_CSV = resolve(ROOT, '..', 'shared', 'data', 'test.csv');

/** Iteration counts bound the run; budgets cut slow backends short (each still gets minIterations). */
const SETTINGS = {
  handler4: { warmup: 30, iterations: 1000, budgetMs: 10_000 },
  handler64: { warmup: 5, iterations: 200, budgetMs: 15_000 },
  fastPathReference: { iterations: 200, budgetMs: 5000 },
  paddedReference: { warmup: 1, iterations: 50, budgetMs: 15_000, minIterations: 3 },
  reviews64: { count: 64, minWords: 40, maxWords: 60, generatedWords: 50, seed: 64 },
  server16: { requests: 2000, concurrency: 16, warmupRequests: 100 },
  coldStart: { runs: 5, nodeBaselineRuns: 5, bucket: 'models-bucket', prefix: 'review-sentiment/' },
} as const;

/** The targets for this machine. */
const TARGETS = { handler4P50Ms: 5, coldStartMedianMs: 1000 } as const;

/** Stand-in words for the generated texts when test.csv is absent: plain review vocabulary. */
const WORD_LIST = (
  'the a and it this was is for of to my i not but very with great good bad poor nice book product ' +
  'quality price works broke love hate would buy again recommend author story read use easy time ' +
  'money waste excellent terrible amazing returned cheap well made size fit after one day months'
).split(' ');

// ---- Inputs -------------------------------------------------------------------------------------------

interface Reviews64 {
  texts: string[];
  source: 'test.csv' | 'generated';
  detail: string;
}

async function loadReviews64(): Promise<Reviews64> {
  const { count, minWords, maxWords, generatedWords, seed } = SETTINGS.reviews64;
  try {
    const data = await loadCsv(TEST_CSV, { ...AMAZON_CSV, includeTitle: false });
    const texts = textsOfLength(data.examples.map(reviewText), { count, minWords, maxWords });
    if (texts) {
      return {
        texts,
        source: 'test.csv',
        detail: `${TEST_CSV}: texts (no titles) with ${minWords}-${maxWords} words, evenly spaced over the file`,
      };
    }
    progress(`${TEST_CSV} has fewer than ${count} texts of ${minWords}-${maxWords} words; generating texts`);
  } catch (error) {
    progress(`${TEST_CSV} unavailable (${(error as Error).message}); generating texts`);
  }
  return {
    texts: generateTexts({ count, words: generatedWords, vocabulary: WORD_LIST, seed }),
    source: 'generated',
    detail: `${generatedWords} words each drawn from a fixed ${WORD_LIST.length}-word list, seed ${seed}`,
  };
}

/** The 4-review event with another body: what API Gateway would send for those reviews. */
function eventWithReviews(base: ApiGatewayEvent, reviews: readonly string[]): ApiGatewayEvent {
  const event = structuredClone(base) as ApiGatewayEvent & { headers: Record<string, string> };
  event.body = JSON.stringify(reviews);
  event.headers['content-length'] = String(Buffer.byteLength(event.body));
  return event;
}

function reviewsOfEvent(event: ApiGatewayEvent): string[] {
  return JSON.parse(String(event.body)) as string[];
}

// ---- Model --------------------------------------------------------------------------------------------

/** Fails with what to do when neither MODEL_URI nor the default bundle exists. */
async function loadBundleOrExplain(config: Config): Promise<LoadedBundle> {
  const explicit = (process.env.MODEL_URI ?? '').trim() !== '';
  try {
    return await loadBundle(config.modelUri);
  } catch (error) {
    const where = explicit
      ? `MODEL_URI=${config.modelUri}`
      : `the default bundle ${config.modelUri} (MODEL_URI is not set)`;
    throw new Error(
      `no usable model bundle at ${where}: ${(error as Error).message}. ` +
        'Train one with `npm run train` or point MODEL_URI at a bundle root or version.',
      { cause: error },
    );
  }
}

async function createBenchHandler(config: Config): Promise<{ handler: Handler; scorer: Scorer }> {
  const service = createModelService({ modelUri: config.modelUri, backend: config.backend });
  const { scorer } = await service.get();
  // INFO like production; lines are formatted (a real per-request cost) and dropped instead of printed.
  const logger = createLogger({ level: 'INFO', write: () => undefined });
  return { handler: createHandler({ service, config, logger }), scorer };
}

// ---- In-process measurements --------------------------------------------------------------------------

async function timeHandler(
  handler: Handler,
  event: ApiGatewayEvent,
  settings: { warmup: number; iterations: number; budgetMs: number },
): Promise<Summary> {
  const samples = await timeIterations({
    ...settings,
    setup: () => structuredClone(event),
    run: async (input: ApiGatewayEvent) => {
      const response = await handler(input, createLocalContext());
      if (response.statusCode !== 200) {
        throw new Error(`handler answered ${response.statusCode}: ${response.body.slice(0, 300)}`);
      }
    },
  });
  return summarize(samples);
}

interface PathComparison {
  fastPath: Summary;
  paddedToMaxLen: Summary;
  /** paddedToMaxLen.p50Ms / fastPath.p50Ms */
  speedup: number;
}

/** The scorer alone on encoded texts: each batch at its own longest vs every batch at maxLen. */
async function comparePaths(
  scorer: Scorer,
  texts: readonly string[],
  warmup: number,
): Promise<PathComparison> {
  const { maxLen } = scorer.manifest.preprocessing;
  const sequences = texts.map((text) => scorer.tokenizer.encode(text, maxLen));
  const fast = await timeIterations({
    ...SETTINGS.fastPathReference,
    warmup,
    run: () => scorer.probabilities(sequences),
  });
  const padded = await timeIterations({
    ...SETTINGS.paddedReference,
    run: () => batchedProbabilities((scorer.runtime as TfjsRuntime).model, sequences, maxLen),
  });
  const fastPath = summarize(fast);
  const paddedToMaxLen = summarize(padded);
  return { fastPath, paddedToMaxLen, speedup: speedup(paddedToMaxLen.p50Ms, fastPath.p50Ms) };
}

function tokenStats(scorer: Scorer, texts: readonly string[]) {
  const { maxLen } = scorer.manifest.preprocessing;
  const tokens = texts.map((text) => scorer.tokenizer.encode(text, maxLen).length);
  const words = texts.map(wordCount);
  const stats = (values: number[]) => ({
    min: Math.min(...values),
    mean: round(values.reduce((a, b) => a + b, 0) / values.length, 1),
    max: Math.max(...values),
  });
  return { words: stats(words), knownTokens: stats(tokens) };
}

// ---- Child processes ----------------------------------------------------------------------------------

const LISTENING = /listening on (http:\/\/\S+)/;

/** `npm start`'s entry; resolves once it listens (its init has loaded the model by then). */
async function startServerChild(
  env: Record<string, string>,
): Promise<{ child: Child; url: string; listeningMs: number }> {
  const child = startChild(process.execPath, [SERVER_ENTRY], {
    cwd: ROOT,
    env: { PORT: '0', HOST: '127.0.0.1', ...env },
  });
  try {
    const { match, ms } = await child.waitForLine(LISTENING, { timeoutMs: 60_000 });
    return { child, url: match[1] ?? '', listeningMs: ms };
  } catch (error) {
    await child.stop('SIGKILL');
    throw error;
  }
}

function postPredictions(url: string, body: string, agent?: ReturnType<typeof keepAliveAgent>) {
  return httpRequest(`${url}/predictions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    ...(agent ? { agent } : {}),
  });
}

async function measureServer(modelUri: string, body: string, backend: string) {
  const { requests, concurrency, warmupRequests } = SETTINGS.server16;
  const { child, url } = await startServerChild({ MODEL_URI: modelUri, TFJS_BACKEND: backend });
  const agent = keepAliveAgent(concurrency);
  try {
    const send = async () => {
      const response = await postPredictions(url, body, agent);
      if (response.status !== 200) throw new Error(`server answered ${response.status}: ${response.body}`);
    };
    await closedLoop(send, { requests: warmupRequests, concurrency });
    const load = await closedLoop(send, { requests, concurrency });
    const latency = summarize(load.latenciesMs);
    return {
      requestsPerSec: round(load.requestsPerSec, 1),
      p50Ms: latency.p50Ms,
      p99Ms: latency.p99Ms,
      requests,
      concurrency,
      warmupRequests,
      elapsedMs: round(load.elapsedMs, 1),
    };
  } finally {
    agent.destroy();
    await child.stop();
  }
}

interface ColdRun {
  firstResponseMs: number;
  listeningMs: number;
  /** The child's own "model loaded" log: timings of each load step, in ms. */
  modelLoad: Record<string, number>;
}

function modelLoadTimings(stdout: string): Record<string, number> {
  for (const line of stdout.split('\n')) {
    if (!line.includes('"model loaded"')) continue;
    const log = JSON.parse(line) as { timings?: Record<string, number> };
    return log.timings ?? {};
  }
  return {};
}

/** From spawn to the first 200 of POST /predictions (retried while the answer is anything else). */
async function coldStartOnce(env: Record<string, string>, body: string): Promise<ColdRun> {
  const { child, url, listeningMs } = await startServerChild(env);
  try {
    const deadline = performance.now() + 30_000;
    for (;;) {
      const response = await postPredictions(url, body).catch((error: Error) => ({
        status: 0,
        body: error.message,
      }));
      if (response.status === 200) break;
      if (performance.now() > deadline) {
        throw new Error(
          `no 200 from ${url}/predictions in 30 s: last answer ${response.status} ${response.body}`,
        );
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    const firstResponseMs = performance.now() - child.startedAt;
    return { firstResponseMs, listeningMs, modelLoad: modelLoadTimings(child.stdout()) };
  } finally {
    await child.stop();
  }
}

function medianOfKeys(records: readonly Record<string, number>[]): Record<string, number> {
  const keys = [...new Set(records.flatMap((r) => Object.keys(r)))];
  return Object.fromEntries(
    keys.map((key) => [key, median(records.map((r) => r[key]).filter((v) => v !== undefined))]),
  );
}

async function measureColdStart(bundle: LoadedBundle, backend: string, body: string) {
  const { runs, nodeBaselineRuns, bucket, prefix } = SETTINGS.coldStart;
  const s3 = await startS3rver(bucket);
  try {
    const modelUri = `s3://${bucket}/${prefix}`;
    await publishBundle(bundle.files, modelUri, { storage: s3.storage });
    const env = {
      MODEL_URI: modelUri,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
      TFJS_BACKEND: backend,
      LOG_LEVEL: 'INFO',
    };
    const results: ColdRun[] = [];
    for (let run = 1; run <= runs; run++) {
      progress(`cold start ${run}/${runs}`);
      results.push(await coldStartOnce(env, body));
    }
    const baseline: number[] = [];
    for (let run = 0; run < nodeBaselineRuns; run++) {
      baseline.push((await runChild(process.execPath, ['-e', ''])).ms);
    }
    return {
      medianMs: round(median(results.map((r) => r.firstResponseMs)), 1),
      runs: results.map((r) => round(r.firstResponseMs, 1)),
      modelUri,
      endpoint: 's3rver on 127.0.0.1',
      bundleBytes: bundle.timings.bytes,
      breakdown: {
        listeningMedianMs: round(median(results.map((r) => r.listeningMs)), 1),
        modelLoadMedianMs: medianOfKeys(results.map((r) => r.modelLoad)),
        nodeEmptyScriptMedianMs: round(median(baseline), 1),
      },
    };
  } finally {
    await s3.stop();
  }
}

// ---- Report -------------------------------------------------------------------------------------------

function target(name: string, limit: number, value: number) {
  return { name, limit, unit: 'ms', value, met: value <= limit };
}

function settingsOf(config: Config, backend: BackendInfo, bundle: LoadedBundle, reviews64: Reviews64) {
  const { manifest } = bundle;
  return {
    backend: {
      preference: config.backend,
      name: backend.name,
      package: backend.package,
      detail: backend.detail,
    },
    modelUri: config.modelUri,
    model: {
      name: manifest.name,
      version: manifest.version,
      uri: bundle.uri,
      bytes: bundle.timings.bytes,
      maxLen: manifest.preprocessing.maxLen,
      numWords: manifest.preprocessing.numWords,
      maskZero: manifest.maskZero,
      architecture: manifest.architecture,
    },
    logging: 'in process: INFO lines formatted and dropped; children: INFO to a pipe',
    reviews64: { source: reviews64.source, detail: reviews64.detail },
    iterations: SETTINGS,
  };
}

async function main(): Promise<void> {
  const machine = machineInfo();
  const config = loadConfig();
  progress(`reading ${config.modelUri}`);
  const bundle = await loadBundleOrExplain(config);
  const backend = await selectBackend(config.backend);
  progress(`backend ${backend.name} (${backend.package})`);
  const { handler, scorer } = await createBenchHandler(config);
  const event4 = JSON.parse(await readFile(FOUR_EVENT, 'utf8')) as ApiGatewayEvent;
  const reviews4 = reviewsOfEvent(event4);
  const reviews64 = await loadReviews64();
  const event64 = eventWithReviews(event4, reviews64.texts);

  progress('in-process handler, 4 reviews');
  const handler4 = await timeHandler(handler, event4, SETTINGS.handler4);
  progress('in-process handler, 64 reviews');
  const handler64 = {
    ...(await timeHandler(handler, event64, SETTINGS.handler64)),
    ...tokenStats(scorer, reviews64.texts),
  };
  progress('reference: scorer fast path vs padded to maxLen');
  const reference = {
    what: 'scorer only (no HTTP, no middy): fast path (masked model, each length batch padded to its own longest) vs every batch padded to maxLen (batchedProbabilities(model, sequences, maxLen)); speedup = padded p50 / fast p50',
    reviews4: await comparePaths(scorer, reviews4, 30),
    reviews64: await comparePaths(scorer, reviews64.texts, 5),
  };
  progress(`local server in a child, ${SETTINGS.server16.concurrency} clients`);
  const childModelUri = localOrRemote(config.modelUri);
  const server16 = await measureServer(childModelUri, String(event4.body), config.backend);
  const coldStart = await measureColdStart(bundle, config.backend, String(event4.body));

  await printJson({
    benchmark: 'serve',
    machine,
    settings: settingsOf(config, backend, bundle, reviews64),
    results: { handler4, handler64, server16, coldStart },
    reference,
    targets: [
      target('handler4.p50Ms', TARGETS.handler4P50Ms, handler4.p50Ms),
      target('coldStart.medianMs', TARGETS.coldStartMedianMs, coldStart.medianMs),
    ],
  });
}

/** Children run with another cwd in mind: give them an absolute path for a folder bundle. */
function localOrRemote(uri: string): string {
  const parsed = parseStorageUri(uri);
  return parsed.kind === 'dir' ? parsed.path : uri;
}

if (import.meta.main) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`bench:serve: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
