/**
 * `npm run bench:serve`: this service against the same model in PyTorch, side by side in one run, printed
 * as one JSON document on stdout (progress on stderr).
 *
 * 1. requests: the 4-review event, 64 test.csv reviews of 40-60 words and 100 test.csv reviews of natural
 *    length, each measured three ways on our side: the whole middy handler on the API Gateway event
 *    (JSON, validation, tokenising, ONNX Runtime, the response); the Scorer from review text to
 *    probabilities; the runtime alone from ids. PyTorch (bench/torch_serve.py): the bundle's own weights
 *    read with numpy into the same architecture, each architecture's exact best (bag: one EmbeddingBag
 *    call over flat ids, or for attention pooling one padded gather; lstm: one packed batch), from text
 *    (the bundle's normaliser and tokenizer.json restated in Python, its ids checked against ours) and
 *    from ids, at 1 and 2 threads. Interleaved so both see the same machine load; medians. The target
 *    ratio: ours text -> probabilities p50 over PyTorch's at its better thread count (the issue's
 *    measure); the others are printed beside it.
 * 2. batch: 10,000 reviews (train.csv, natural length) scored 100 at a time by the Scorer on ONE ORT
 *    thread: reviews/s per core. PyTorch on one thread on the same batches, interleaved by batch.
 * 3. coldStart: a fresh `node` importing the built function (dist/index.mjs as Lambda loads it) with
 *    MODEL_URI=s3://... on a loopback s3rver, timed from spawn to the handler's answer to the 4 reviews.
 *
 * BENCH_SERVE_PARTS=requests,batch,cold (default all) runs only some parts (a re-check of one figure).
 * MODEL_URI (default models/review-sentiment) and RUNTIME as for the function; the PyTorch peer needs
 * /usr/bin/python3 with torch and numpy (Debian: apt-get install python3-torch); without it the JSON says
 * so and still has our figures.
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { buildFunction } from '../scripts/build.ts';
import { TOKENIZER_FILE } from '../src/bundle/manifest.ts';
import { publishBundle } from '../src/bundle/publish.ts';
import { type LoadedBundle, loadBundle } from '../src/bundle/read.ts';
import { type Config, loadConfig } from '../src/function/config.ts';
import { createHandler, type Handler } from '../src/function/handler.ts';
import type { ApiGatewayEvent } from '../src/function/http/event.ts';
import { createLogger } from '../src/function/logger.ts';
import { createModelRegistry } from '../src/function/models.ts';
import { createLocalContext } from '../src/local/server.ts';
import { buildScorer, recordedThreads } from '../src/model/build.ts';
import { DEFAULT_CHUNK_ROWS } from '../src/model/onnx/runtime.ts';
import type { Scorer } from '../src/model/scorer.ts';
import { parseStorageUri } from '../src/storage/index.ts';
import { startS3rver } from '../test/helpers/s3rver.ts';
import { AMAZON_CSV, loadCsv } from '../training/data.ts';
import { runChild, startChild } from './lib/child.ts';
import { machineInfo } from './lib/machine.ts';
import { printJson, progress } from './lib/output.ts';
import { median, round, summarize } from './lib/stats.ts';
import { generateTexts, pickSpread, textsOfLength, wordCount } from './lib/texts.ts';

const ROOT = resolve(import.meta.dirname, '..');
const FOUR_EVENT = join(ROOT, 'events', 'predictions-4-reviews.json');
const DATA = resolve(ROOT, '..', 'shared', 'data');
const PYTHON = '/usr/bin/python3';
const TORCH_PEER = join(ROOT, 'bench', 'torch_serve.py');

const SETTINGS = {
  requests: {
    four: { warmup: 20, iterations: 300 },
    reviews64: { warmup: 5, iterations: 60 },
    natural100: { warmup: 5, iterations: 40 },
  },
  reviews64: { count: 64, minWords: 40, maxWords: 60 },
  natural100: { count: 100 },
  batch: { reviews: 10_000, batchSize: 100, ortThreads: 1, torchThreads: 1 },
  coldStart: { runs: 11, nodeBaselineRuns: 5, bucket: 'models-bucket', prefix: 'review-sentiment/' },
  torchThreads: [1, 2],
  pauseMs: 20,
} as const;

/** The issue's targets on this machine. */
const TARGETS = { latencyRatio: 0.7, coldStartMs: 250, reviewsPerSecPerCore: 1000 } as const;

