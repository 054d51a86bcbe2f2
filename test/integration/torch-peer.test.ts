/**
 * bench/torch_serve.py, the PyTorch peer `npm run bench:serve` times against, rebuilds a bag bundle with
 * nn.EmbeddingBag (attention: a padded gather and masked softmax) instead of tfjs' masked pooling. Its
 * speed is only comparable if it computes the same model: each pooling it accepts must give the
 * probabilities tfjs gives, on the same ids. Skipped where /usr/bin/python3 has no torch (as the bench
 * itself reports).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { createBundleFiles } from '../../src/bundle/files.ts';
import { createModel } from '../../src/model/architectures/index.ts';
import { selectBackend } from '../../src/model/backend.ts';
import { batchedProbabilities } from '../../src/model/batching.ts';
import { WordTokenizer } from '../../src/text/tokenizer.ts';
import { TINY_TEXTS, writeBundleDir } from '../helpers/tiny-bundle.ts';

const PYTHON = '/usr/bin/python3';
const PEER = join(import.meta.dirname, '..', '..', 'bench', 'torch_serve.py');
const torchMissing = spawnSync(PYTHON, ['-c', 'import torch, numpy']).status !== 0;

before(async () => {
  await selectBackend('cpu');
});

/** Sends each message as a JSON line and returns the peer's replies, the ready line first. */
async function askPeer(bundleDir: string, messages: object[]): Promise<Record<string, unknown>[]> {
  const child = spawn(PYTHON, [PEER, bundleDir], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += String(chunk);
  });
  for (const message of messages) child.stdin.write(`${JSON.stringify(message)}\n`);
  child.stdin.end();
  const replies: Record<string, unknown>[] = [];
  for await (const line of createInterface({ input: child.stdout })) replies.push(JSON.parse(line));
  assert.equal(replies.length, messages.length + 1, `the peer stopped early: ${stderr.slice(-1500)}`);
  return replies;
}

for (const pooling of ['mean', 'sqrtn', 'attention'] as const) {
  test(`${pooling === 'attention' ? 'an' : 'a'} ${pooling} bag: the PyTorch peer's probabilities equal tfjs's within 1e-5`, {
    skip: torchMissing && `${PYTHON} cannot import torch and numpy`,
  }, async () => {
    const tokenizer = WordTokenizer.fit(TINY_TEXTS, { normalizer: 'unicode-words-v1', numWords: 40 });
    const architecture = {
      arch: 'bag',
      buckets: 17,
      pooling,
      numWords: tokenizer.numWords,
      numClasses: 5,
      embeddingDim: 8,
      lstmUnits: 1,
      bidirectional: false,
      dropout: 0,
      maskZero: true,
      seed: 5,
    };
    const model = createModel(architecture);
    // Seeded normal weights: outputs far from uniform, so a wrong pooling cannot hide in near-equal answers.
    const weights = model.getWeights().map((w, i) => tf.randomNormal(w.shape, 0, 0.6, 'float32', 50 + i));
    model.setWeights(weights);
    tf.dispose(weights);
    const files = await createBundleFiles({
      model,
      tokenizer,
      name: 'peer-test',
      version: 'v1',
      labels: ['1', '2', '3', '4', '5'],
      maxLen: 20,
      maskZero: true,
      architecture,
      training: { note: 'untrained test fixture' },
      metrics: {},
      onnx: false,
    });
    const root = await mkdtemp(join(tmpdir(), 'torch-peer-'));
    try {
      const dir = await writeBundleDir(root, files, 'v1');
      // 0 ids (an empty bag: sqrtn's max(count, 1) keeps it 0, attention's weights are all 0), 1 id (no
      // pairs) and 20 ids (39 in the bag; attention's padded batch is 39 wide, every shorter row padded).
      const texts = ['', 'nice', ...TINY_TEXTS, TINY_TEXTS.join(' ')];
      const sequences = texts.map((text) => tokenizer.encode(text, 20));
      assert.deepEqual([sequences[0]?.length, sequences[1]?.length, sequences.at(-1)?.length], [0, 1, 20]);
      const [ready, loaded, answer] = await askPeer(dir, [
        { op: 'load', name: 'probe', texts, sequences: sequences.map((s) => [...s]) },
        { op: 'probabilities', name: 'probe' },
      ]);
      assert.equal(ready?.pooling, pooling);
      assert.equal(loaded?.idMismatches, 0);
      const theirs = answer?.probabilities as number[][];
      const ours = batchedProbabilities(model, sequences, null);
      assert.equal(theirs.length, ours.length);
      ours.forEach((row, r) => {
        for (const [k, p] of row.entries()) {
          const difference = Math.abs(p - (theirs[r]?.[k] ?? Number.NaN));
          assert.ok(difference <= 1e-5, `row ${r} (${sequences[r]?.length} ids), class ${k}: ${difference}`);
        }
      });
    } finally {
      model.dispose();
      await rm(root, { recursive: true, force: true });
    }
  });
}
