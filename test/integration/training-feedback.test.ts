/**
 * The feedback loop end to end on small generated data: feedback stored the way POST /feedback stores it
 * joins the fit rows (never validation or test), capped and deduplicated against the data, and a model
 * trained with it changes its answer on the corrected texts where the same run without it does not.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { storeFeedback } from '../../src/feedback/record.ts';
import { selectBackend } from '../../src/model/backend.ts';
import { batchedProbabilities } from '../../src/model/batching.ts';
import { DirStore } from '../../src/storage/dir.ts';
import { parseTrainArgs, type TrainConfig } from '../../training/args.ts';
import { type TrainResult, train } from '../../training/pipeline.ts';
import type { ProgressSink } from '../../training/progress.ts';
import { Rng } from '../../training/random.ts';

const CALM = ['sunny', 'garden', 'tea', 'holiday'];
const UPSET = ['storm', 'traffic', 'bill', 'argument'];
const FILLER = ['the', 'a', 'we', 'went', 'to', 'after', 'with', 'my', 'friend', 'and', 'then'];

/** label,text rows whose label is decided by one cue word among fillers. */
function emotionCsv(rows: number, seed: number): string {
  const rng = new Rng(seed);
  const next = (n: number) => Math.floor(rng.next() * n);
  const lines = ['label,text'];
  for (let i = 0; i < rows; i++) {
    const upset = next(2) === 1;
    const cues = upset ? UPSET : CALM;
    const words = Array.from({ length: 2 + next(5) }, () => FILLER[next(FILLER.length)]);
    words.splice(next(words.length + 1), 0, cues[next(cues.length)] as string);
    lines.push(`${upset ? 'upset' : 'calm'},${words.join(' ')} ${i}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Calm cue words next to "dentist", a word the data never has: a client says these are upsetting. */
const CORRECTED = CALM.flatMap((cue) => [`${cue} dentist`, `the dentist after ${cue}`, `my ${cue} dentist`]);

const quiet: ProgressSink = { batch() {}, epochEnd() {}, note() {} };
let dir: string;

function config(overrides: Partial<TrainConfig>): TrainConfig {
  const parsed = parseTrainArgs([
    '--data',
    join(dir, 'emotion.csv'),
    ...['--header', '--label-column', 'label', '--text-column', 'text'],
    ...['--title-column', 'none', '--no-include-title', '--test-split-hash', '0.1'],
  ]);
  assert.notEqual(parsed, 'help');
  return {
    ...(parsed as TrainConfig),
    name: 'emotion',
    arch: 'bag',
    numWords: 80,
    embeddingDim: 8,
    dropout: 0,
    epochs: 12,
    batchSize: 16,
    learningRate: 0.05,
    patience: 12,
    baselines: [],
    backend: 'wasm',
    reportDir: join(dir, `run-${Math.random().toString(36).slice(2)}`),
    ...overrides,
  };
}

function answers(result: TrainResult, texts: string[]): string[] {
  const labels = ['calm', 'upset'];
  const sequences = texts.map((t) => result.tokenizer.encode(t, 250));
  return batchedProbabilities(result.model, sequences, null).map(
    (p) => labels[p.indexOf(Math.max(...p))] as string,
  );
}

before(async () => {
  await selectBackend('wasm');
  dir = await mkdtemp(join(tmpdir(), 'train-feedback-'));
  await writeFile(join(dir, 'emotion.csv'), emotionCsv(240, 5));
  const store = new DirStore(join(dir, 'feedback'));
  const at = (i: number) => ({ modelVersion: 'v1', receivedAt: new Date(Date.UTC(2026, 0, 1, 0, i)) });
  for (const [i, text] of CORRECTED.entries()) {
    await storeFeedback(
      store,
      { model: 'emotion', text, title: null, label: 'upset', prediction: 'calm' },
      at(i),
    );
  }
  // Dropped: a text the data already has, a label the data lacks, another model's feedback, and a tie.
  const dataText = (await readFile(join(dir, 'emotion.csv'), 'utf8')).split('\n')[1]?.split(',')[1] ?? '';
  const extra = [
    { model: 'emotion', text: dataText.toUpperCase(), label: 'upset' },
    { model: 'emotion', text: 'a brand new text', label: 'surprise' },
    { model: 'other', text: 'sunny dentist', label: 'calm' },
    { model: 'emotion', text: 'tie text', label: 'calm' },
    { model: 'emotion', text: 'tie text', label: 'upset' },
  ];
  for (const [i, f] of extra.entries()) {
    await storeFeedback(store, { title: null, prediction: null, ...f }, at(100 + i));
  }
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('npm run train -- --feedback', () => {
  let plain: TrainResult;
  let corrected: TrainResult;

  before(async () => {
    const deps = { log: () => {}, progress: quiet };
    plain = await train(config({}), deps);
    corrected = await train(config({ feedback: join(dir, 'feedback') }), deps);
  });

  test('without feedback the corrected texts read as calm; with it, as upset', () => {
    assert.ok((plain.metrics?.accuracy ?? 0) > 0.9, `learnt the data: ${plain.metrics?.accuracy}`);
    assert.deepEqual(
      answers(plain, CORRECTED),
      CORRECTED.map(() => 'calm'),
    );
    assert.deepEqual(
      answers(corrected, CORRECTED),
      CORRECTED.map(() => 'upset'),
    );
    assert.ok((corrected.metrics?.accuracy ?? 0) > 0.9, 'the data is still learnt');
    assert.deepEqual(answers(corrected, ['sunny garden tea']), ['calm']);
  });

  test('metrics.json and the manifest say how many feedback rows were used and why others were not', async () => {
    const metrics = JSON.parse(await readFile(join(corrected.reportDir, 'metrics.json'), 'utf8'));
    assert.deepEqual(metrics.feedback, {
      uri: join(dir, 'feedback'),
      records: 16,
      used: CORRECTED.length,
      dropped: { malformed: 0, unknownLabel: 1, inData: 1, conflicting: 2, overCap: 0 },
      cap: metrics.feedback.cap,
    });
    assert.ok(metrics.feedback.cap >= CORRECTED.length);
    const html = await readFile(join(corrected.reportDir, 'report.html'), 'utf8');
    assert.match(html, /Rows added to training<\/th><td>12</);
    const plainMetrics = JSON.parse(await readFile(join(plain.reportDir, 'metrics.json'), 'utf8'));
    assert.equal(plainMetrics.feedback, null);
  });

  test('the cap: --feedback-max-share bounds the feedback share of the fit rows, newest first', async () => {
    const capped = await train(
      config({ feedback: join(dir, 'feedback'), feedbackMaxShare: 0.02, epochs: 1 }),
      {
        log: () => {},
        progress: quiet,
      },
    );
    const metrics = JSON.parse(await readFile(join(capped.reportDir, 'metrics.json'), 'utf8'));
    assert.equal(metrics.feedback.used, metrics.feedback.cap);
    assert.equal(metrics.feedback.dropped.overCap, CORRECTED.length - metrics.feedback.cap);
    assert.ok(metrics.feedback.cap >= 1 && metrics.feedback.cap < CORRECTED.length);
  });
});