const WORDS =
  'the a and it this was is for of to my not but very great good bad poor nice book product'.split(' ');

// ---- PyTorch peer ------------------------------------------------------------------------------------

interface TorchPeer {
  info: Record<string, unknown>;
  ask(message: object): Promise<Record<string, unknown>>;
  close(): void;
}

async function startTorch(bundleDir: string): Promise<TorchPeer | { skipped: string }> {
  const probe = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    return {
      skipped: `${PYTHON} cannot import torch and numpy (${(probe.stderr || String(probe.error)).trim().split('\n').at(-1)}): apt-get install python3-torch`,
    };
  }
  const child: ChildProcessWithoutNullStreams = spawn(PYTHON, [TORCH_PEER, bundleDir], {
    env: { ...process.env, OMP_NUM_THREADS: String(availableParallelism()) },
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`the PyTorch peer exited: ${stderr.slice(-1500)}`);
    const reply = JSON.parse(value) as Record<string, unknown>;
    if (reply.error) throw new Error(`the PyTorch peer: ${String(reply.error)}`);
    return reply;
  };
  const info = await next();
  return {
    info,
    ask: async (message) => {
      child.stdin.write(`${JSON.stringify(message)}\n`);
      return next();
    },
    close: () => child.kill(),
  };
}

// ---- Inputs -------------------------------------------------------------------------------------------

interface Inputs {
  source: string;
  requests: Record<'four' | 'reviews64' | 'natural100', string[]>;
  batch: string[];
}

async function inputs(four: string[]): Promise<Inputs> {
  try {
    const test = (await loadCsv(join(DATA, 'test.csv'), { ...AMAZON_CSV, includeTitle: false })).examples;
    const texts = test.map((e) => e.text);
    const reviews64 = textsOfLength(texts, SETTINGS.reviews64);
    const train = (await loadCsv(join(DATA, 'train.csv'), { ...AMAZON_CSV, includeTitle: false })).examples;
    if (reviews64 && train.length >= SETTINGS.batch.reviews) {
      return {
        source: `${DATA}: test.csv (requests, texts without titles, evenly spaced), train.csv (batch)`,
        requests: { four, reviews64, natural100: pickSpread(texts, SETTINGS.natural100.count) },
        batch: pickSpread(
          train.map((e) => e.text),
          SETTINGS.batch.reviews,
        ),
      };
    }
  } catch (error) {
    progress(`${DATA} unavailable (${(error as Error).message}); generating texts`);
  }
  const generated = (count: number, words: number, seed: number) =>
    generateTexts({ count, words, vocabulary: WORDS, seed });
  return {
    source: 'generated (../shared/data absent)',
    requests: { four, reviews64: generated(64, 50, 1), natural100: generated(100, 40, 2) },
    batch: generated(SETTINGS.batch.reviews, 40, 3),
  };
}

function eventWithReviews(base: ApiGatewayEvent, reviews: readonly string[]): ApiGatewayEvent {
  const event = structuredClone(base) as ApiGatewayEvent & { headers: Record<string, string> };
  event.body = JSON.stringify(reviews);
  event.headers['content-length'] = String(Buffer.byteLength(event.body));
  return event;
}

function lengthStats(scorer: Scorer, texts: readonly string[]) {
  const tokens = scorer.encode(texts).map((s) => s.length);
  return {
    reviews: texts.length,
    medianWords: median(texts.map(wordCount)),
    medianTokens: median(tokens),
    maxTokens: Math.max(...tokens),
  };
}

// ---- Measurements -------------------------------------------------------------------------------------

/**
 * A short idle gap before each timed call: BLAS/OpenMP worker threads spin for a while after a call, and
 * on a 2-CPU machine they would slow whichever side is timed next.
 */
function pause(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, SETTINGS.pauseMs));
}

