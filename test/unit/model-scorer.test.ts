import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { type Manifest, parseManifest } from '../../src/bundle/manifest.ts';
import { modelFromFiles } from '../../src/bundle/serialize.ts';
import { createModel } from '../../src/model/architectures/index.ts';
import { lengthBatches } from '../../src/model/batching.ts';
import { argmax, offsetArgmax, type Postprocessing, temperRow } from '../../src/model/postprocess.ts';
import { Scorer } from '../../src/model/scorer.ts';
import { TfjsRuntime } from '../../src/model/tfjs-runtime.ts';
import { padPre, type TokenizerJson, WordTokenizer } from '../../src/text/tokenizer.ts';
import { makeTinyBundle, TINY_TEXTS } from '../helpers/tiny-bundle.ts';

const json = (files: Map<string, Uint8Array>, name: string): unknown =>
  JSON.parse(new TextDecoder().decode(files.get(name)));

/** A tfjs Scorer on the tiny bundle, and its model (these tests hold the Scorer to the model itself). */
async function tinyScorer(
  options: Parameters<typeof makeTinyBundle>[0] = {},
): Promise<Scorer & { model: tf.LayersModel }> {
  const { files, manifest } = await makeTinyBundle(options);
  const model = await modelFromFiles(
    json(files, 'model.json'),
    (path) => files.get(path) ?? new Uint8Array(),
  );
  const fixedLength = manifest.maskZero ? null : manifest.preprocessing.maxLen;
  const tokenizer = new WordTokenizer(json(files, 'tokenizer.json') as TokenizerJson);
  return Object.assign(new Scorer(new TfjsRuntime(model, fixedLength), tokenizer, manifest), { model });
}

before(async () => {
  await tf.setBackend('cpu');
});

describe('lengthBatches', () => {
  test('covers every row once, groups similar lengths, pads each batch to its own longest', () => {
    const lengths = [3, 50, 4, 0, 51, 120, 3, 5];
    const batches = lengthBatches(
      lengths.map((n) => new Int32Array(n)),
      null,
    );
    assert.deepEqual(
      batches.flatMap((b) => b.rows).sort((a, b) => a - b),
      [0, 1, 2, 3, 4, 5, 6, 7],
    );
    for (const batch of batches) {
      const own = Math.max(...batch.rows.map((r) => Math.max(1, lengths[r] ?? 0)));
      assert.equal(batch.length, own);
    }
    assert.equal(batches.length, 3, 'short, ~50 and 120 token reviews form three groups');
  });

  test('with a fixed length every batch is padded to it', () => {
    const batches = lengthBatches([new Int32Array(2), new Int32Array(9)], 250);
    assert.ok(batches.every((b) => b.length === 250));
  });

  test('splits large groups at 64 rows', () => {
    const batches = lengthBatches(
      Array.from({ length: 130 }, () => new Int32Array(10)),
      null,
    );
    assert.deepEqual(
      batches.map((b) => b.rows.length),
      [64, 64, 2],
    );
  });
});

