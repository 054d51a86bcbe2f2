/**
 * The training pipeline end to end on small generated data: it must learn a separable task, publish a
 * bundle to a real S3-protocol server, and the serving loader must read back a model that predicts
 * exactly what the trained one did. Also: malformed rows, --strict, determinism and the CLI contract.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadBundle } from '../../src/bundle/read.ts';
import { selectBackend } from '../../src/model/backend.ts';
import { buildScorer } from '../../src/model/build.ts';
import { Scorer } from '../../src/model/scorer.ts';
import { TfjsRuntime } from '../../src/model/tfjs-runtime.ts';
import { parseTrainArgs, type TrainConfig } from '../../training/args.ts';
import { train } from '../../training/pipeline.ts';
import type { ProgressSink } from '../../training/progress.ts';
import { type S3rverHandle, startS3rver } from '../helpers/s3rver.ts';

const CUES = [
  ['awful', 'broken', 'refund'],
  ['poor', 'flimsy', 'disappointing'],
  ['okay', 'average', 'mediocre'],
  ['good', 'solid', 'nice'],
  ['excellent', 'perfect', 'love'],
];
const FILLER = [
  'the',
  'product',
  'it',
  'was',
  'this',
  'i',
  'bought',
  'for',
  'my',
  'and',
  'after',
  'a',
  'week',
];

/** Amazon-shaped rows whose rating is decided by one cue word hidden among filler words. */
function toyCsv(rows: number, seed: number): string {
  let state = seed;
  const next = (n: number) => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state % n;
  };
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) {
    const rating = next(5);
    const words = Array.from({ length: 3 + next(12) }, () => FILLER[next(FILLER.length)]);
    words.splice(next(words.length + 1), 0, CUES[rating]?.[next(3)] ?? '');
    lines.push(`"${rating + 1}","Title ${i}","${words.join(' ')}."`);
  }
  return `${lines.join('\n')}\n`;
}

const quiet: ProgressSink = { batch() {}, epochEnd() {}, note() {} };
let dir: string;
let s3: S3rverHandle;

function config(overrides: Partial<TrainConfig>): TrainConfig {
  const parsed = parseTrainArgs(['--data', join(dir, 'train.csv')]);
  assert.notEqual(parsed, 'help');
  return {
    ...(parsed as TrainConfig),
    test: join(dir, 'test.csv'),
    numWords: 60,
    embeddingDim: 16,
    lstmUnits: 16,
    dropout: 0,
    epochs: 8,
    batchSize: 32,
    learningRate: 0.01,
    patience: 3,
    backend: 'wasm',
    reportDir: join(dir, `run-${Math.random().toString(36).slice(2)}`),
    ...overrides,
  };
}

before(async () => {
  await selectBackend('wasm');
  dir = await mkdtemp(join(tmpdir(), 'train-publish-'));
  const bad = '"3","only two columns"\n"","Empty label","some text"\n"4","Empty text",""\n';
  await writeFile(join(dir, 'train.csv'), toyCsv(300, 1) + bad + toyCsv(300, 2));
  await writeFile(join(dir, 'test.csv'), toyCsv(200, 3));
  s3 = await startS3rver('models');
});

after(async () => {
  await s3?.stop();
});