async function handlerMs(handler: Handler, event: ApiGatewayEvent): Promise<number> {
  const input = structuredClone(event);
  const start = performance.now();
  const response = await handler(input, createLocalContext());
  const ms = performance.now() - start;
  if (response.statusCode !== 200)
    throw new Error(`handler answered ${response.statusCode}: ${response.body}`);
  return ms;
}

/** Largest |ours - torch| over the request's probabilities: proof both sides compute the same model. */
async function agreement(scorer: Scorer, torch: TorchPeer, name: string, texts: readonly string[]) {
  const ours = await scorer.probabilities(scorer.encode(texts));
  const theirs = (await torch.ask({ op: 'probabilities', name })).probabilities as number[][];
  let worst = 0;
  ours.forEach((row, i) => {
    row.forEach((p, k) => {
      worst = Math.max(worst, Math.abs(p - (theirs[i]?.[k] ?? Number.NaN)));
    });
  });
  return worst;
}

/** Ours from review text (tokenise + runtime) or from ids (the runtime alone), one request. */
async function scorerMs(
  scorer: Scorer,
  from: 'text' | 'ids',
  texts: readonly string[],
  encoded: readonly Int32Array[],
) {
  const start = performance.now();
  await scorer.probabilities(from === 'text' ? scorer.encode(texts) : encoded);
  return performance.now() - start;
}

/**
 * One request size, interleaved: the whole handler, our Scorer from text and from ids, then PyTorch from
 * text and from ids at each thread count. The target ratio is text to probabilities on both sides (the
 * issue's measure); ids to probabilities (the model alone) and handler to PyTorch's text path are printed
 * beside it.
 */
async function compareRequest(
  name: keyof Inputs['requests'],
  texts: string[],
  handler: Handler,
  baseEvent: ApiGatewayEvent,
  scorer: Scorer,
  torch: TorchPeer | null,
) {
  const { warmup, iterations } = SETTINGS.requests[name];
  const event = name === 'four' ? baseEvent : eventWithReviews(baseEvent, texts);
  const encoded = scorer.encode(texts);
  const loaded = torch
    ? await torch.ask({ op: 'load', name, texts, sequences: encoded.map((s) => [...s]) })
    : null;
  const samples = new Map<string, number[]>();
  const record = (key: string, ms: number) => {
    const list = samples.get(key);
    if (list) list.push(ms);
    else samples.set(key, [ms]);
  };
  // Every timed call follows its own pause, so none of them inherits another's warm caches.
  for (let i = 0; i < warmup + iterations; i++) {
    const keep = i >= warmup;
    await pause();
    const handlerTime = await handlerMs(handler, event);
    if (keep) record('handler', handlerTime);
    for (const from of ['text', 'ids'] as const) {
      await pause();
      const ms = await scorerMs(scorer, from, texts, encoded);
      if (keep) record(from === 'text' ? 'text' : 'model', ms);
    }
    for (const threads of torch ? SETTINGS.torchThreads : []) {
      for (const from of ['text', 'ids'] as const) {
        await pause();
        const reply = await (torch as TorchPeer).ask({ op: 'time', name, threads, from });
        if (keep) record(`torch${threads}:${from === 'text' ? 'text' : 'model'}`, Number(reply.ms));
      }
    }
  }
  const of = (key: string) => summarize(samples.get(key) ?? []);
  const service = { handler: of('handler'), text: of('text'), model: of('model') };
  const result: Record<string, unknown> = { ...lengthStats(scorer, texts), service };
  if (torch) {
    const byThreads = SETTINGS.torchThreads.map((t) => ({
      threads: t,
      text: of(`torch${t}:text`),
      model: of(`torch${t}:model`),
    }));
    const best = byThreads.reduce((a, b) => (b.text.p50Ms < a.text.p50Ms ? b : a));
    const bestModel = Math.min(...byThreads.map((b) => b.model.p50Ms));
    result.torch = {
      byThreads,
      bestThreads: best.threads,
      textP50Ms: best.text.p50Ms,
      modelP50Ms: bestModel,
    };
    result.idMismatches = loaded?.idMismatches ?? null;
    result.ratios = {
      textToText: round(service.text.p50Ms / best.text.p50Ms, 3),
      modelToModel: round(service.model.p50Ms / bestModel, 3),
      handlerToTorchText: round(service.handler.p50Ms / best.text.p50Ms, 3),
    };
    result.maxProbabilityDifference = await agreement(scorer, torch, name, texts);
  }
  return result;
}