describe('Scorer', () => {
  test('the unpadded fast path equals padding to maxLen within 1e-5', async () => {
    const scorer = await tinyScorer({ maxLen: 250 });
    const texts = [...TINY_TEXTS, 'poor poor poor book', 'Very nice! '.repeat(40), '???', ''];
    const sequences = texts.map((t) => scorer.tokenizer.encode(t, 250));
    const fast = await scorer.probabilities(sequences);
    const padded = tf.tidy(() => {
      const x = tf.tensor2d(padPre(sequences, 250), [sequences.length, 250], 'int32');
      return (scorer.model.predict(x) as tf.Tensor).arraySync() as number[][];
    });
    fast.forEach((row, i) => {
      row.forEach((p, k) => {
        assert.ok(Math.abs(p - (padded[i]?.[k] ?? Number.NaN)) < 1e-5, `text ${i} class ${k}`);
      });
    });
  });

  test('predictions follow input order, with rating = argmax and score = Σ p·k', async () => {
    const scorer = await tinyScorer();
    const texts = ['Very nice!', 'The book was very poor', 'Amazing product! I love it, great value.'];
    const predictions = await scorer.predict(texts);
    const alone = await Promise.all(texts.map(async (t) => (await scorer.predict([t]))[0]));
    assert.deepEqual(predictions, alone, 'batching must not change any result');
    for (const p of predictions) {
      const probs = Object.values(p.probabilities);
      // Probabilities are rounded to 4 decimals, so the argmax may tie with a neighbour after rounding.
      assert.ok((p.probabilities[String(p.rating)] ?? -1) >= Math.max(...probs) - 1e-4);
      const expected = probs.reduce((sum, q, k) => sum + q * (k + 1), 0);
      assert.ok(Math.abs((p.score ?? 0) - expected) < 2e-3);
      assert.ok(Math.abs(probs.reduce((a, b) => a + b, 0) - 1) < 1e-3);
    }
    assert.equal(predictions[1]?.tokens, 5);
  });

  test('the rating follows the manifest decision: offsets on the tempered log-probabilities', async () => {
    const base = await tinyScorer();
    const texts = [...TINY_TEXTS, 'poor poor poor book', '???'];
    const raw = await base.probabilities(base.encode(texts));
    const withPost = (postprocessing: Postprocessing) =>
      new Scorer(base.runtime, base.tokenizer, parseManifest({ ...base.manifest, postprocessing }));
    const argmaxes = raw.map((row) => argmax(temperRow(row, 0.7)) + 1);
    // Zero offsets answer as argmax does.
    const zero = await withPost({ temperature: 0.7, decision: 'offsets', offsets: [0, 0, 0, 0, 0] }).predict(
      texts,
    );
    assert.deepEqual(
      zero.map((p) => p.rating),
      argmaxes,
    );
    assert.ok(
      argmaxes.some((r) => r !== 3),
      'the tiny model answers something else than 3 somewhere',
    );
    // A large offset on 3 stars makes every answer 3; the probabilities and score do not change.
    const pushed = await withPost({
      temperature: 0.7,
      decision: 'offsets',
      offsets: [0, 0, 30, 0, 0],
    }).predict(texts);
    assert.deepEqual(
      pushed.map((p) => p.rating),
      texts.map(() => 3),
    );
    assert.deepEqual(
      pushed.map((p) => [p.probabilities, p.score]),
      zero.map((p) => [p.probabilities, p.score]),
    );
    // In general: argmax_k(log p_k + b_k) of the tempered row.
    const offsets = [0, 0.4, 0.2, -0.1, -0.3];
    const fitted = await withPost({ temperature: 0.7, decision: 'offsets', offsets }).predict(texts);
    assert.deepEqual(
      fitted.map((p) => p.rating),
      raw.map((row) => offsetArgmax(temperRow(row, 0.7), offsets) + 1),
    );
  });

  test('non-ordinal labels give the label name and no expected score', async () => {
    const scorer = await tinyScorer({ labels: ['anger', 'joy', 'fear'] });
    const [p] = await scorer.predict(['Very nice!']);
    assert.ok(p && typeof p.rating === 'string' && ['anger', 'joy', 'fear'].includes(p.rating));
    assert.equal(p.score, null);
    assert.deepEqual(Object.keys(p.probabilities), ['anger', 'joy', 'fear']);
  });

  test('an unmasked bundle is run padded to maxLen (the computation it was trained with)', async () => {
    const scorer = await tinyScorer({ maskZero: false, maxLen: 12 });
    const seq = scorer.tokenizer.encode('The book was very poor', 12);
    const [fast] = await scorer.probabilities([seq]);
    const padded = tf.tidy(() =>
      Array.from(
        (scorer.model.predict(tf.tensor2d(padPre([seq], 12), [1, 12], 'int32')) as tf.Tensor).dataSync(),
      ),
    );
    assert.deepEqual(Array.from(fast ?? []), padded);
  });

  test('does not leak tensors across requests', async () => {
    const scorer = await tinyScorer();
    await scorer.predict(TINY_TEXTS);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) await scorer.predict(TINY_TEXTS);
    assert.equal(tf.memory().numTensors, before);
  });
});

test('the factory builds a bidirectional variant that serialises and reloads', async () => {
  const model = createModel({
    arch: 'lstm',
    buckets: 0,
    pooling: 'mean',
    numWords: 30,
    numClasses: 5,
    embeddingDim: 4,
    lstmUnits: 3,
    bidirectional: true,
    dropout: 0.1,
    maskZero: true,
    seed: 3,
  });
  const { modelToFiles } = await import('../../src/bundle/serialize.ts');
  const files = await modelToFiles(model);
  const back = await modelFromFiles(
    JSON.parse(new TextDecoder().decode(files['model.json'])),
    () => files['weights.bin'],
  );
  const x = tf.tensor2d([[0, 3, 4, 5]], [1, 4], 'int32');
  assert.deepEqual((back.predict(x) as tf.Tensor).arraySync(), (model.predict(x) as tf.Tensor).arraySync());
});

test('manifest values reach the scorer unchanged', async () => {
  const scorer = await tinyScorer({ version: 'v9' });
  const manifest: Manifest = scorer.manifest;
  assert.equal(manifest.version, 'v9');
  assert.deepEqual(manifest.labelValues, [1, 2, 3, 4, 5]);
});

test('tokenizer.json is refused with a named reason: duplicate words, a bad numWords, too many words', () => {
  const json = (patch: Partial<TokenizerJson>): TokenizerJson => ({
    format: 'word-tokenizer/1',
    normalizer: 'unicode-words-v1',
    numWords: 10,
    oovIndex: null,
    words: ['good', 'bad'],
    ...patch,
  });
  assert.equal(new WordTokenizer(json({})).encode('bad good', 5).join(), '2,1');
  assert.throws(() => new WordTokenizer(json({ words: ['good', 'bad', 'good'] })), /words must be unique/);
  assert.throws(() => new WordTokenizer(json({ numWords: 1 })), /numWords must be an integer >= 2/);
  assert.throws(() => new WordTokenizer(json({ numWords: 2 })), /2 words exceed numWords 2/);
});