describe('npm run train', () => {
  let result: Awaited<ReturnType<typeof train>>;

  before(async () => {
    const out = `s3://${s3.bucket}/review-sentiment/`;
    result = await train(config({ out }), { storage: s3.storage, log: () => {}, progress: quiet });
  });

  test('learns a separable task far above chance (0.2)', () => {
    assert.ok(result.metrics, 'evaluated on --test');
    assert.ok(result.metrics.accuracy > 0.9, `accuracy ${result.metrics.accuracy}`);
    assert.ok((result.metrics.mae ?? 9) < 0.2, `mae ${result.metrics.mae}`);
  });

  test('publishes to S3 and the serving loader predicts exactly what the trained model did', async () => {
    assert.equal(result.published?.version, result.version);
    const loaded = await loadBundle(`s3://${s3.bucket}/review-sentiment/`, { storage: s3.storage });
    assert.equal(loaded.version, result.version, 'the latest pointer names the new version');
    // The bundle carries model.onnx, so serving runs ONNX Runtime; the trained model runs in tfjs.
    const served = await buildScorer(loaded);
    assert.equal(served.runtime.name, 'onnx');
    const trained = new Scorer(new TfjsRuntime(result.model, null), result.tokenizer, loaded.manifest);
    const texts = ['it was excellent and i love it', 'awful, broken after a week', 'okay I guess', 'zzz', ''];
    const [onnx, tfjs] = await Promise.all([served, trained].map((s) => s.probabilities(s.encode(texts))));
    texts.forEach((_, i) => {
      for (const [k, p] of (tfjs?.[i] ?? []).entries()) {
        assert.ok(Math.abs((onnx?.[i]?.[k] ?? Number.NaN) - p) <= 1e-5, `text ${i} class ${k}`);
      }
    });
    assert.deepEqual(
      (await served.predict(texts)).map((p) => p.rating),
      (await trained.predict(texts)).map((p) => p.rating),
    );
    assert.equal((await served.predict(['perfect product']))[0]?.rating, 5);
  });

  test('the manifest carries labels, preprocessing, metrics and the data hash', async () => {
    const { manifest } = await loadBundle(`s3://${s3.bucket}/review-sentiment/${result.version}/`, {
      storage: s3.storage,
    });
    assert.deepEqual(manifest.labels, ['1', '2', '3', '4', '5']);
    assert.equal(manifest.preprocessing.numWords, 60);
    assert.equal(manifest.maskZero, true);
    const metrics = manifest.metrics as {
      test: Record<string, { accuracy: number; ece: number }>;
      validation: Record<string, unknown>;
      calibration: {
        temperature: number;
        decision: string;
        offsets?: number[];
        candidates: { decision: string; macroF1: number }[];
      };
      baselines: Record<string, Record<string, { macroF1: number }>>;
    };
    assert.equal(metrics.test['title+text']?.accuracy, result.metrics?.accuracy);
    assert.deepEqual(Object.keys(metrics.test), ['title+text', 'text-only']);
    assert.deepEqual(Object.keys(metrics.validation), ['title+text', 'text-only']);
    assert.ok((metrics.test['text-only']?.ece ?? -1) >= 0);
    const { temperature, decision, offsets } = metrics.calibration;
    assert.deepEqual(manifest.postprocessing, { temperature, decision, ...(offsets ? { offsets } : {}) });
    assert.ok(metrics.calibration.candidates.some((c) => c.decision === decision));
    assert.ok(metrics.calibration.temperature > 0);
    assert.deepEqual(Object.keys(metrics.baselines), ['words-2000', 'bigrams-200k']);
    assert.ok((metrics.baselines['bigrams-200k']?.['text-only']?.macroF1 ?? -1) >= 0);
    const data = (manifest.training as { data: { sha256: string; badRows: number } }).data;
    assert.match(data.sha256, /^[0-9a-f]{64}$/);
    assert.equal(data.badRows, 3);
  });

  test('writes metrics.json with the bad rows by line and a self-contained report.html', async () => {
    const metrics = JSON.parse(await readFile(join(result.reportDir, 'metrics.json'), 'utf8'));
    assert.deepEqual(
      metrics.badRows.train.map((b: { line: number }) => b.line),
      [301, 302, 303],
    );
    assert.ok(metrics.history.length >= 1);
    const html = await readFile(join(result.reportDir, 'report.html'), 'utf8');
    assert.match(html, /<svg/);
    assert.doesNotMatch(html, /(src|href)="https?:/);
  });

  test('--strict fails on the first malformed row, naming its line', async () => {
    await assert.rejects(train(config({ strict: true }), { log: () => {}, progress: quiet }), /line 301/);
  });

  test('same seed, data and backend give the same tokenizer and metrics', async () => {
    const again = await train(config({}), { log: () => {}, progress: quiet });
    assert.deepEqual(again.tokenizer.toJSON(), result.tokenizer.toJSON());
    assert.deepEqual(again.metrics, result.metrics);
  });
});

describe('training CLI', () => {
  const cli = (args: string[]) =>
    spawnSync(process.execPath, ['training/cli.ts', ...args], {
      encoding: 'utf8',
      cwd: join(import.meta.dirname, '../..'),
    });

  test('--help documents every flag', async () => {
    const run = cli(['--help']);
    assert.equal(run.status, 0);
    const { FLAGS } = await import('../../training/args.ts');
    for (const flag of FLAGS) {
      const name = flag.key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
      assert.match(run.stdout, new RegExp(`--${name}\\b`), `--${name} missing from --help`);
    }
  });

  test('usage errors exit 2 with the reason; a missing file exits 1 naming it', () => {
    const bad = cli(['--data', 'x.csv', '--epochs', 'many']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--epochs must be a non-negative integer/);
    assert.equal(cli(['--epochs', '3']).status, 2);
    const missing = cli(['--data', join(dir, 'nope.csv'), '--backend', 'cpu']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /nope\.csv/);
  });
});

test('--preset improved reproduces the committed default model settings', async () => {
  const { readFileSync, readdirSync } = await import('node:fs');
  const root = join(import.meta.dirname, '../../models/review-sentiment');
  const version = readFileSync(join(root, 'latest'), 'utf8').trim();
  assert.ok(readdirSync(root).includes(version));
  const manifest = JSON.parse(readFileSync(join(root, version, 'manifest.json'), 'utf8'));
  const trained = manifest.training.settings as Record<string, unknown>;
  const preset = parseTrainArgs(['--data', String(trained.data), '--preset', 'improved']);
  assert.notEqual(preset, 'help');
  for (const key of [
    'numWords',
    'normalizer',
    'maxLen',
    'embeddingDim',
    'lstmUnits',
    'bidirectional',
    'dropout',
    'classWeights',
    'epochs',
    'patience',
    'batchSize',
    'learningRate',
    'seed',
    'validationSplit',
  ] as const) {
    assert.deepEqual((preset as TrainConfig)[key], trained[key], key);
  }
});