async function batchThroughput(bundle: LoadedBundle, texts: string[], torch: TorchPeer | null) {
  const { batchSize, ortThreads, torchThreads } = SETTINGS.batch;
  const scorer = await buildScorer(bundle, { runtime: 'onnx', threads: ortThreads });
  const batches = Array.from({ length: Math.ceil(texts.length / batchSize) }, (_, i) =>
    texts.slice(i * batchSize, (i + 1) * batchSize),
  );
  if (torch) {
    for (const [i, batch] of batches.entries()) {
      const sequences = scorer.encode(batch).map((s) => [...s]);
      await torch.ask({ op: 'load', name: `batch${i}`, texts: batch, sequences });
    }
  }
  await scorer.predict(batches[0] ?? []);
  let oursMs = 0;
  let torchMs = 0;
  for (const [i, batch] of batches.entries()) {
    await pause();
    const start = performance.now();
    await scorer.predict(batch);
    oursMs += performance.now() - start;
    if (!torch) continue;
    await pause();
    const reply = await torch.ask({ op: 'time', name: `batch${i}`, threads: torchThreads, from: 'text' });
    torchMs += Number(reply.ms);
  }
  await scorer.dispose();
  const perSec = (ms: number) => round((texts.length * 1000) / ms, 0);
  return {
    reviews: texts.length,
    batchSize,
    what: 'Scorer.predict (tokenise + ONNX Runtime) on one intra-op thread, batches one after another',
    ortThreads,
    seconds: round(oursMs / 1000, 2),
    reviewsPerSecPerCore: perSec(oursMs),
    torch: torch
      ? {
          threads: torchThreads,
          what: 'from review text: tokenising in Python, then the model, one batch per 100 reviews',
          reviewsPerSec: perSec(torchMs),
        }
      : null,
  };
}

const COLD_CHILD = `
import { readFileSync } from 'node:fs';
const { handler } = await import(process.argv[1]);
const event = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const result = await handler(event, { awsRequestId: 'cold', getRemainingTimeInMillis: () => 29000 });
console.log('answered ' + result.statusCode);
process.exit(0);
`;

/**
 * The floor under any cold start of this model: a process that reads model.onnx and tokenizer.json from
 * local disk and builds the function's own runtime and tokenizer from them (src/model/onnx/runtime.ts,
 * src/text/tokenizer.ts, with the threads the graph's record asks for), then scores one review. No S3,
 * no handler.
 */
const FLOOR_CHILD = `
import { readFileSync } from 'node:fs';
const [dir, runtimeUrl, tokenizerUrl, threads] = process.argv.slice(1);
const { OnnxScorer } = await import(runtimeUrl);
const { WordTokenizer } = await import(tokenizerUrl);
const tokenizer = new WordTokenizer(JSON.parse(readFileSync(dir + '/tokenizer.json', 'utf8')));
const options = threads === 'default' ? {} : { intraOpNumThreads: Number(threads) };
const scorer = await OnnxScorer.create(readFileSync(dir + '/model.onnx'), options);
await scorer.probabilities([tokenizer.encode('Great value, works well', 250)]);
console.log('answered 200');
process.exit(0);
`;

async function runtimeFloor(bundle: LoadedBundle, taskRoot: string, runs: number): Promise<number[]> {
  const onnx = bundle.manifest.runtime?.onnx?.file;
  const graph = onnx ? bundle.files.get(onnx) : undefined;
  const tokenizer = bundle.files.get(TOKENIZER_FILE);
  if (!graph || !tokenizer) return [];
  const dir = join(taskRoot, 'floor');
  await mkdir(dir);
  await writeFile(join(dir, 'model.onnx'), graph);
  await writeFile(join(dir, 'tokenizer.json'), tokenizer);
  const modules = ['model/onnx/runtime.ts', 'text/tokenizer.ts'].map(
    (m) => pathToFileURL(join(ROOT, 'src', m)).href,
  );
  const threads = String(recordedThreads(bundle.manifest) ?? 'default');
  const ms: number[] = [];
  for (let run = 0; run < runs; run++) {
    const args = ['--input-type=module', '-e', FLOOR_CHILD, dir, ...modules, threads];
    const child = startChild(process.execPath, args, { cwd: taskRoot });
    ms.push((await child.waitForLine(/^answered 200/, { timeoutMs: 60_000 })).ms);
    await child.stop();
  }
  return ms;
}

