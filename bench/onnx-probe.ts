/**
 * `node bench/onnx-probe.ts`: the default bundle on ONNX Runtime vs TensorFlow.js wasm, model time only
 * (texts are encoded beforehand), printed as one JSON document on stdout.
 *
 * - exportMs / sessionCreateMs: exportToOnnx, and one InferenceSession from its bytes (median of runs).
 * - probe: the exported model checked against tfjs on 200 probe sequences (max difference).
 * - requests: median ms of the same encoded request per variant: tfjs wasm (the Scorer's length batches),
 *   ORT on 1 and 2 intra-op threads, in one padded run or length-sorted chunks.
 *
 * Requests: the README's 4 reviews, 64 test.csv reviews of 40-60 words, 100 test.csv reviews of natural
 * length (evenly spaced over the file); generated texts stand in when ../shared/data/test.csv is absent.
 * MODEL_URI (default models/review-sentiment/) as for the function.
 */
import { join, resolve } from 'node:path';
import { loadBundle } from '../src/bundle/read.ts';
import { selectBackend } from '../src/model/backend.ts';
import { buildScorer } from '../src/model/build.ts';
import { exportToOnnx } from '../src/model/onnx/export.ts';
import { checkOnnxAgainstTfjs, probeSequences } from '../src/model/onnx/probe.ts';
import { OnnxScorer, type OnnxScorerOptions } from '../src/model/onnx/runtime.ts';
import type { Scorer } from '../src/model/scorer.ts';
import type { TfjsRuntime } from '../src/model/tfjs-runtime.ts';
import { AMAZON_CSV, loadCsv } from '../training/data.ts';
import { machineInfo } from './lib/machine.ts';
import { printJson, progress } from './lib/output.ts';
import { median, round } from './lib/stats.ts';
import { generateTexts, pickSpread, textsOfLength, wordCount } from './lib/texts.ts';
import { timeIterations } from './lib/timing.ts';

const ROOT = resolve(import.meta.dirname, '..');
const TEST_CSV = resolve(ROOT, '..', 'shared', 'data', 'test.csv');
const FOUR = ['The book was very poor', 'Very nice!', 'The author could have done more', 'Amazing product!'];
const WORDS =
  'the a and it this was is for of to my not but very great good bad poor nice book product'.split(' ');
const TIMING = { warmup: 3, iterations: 40, budgetMs: 4000 } as const;

const ORT_VARIANTS: Record<string, OnnxScorerOptions> = {
  'ort-1thread-oneRun': { intraOpNumThreads: 1, chunkRows: Infinity },
  'ort-1thread-chunks8': { intraOpNumThreads: 1, chunkRows: 8 },
  'ort-1thread-chunks16': { intraOpNumThreads: 1, chunkRows: 16 },
  'ort-1thread-chunks32': { intraOpNumThreads: 1, chunkRows: 32 },
  'ort-2threads-chunks16': { intraOpNumThreads: 2, chunkRows: 16 },
  'ort-2threads-chunks16-spinning': { intraOpNumThreads: 2, chunkRows: 16, allowSpinning: true },
};

async function requests(): Promise<{ source: string; texts: Record<string, string[]> }> {
  try {
    const all = (await loadCsv(TEST_CSV, { ...AMAZON_CSV, includeTitle: false })).examples.map((e) => e.text);
    const reviews64 = textsOfLength(all, { count: 64, minWords: 40, maxWords: 60 });
    if (reviews64)
      return { source: TEST_CSV, texts: { four: FOUR, reviews64, natural100: pickSpread(all, 100) } };
  } catch (error) {
    progress(`${TEST_CSV} unavailable (${(error as Error).message}); generating texts`);
  }
  const generated = (count: number, words: number) =>
    generateTexts({ count, words, vocabulary: WORDS, seed: 1 });
  return {
    source: 'generated',
    texts: { four: FOUR, reviews64: generated(64, 50), natural100: generated(100, 75) },
  };
}

async function medianMs(run: () => unknown): Promise<number> {
  return round(median(await timeIterations({ run, ...TIMING })), 2);
}

async function timeRequest(
  scorer: Scorer,
  bytes: Uint8Array,
  seqs: Int32Array[],
): Promise<Record<string, number>> {
  const result: Record<string, number> = { 'tfjs-wasm': await medianMs(() => scorer.probabilities(seqs)) };
  for (const [name, options] of Object.entries(ORT_VARIANTS)) {
    const ort = await OnnxScorer.create(bytes, options);
    result[name] = await medianMs(() => ort.probabilities(seqs));
    await ort.dispose();
  }
  return result;
}

async function main(): Promise<void> {
  const backend = await selectBackend('wasm');
  const loaded = await loadBundle(process.env.MODEL_URI ?? join(ROOT, 'models', 'review-sentiment'));
  const scorer = await buildScorer(loaded, { runtime: 'tfjs', backend: 'wasm' });
  const { model } = scorer.runtime as TfjsRuntime;
  const { numWords, maxLen } = loaded.manifest.preprocessing;
  let start = performance.now();
  const bytes = exportToOnnx(model);
  const exportMs = round(performance.now() - start, 1);
  const sessionCreateMs = await medianMs(async () =>
    (await OnnxScorer.create(bytes, { intraOpNumThreads: 1 })).dispose(),
  );
  progress('checking the export on 200 probe sequences');
  start = performance.now();
  const probes = probeSequences({
    count: 200,
    numWords,
    maxLen,
    seed: 42,
    texts: FOUR,
    tokenizer: scorer.tokenizer,
  });
  const probe = {
    ...(await checkOnnxAgainstTfjs(model, bytes, probes)),
    ms: Math.round(performance.now() - start),
  };
  const { source, texts } = await requests();
  const results: Record<string, unknown> = {};
  for (const [name, list] of Object.entries(texts)) {
    progress(`timing ${name} (${list.length} reviews)`);
    const seqs = list.map((t) => scorer.tokenizer.encode(t, maxLen));
    const tokens = seqs.map((s) => s.length).sort((a, b) => a - b);
    const words = list.map(wordCount);
    results[name] = {
      reviews: list.length,
      medianWords: median(words),
      tokens: { median: median(tokens), max: tokens.at(-1) },
      medianMs: await timeRequest(scorer, bytes, seqs),
    };
  }
  await printJson({
    machine: machineInfo(),
    model: loaded.version,
    backend: { tfjs: backend.name, detail: backend.detail },
    onnxBytes: bytes.byteLength,
    exportMs,
    sessionCreateMs,
    probe,
    textSource: source,
    requests: results,
  });
}

await main();
