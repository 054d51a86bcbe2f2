import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CHECKPOINT_FILE } from '../../training/checkpoint.ts';
import { handleInterrupts, resumeAdvice } from '../../training/interrupt.ts';

function setup() {
  const source = new EventEmitter();
  const written: string[] = [];
  const exits: number[] = [];
  const interrupts = handleInterrupts(
    (m) => written.push(m),
    (code) => exits.push(code),
    source,
  );
  return { source, written, exits, interrupts };
}

test('the first signal aborts the run without exiting; a second one exits at once with its code', () => {
  const { source, written, exits, interrupts } = setup();
  source.emit('SIGINT');
  assert.equal(interrupts.signal.aborted, true);
  assert.equal((interrupts.signal.reason as Error).name, 'AbortError');
  assert.equal(interrupts.received(), 'SIGINT');
  assert.deepEqual(exits, []);
  assert.match(written.join(''), /SIGINT: stopping after the current batch/);
  source.emit('SIGTERM');
  assert.deepEqual(exits, [143]);
  source.emit('SIGINT');
  assert.deepEqual(exits, [143, 130]);
  interrupts.dispose();
  assert.equal(source.listenerCount('SIGINT') + source.listenerCount('SIGTERM'), 0);
});

test('SIGTERM first is remembered as SIGTERM', () => {
  const { source, interrupts } = setup();
  source.emit('SIGTERM');
  assert.equal(interrupts.received(), 'SIGTERM');
  interrupts.dispose();
});

test('resume advice: the same arguments plus --resume, shell-quoted; none without a checkpoint', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'interrupt-'));
  try {
    assert.match(resumeAdvice(dir, ['--data', 'x.csv']), /no checkpoint was written/);
    await writeFile(join(dir, CHECKPOINT_FILE), 'x');
    const advice = resumeAdvice(dir, ['--data', 'my data.csv', '--name', "o'k"]);
    assert.match(advice, new RegExp(`checkpointed in ${join(dir, CHECKPOINT_FILE)}`));
    assert.match(advice, /resume with: npm run train -- --data 'my data\.csv' --name 'o'\\''k' --resume\n/);
    assert.doesNotMatch(resumeAdvice(dir, ['--data', 'x.csv', '--resume']), /--resume --resume/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
