/**
 * Ctrl-C on `npm run train`, as a terminal sends it: SIGINT to the whole process group (npm, its shell and
 * node). Training stops at the next batch, keeps the last epoch's checkpoint, prints how to resume and
 * exits 130; the same command with --resume (no --checkpoint-dir: the default report dir) finishes.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CHECKPOINT_FILE } from '../../training/checkpoint.ts';
import { Rng } from '../../training/random.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const NAME = `signal-test-${process.pid}`;
const WORDS = 'good bad great poor fine awful nice broken love hate ok meh superb junk solid'.split(' ');

/** Rows in the Amazon shape (label, title, text) whose words carry their label, so training has signal. */
function csv(rows: number): string {
  const rng = new Rng(3);
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) {
    const label = 1 + rng.int(5);
    const words = Array.from({ length: 4 + rng.int(12) }, () => WORDS[rng.int(WORDS.length)]);
    words.push(WORDS[label] ?? 'x');
    lines.push(`"${label}","title ${i}","${words.join(' ')}"`);
  }
  return `${lines.join('\n')}\n`;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** `npm run train` (or node on the CLI directly) in its own process group, as a terminal runs it. */
function runTrain(args: string[], direct = false): { child: ChildProcess; done: Promise<Exit> } {
  const [command, prefix] = direct
    ? [process.execPath, ['training/cli.ts']]
    : ['npm', ['run', 'train', '--']];
  const child = spawn(command, [...prefix, ...args], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout?.resume();
  const done = new Promise<Exit>((resolveDone) =>
    child.once('close', (code, signal) => resolveDone({ code, signal, stderr })),
  );
  return { child, done };
}

function runDir(): string | undefined {
  const runs = join(ROOT, 'runs');
  if (!existsSync(runs)) return undefined;
  const found = readdirSync(runs).find((name) => name.startsWith(`${NAME}-`));
  return found === undefined ? undefined : join(runs, found);
}

/** Resolves with the checkpoint's path once the run's first epoch is checkpointed. */
async function firstCheckpoint(child: ChildProcess): Promise<string> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
    const run = runDir();
    const checkpoint = run && join(run, 'checkpoint', CHECKPOINT_FILE);
    if (checkpoint && existsSync(checkpoint)) return checkpoint;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no checkpoint appeared');
}

describe('npm run train and Ctrl-C', () => {
  let dir = '';
  let args: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'training-signals-'));
    await writeFile(join(dir, 'train.csv'), csv(800));
    // The README's local command shape: no --report-dir, no --checkpoint-dir.
    args = ['--data', join(dir, 'train.csv'), '--name', NAME, '--backend', 'cpu', '--epochs', '4'];
    args.push('--patience', '4', '--num-words', '40', '--max-len', '16', '--embedding-dim', '4');
    args.push('--lstm-units', '4', '--batch-size', '32');
  });

  after(async () => {
    const run = runDir();
    if (run) await rm(run, { recursive: true, force: true });
    await rm(dir, { recursive: true, force: true });
  });

  test('SIGINT after the first checkpoint: exit 130, checkpoint kept, resume advice; --resume finishes', async () => {
    const { child, done } = runTrain(args);
    const checkpoint = await firstCheckpoint(child);
    process.kill(-(child.pid ?? 0), 'SIGINT');
    const stopped = await done;
    // npm re-raises the signal its script ended by, so a shell sees 128 + 2 = 130 either way.
    assert.ok(stopped.code === 130 || stopped.signal === 'SIGINT', `${stopped.code} ${stopped.signal}`);
    assert.match(stopped.stderr, /SIGINT: stopping after the current batch/);
    assert.match(stopped.stderr, /last completed epoch is checkpointed in .*checkpoint\.bin/);
    assert.match(stopped.stderr, /resume with: npm run train -- .* --resume/);
    assert.ok(existsSync(checkpoint));

    const resumed = runTrain([...args, '--resume']);
    const finished = await resumed.done;
    assert.equal(finished.code, 0, finished.stderr.slice(-2000));
    assert.match(finished.stderr, /resumed from .*checkpoint\.bin after epoch [1-3]/);
  });

  test('the CLI itself exits 143 on SIGTERM, keeping the checkpoint', async () => {
    const run = runDir();
    if (run) await rm(run, { recursive: true, force: true });
    const { child, done } = runTrain(args, true);
    const checkpoint = await firstCheckpoint(child);
    child.kill('SIGTERM');
    const stopped = await done;
    assert.equal(stopped.code, 143, stopped.stderr.slice(-2000));
    assert.match(stopped.stderr, /SIGTERM: stopping after the current batch/);
    assert.match(stopped.stderr, /resume with: npm run train -- /);
    assert.ok(existsSync(checkpoint));
  });
});
