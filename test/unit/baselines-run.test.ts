import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { main } from '../../training/baselines/run.ts';

describe('baselines run.ts', () => {
  let dir = '';
  const rows = [
    '"1","Awful","broke after a day, awful"',
    '"1","","terrible and awful waste"',
    '"3","Okay","it is okay, average"',
    '"3","Fine","average fine okay"',
    '"5","Great","great, love it"',
    '"5","","excellent great love"',
  ].join('\n');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'baselines-run-'));
    await writeFile(join(dir, 'train.csv'), rows);
    await writeFile(join(dir, 'test.csv'), rows);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('prints metrics for the title + text and text-only views of each setup', async (t) => {
    const printed: string[] = [];
    t.mock.method(console, 'log', (text: string) => printed.push(text));
    const argv = [
      '--train',
      join(dir, 'train.csv'),
      '--test',
      join(dir, 'test.csv'),
      '--setups',
      'words-all',
    ];
    assert.equal(await main(argv), 0);
    const out = JSON.parse(printed.join('\n'));
    const setup = out.setups['words-all'];
    assert.deepEqual(Object.keys(setup.metrics), ['title+text', 'text-only']);
    assert.equal(setup.metrics['title+text'].accuracy, 1);
    assert.equal(setup.metrics['text-only'].n, 6);
    assert.equal(setup.solver.converged, true);
    assert.ok(out.reference['words-2000']);
  });

  test('rejects an unknown setup by name', async () => {
    const argv = ['--train', join(dir, 'train.csv'), '--test', join(dir, 'test.csv'), '--setups', 'nope'];
    await assert.rejects(main(argv), /unknown setup "nope"/);
  });
});