async function coldStart(bundle: LoadedBundle) {
  const { runs, nodeBaselineRuns, bucket, prefix } = SETTINGS.coldStart;
  const taskRoot = await mkdtemp(join(tmpdir(), 'bench-cold-'));
  const s3 = await startS3rver(bucket);
  try {
    // The image's layout: the built function beside node_modules.
    await symlink(join(ROOT, 'node_modules'), join(taskRoot, 'node_modules'), 'dir');
    await writeFile(join(taskRoot, 'package.json'), '{"type":"module"}\n');
    const build = await buildFunction({ outdir: taskRoot });
    const modelUri = `s3://${bucket}/${prefix}`;
    await publishBundle(bundle.files, modelUri, { storage: s3.storage });
    const env = {
      MODEL_URI: modelUri,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
      LOG_LEVEL: 'INFO',
    };
    const samples: { ms: number; load: Record<string, number>; runtime: unknown }[] = [];
    for (let run = 0; run < runs; run++) {
      progress(`cold start ${run + 1}/${runs}`);
      const child = startChild(
        process.execPath,
        ['--input-type=module', '-e', COLD_CHILD, pathToFileURL(build.outfile).href, FOUR_EVENT],
        { env },
      );
      const { match, ms } = await child.waitForLine(/^answered (\d+)/, { timeoutMs: 60_000 });
      if (match[1] !== '200') throw new Error(`cold start answered ${match[1]}: ${child.stdout()}`);
      const loaded = child
        .stdout()
        .split('\n')
        .find((l) => l.includes('"model loaded"'));
      const log = loaded
        ? (JSON.parse(loaded) as { timings?: Record<string, number>; runtime?: string })
        : {};
      samples.push({ ms, load: log.timings ?? {}, runtime: log.runtime });
      await child.stop();
    }
    const baseline: number[] = [];
    for (let run = 0; run < nodeBaselineRuns; run++)
      baseline.push((await runChild(process.execPath, ['-e', ''])).ms);
    const floor = await runtimeFloor(bundle, taskRoot, nodeBaselineRuns);
    const medianOf = (key: string) => median(samples.map((s) => s.load[key] ?? 0));
    return {
      what: 'spawn of node importing dist/index.mjs (init: config, S3 read, ONNX session) until its handler answered the 4-review event',
      medianMs: round(median(samples.map((s) => s.ms)), 1),
      runs: samples.map((s) => round(s.ms, 1)),
      runtime: samples[0]?.runtime,
      modelLoadMedianMs: Object.fromEntries(
        ['startedAtMs', 'resolveMs', 'fetchMs', 'verifyMs', 'buildMs', 'warmUpMs', 'loadMs'].map((k) => [
          k,
          medianOf(k),
        ]),
      ),
      nodeEmptyScriptMedianMs: round(median(baseline), 1),
      runtimeFloorMedianMs: floor.length > 0 ? round(median(floor), 1) : null,
      runtimeFloor:
        "node building the function's ONNX runtime and tokenizer from model.onnx + tokenizer.json on local disk, one review scored: no S3, no handler",
      endpoint: 's3rver on 127.0.0.1',
      bundleBytes: bundle.timings.bytes,
    };
  } finally {
    await s3.stop();
    await rm(taskRoot, { recursive: true, force: true });
  }
}

// ---- Main ---------------------------------------------------------------------------------------------

