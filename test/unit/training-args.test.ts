import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pickArchitecture } from '../../src/model/architectures/settings.ts';
import { helpText, parseTrainArgs } from '../../training/args.ts';

test('--resume needs no --checkpoint-dir: the default report dir holds the checkpoint', () => {
  const config = parseTrainArgs(['--data', 'train.csv', '--resume']);
  assert.notEqual(config, 'help');
  if (config === 'help') return;
  assert.equal(config.resume, true);
  assert.equal(config.checkpointDir, null);
  assert.equal(config.reportDir, null);
});

test('--help: every flag line starts its description in the same column; the true --report-dir default', () => {
  const lines = helpText()
    .split('\n')
    .filter((line) => line.startsWith('  --'));
  assert.ok(lines.length > 30);
  const columns = new Set(lines.map((line) => /^ {2}--\S+(?: \S+)? +/.exec(line)?.[0].length));
  assert.deepEqual([...columns].length, 1, lines.join('\n'));
  const reportDir = lines.find((line) => line.includes('--report-dir')) ?? '';
  assert.match(reportDir, /default runs\/<name>-<settings hash>/);
});

test('--decisions: argmax and median unless offsets are asked for; argmax must be listed, unknown rules refused', () => {
  const parse = (...extra: string[]) => parseTrainArgs(['--data', 'train.csv', ...extra]);
  const plain = parse();
  assert.ok(plain !== 'help');
  assert.deepEqual(plain.decisions, ['argmax', 'median']);
  const improved = parse('--preset', 'improved');
  assert.ok(improved !== 'help');
  assert.deepEqual(improved.decisions, ['argmax', 'median']);
  const opted = parse('--decisions', 'argmax,median,offsets');
  assert.ok(opted !== 'help');
  assert.deepEqual(opted.decisions, ['argmax', 'median', 'offsets']);
  assert.throws(() => parse('--decisions', 'median,offsets'), /--decisions must list argmax/);
  assert.throws(() => parse('--decisions', 'argmax,mode'), /--decisions must list argmax/);
});

test('--pooling: mean unless asked or the improved preset (the default model); sqrtn or attention for a bag, recorded in the architecture', () => {
  const parse = (...extra: string[]) => parseTrainArgs(['--data', 'train.csv', ...extra]);
  const original = parse('--arch', 'bag');
  assert.ok(original !== 'help');
  assert.equal(original.pooling, 'mean');
  const improved = parse('--preset', 'improved');
  assert.ok(improved !== 'help');
  assert.equal(improved.pooling, 'sqrtn');
  const sqrtn = parse('--arch', 'bag', '--pooling', 'sqrtn');
  assert.ok(sqrtn !== 'help');
  // The manifest's architecture record is pickArchitecture of the config (training/pipeline.ts).
  assert.equal(pickArchitecture({ ...sqrtn, maskZero: true }).pooling, 'sqrtn');
  const attention = parse('--preset', 'improved', '--pooling', 'attention');
  assert.ok(attention !== 'help');
  assert.equal(pickArchitecture({ ...attention, maskZero: true }).pooling, 'attention');
  assert.throws(
    () => parse('--preset', 'improved', '--pooling', 'sum'),
    /--pooling must be one of mean, sqrtn/,
  );
  // lstm does not pool and lstm-pool's pooling is fixed: the flag would be recorded but not used.
  assert.throws(() => parse('--pooling', 'sqrtn'), /--pooling needs --arch bag/);
  assert.throws(() => parse('--arch', 'lstm-pool', '--pooling', 'sqrtn'), /--pooling needs --arch bag/);
});