async function createBenchHandler(config: Config): Promise<{ handler: Handler; scorer: Scorer }> {
  const models = createModelRegistry(config.models, config.defaultModel, {
    runtime: config.runtime,
    backend: config.backend,
  });
  const { scorer } = await models.default().get();
  // INFO like production; lines are formatted (a real per-request cost) and dropped instead of printed.
  const logger = createLogger({ level: 'INFO', write: () => undefined });
  return { handler: createHandler({ models, config, logger }), scorer };
}

function target(name: string, limit: number, value: number | null, better: 'lower' | 'higher') {
  const met = value === null ? null : better === 'lower' ? value <= limit : value >= limit;
  return { name, limit, value, met };
}

async function main(): Promise<void> {
  const machine = machineInfo();
  const config = loadConfig();
  const bundle = await loadBundle(config.modelUri);
  const { handler, scorer } = await createBenchHandler(config);
  progress(
    `${bundle.version} on ${scorer.runtime.name}${scorer.runtime.backend ? ` (${scorer.runtime.backend})` : ''}`,
  );
  const baseEvent = JSON.parse(await readFile(FOUR_EVENT, 'utf8')) as ApiGatewayEvent;
  const data = await inputs(JSON.parse(String(baseEvent.body)) as string[]);
  const local = parseStorageUri(bundle.uri);
  const peer =
    local.kind === 'dir' ? await startTorch(local.path) : { skipped: 'the bundle is not a local folder' };
  const torch = 'skipped' in peer ? null : peer;
  if (!torch) progress(`PyTorch peer skipped: ${'skipped' in peer ? peer.skipped : ''}`);
  const parts = new Set((process.env.BENCH_SERVE_PARTS ?? 'requests,batch,cold').split(','));
  try {
    const requests: Record<string, unknown> = {};
    for (const name of ['four', 'reviews64', 'natural100'] as const) {
      if (!parts.has('requests')) break;
      progress(`interleaved: ${name}`);
      requests[name] = await compareRequest(name, data.requests[name], handler, baseEvent, scorer, torch);
    }
    progress(`batch: ${SETTINGS.batch.reviews} reviews`);
    const batch = parts.has('batch') ? await batchThroughput(bundle, data.batch, torch) : null;
    const cold = parts.has('cold') ? await coldStart(bundle) : null;
    const ratio = (name: string) =>
      (requests[name] as { ratios?: { textToText: number } } | undefined)?.ratios?.textToText ?? null;
    await printJson({
      benchmark: 'serve',
      machine,
      settings: {
        model: { name: bundle.manifest.name, version: bundle.version, bytes: bundle.timings.bytes },
        runtime: scorer.runtime.name,
        ort: {
          intraOpThreads: (scorer.runtime as { threads?: number }).threads ?? null,
          spinning: false,
          chunkRows: DEFAULT_CHUNK_ROWS,
        },
        torch: torch ? { ...torch.info, threadsTried: SETTINGS.torchThreads } : peer,
        texts: data.source,
        iterations: SETTINGS,
        measured: {
          handler:
            'ours: the whole handler (middy chain, JSON, validation, tokenising, ONNX Runtime, response) in process',
          text: 'review text -> probabilities: ours Scorer.encode + probabilities; PyTorch the normaliser and tokenizer.json in Python, then the model',
          model:
            "ids -> probabilities: ours the runtime alone; PyTorch tensors -> the architecture's exact best (bag: EmbeddingBag mean over flat ids + pair hashes; lstm: pack_padded_sequence) -> softmax",
          target: 'text / PyTorch text at its better thread count',
        },
      },
      results: { requests, batch, coldStart: cold },
      targets: [
        ...(['four', 'reviews64', 'natural100'] as const).map((n) =>
          target(`${n}: text -> probabilities p50, ours / PyTorch`, TARGETS.latencyRatio, ratio(n), 'lower'),
        ),
        target(
          'process start -> first answer, median ms',
          TARGETS.coldStartMs,
          cold?.medianMs ?? null,
          'lower',
        ),
        target(
          'batch reviews/s per core',
          TARGETS.reviewsPerSecPerCore,
          batch?.reviewsPerSecPerCore ?? null,
          'higher',
        ),
      ],
    });
  } finally {
    torch?.close();
  }
}

if (import.meta.main) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(
        `bench:serve: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      process.exit(1);
    },
  );
}
