/**
 * The ONNX export run in ONNX Runtime against the tfjs model it came from (wasm backend, masked fast
 * path): tiny seeded models of each supported shape, then the committed default bundle. Weights are
 * randomised (seeded) so biases are non-zero and the probabilities far from uniform: an untrained
 * model's near-equal outputs would hide a gate-order or direction mistake.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { MANIFEST_FILE, type Manifest, TOKENIZER_FILE } from '../../src/bundle/manifest.ts';
import { modelFromFiles, modelToFiles, WEIGHTS_FILE, weightPaths } from '../../src/bundle/serialize.ts';
import { ARCHITECTURE_NAMES, type Architecture, createModel } from '../../src/model/architectures/index.ts';
import {
  MAX_NGRAM_VOCABULARY,
  MaskedPooling,
  POOLING_MODES,
  type PoolingMode,
} from '../../src/model/architectures/layers.ts';
import { selectBackend } from '../../src/model/backend.ts';
import { batchedProbabilities } from '../../src/model/batching.ts';
import { verifiedOnnx } from '../../src/model/onnx/bundle.ts';
import { exportToOnnx, OnnxExportError } from '../../src/model/onnx/export.ts';
import { checkOnnxAgainstTfjs, OnnxMismatchError, probeSequences } from '../../src/model/onnx/probe.ts';
import { chunks, OnnxScorer, padPost } from '../../src/model/onnx/runtime.ts';
import { type TokenizerJson, WordTokenizer } from '../../src/text/tokenizer.ts';
import { TINY_TEXTS } from '../helpers/tiny-bundle.ts';

const DEFAULT_BUNDLE = join(
  import.meta.dirname,
  '..',
  '..',
  'models',
  'review-sentiment',
  '20261121T224246Z-43eb3d8f',
);

const TINY: Architecture = {
  arch: 'lstm',
  buckets: 0,
  pooling: 'mean',
  numWords: 30,
  numClasses: 5,
  embeddingDim: 6,
  lstmUnits: 4,
  bidirectional: false,
  dropout: 0.2,
  maskZero: true,
  seed: 11,
};

/** Seeded normal weights: every bias non-zero, outputs clearly apart. */
function randomizeWeights(model: tf.LayersModel, seed: number): tf.LayersModel {
  const weights = model.getWeights().map((w, i) => tf.randomNormal(w.shape, 0, 0.6, 'float32', seed + i));
  model.setWeights(weights);
  tf.dispose(weights);
  return model;
}

/** createModel's layers, but with tfjs's default hard-sigmoid gates (older bundles). */
function hardSigmoidModel(bidirectional: boolean): tf.LayersModel {
  const model = tf.sequential();
  model.add(tf.layers.embedding({ inputDim: 30, outputDim: 6, maskZero: true, inputShape: [null] }));
  const lstm = tf.layers.lstm({ units: 4, recurrentActivation: 'hardSigmoid' });
  model.add(bidirectional ? tf.layers.bidirectional({ layer: lstm as tf.RNN, mergeMode: 'concat' }) : lstm);
  model.add(tf.layers.dense({ units: 3, activation: 'softmax' }));
  return model;
}

/** Embedding → MaskedPooling(mode) → softmax: the pooling modes the architectures do not use directly. */
function pooledModel(mode: PoolingMode): tf.LayersModel {
  const model = tf.sequential();
  model.add(tf.layers.embedding({ inputDim: 30, outputDim: 6, maskZero: true, inputShape: [null] }));
  model.add(new MaskedPooling({ mode }));
  model.add(tf.layers.dense({ units: 3, activation: 'softmax' }));
  return model;
}

const tinyProbes = () => probeSequences({ count: 80, numWords: 30, maxLen: 12, seed: 5 });
/** Architectures a case exported, so a new registry entry without a test fails. */
const exported = new Set<string>();
/** Pooling modes a case exported, so a new mode without a test fails. */
const pooled = new Set<PoolingMode>();

before(async () => {
  await selectBackend('wasm');
});

describe('exportToOnnx: tiny models in ORT equal tfjs within 1e-5', () => {
  /** [name, the registry architecture it covers (null: a hand-built model), build]. */
  const cases: [string, string | null, () => tf.LayersModel][] = [
    ['LSTM, sigmoid gates', 'lstm', () => createModel(TINY)],
    ['Bidirectional LSTM, sigmoid gates', 'lstm', () => createModel({ ...TINY, bidirectional: true })],
    ['LSTM, no dropout', 'lstm', () => createModel({ ...TINY, dropout: 0 })],
    ['LSTM, hard-sigmoid gates', null, () => hardSigmoidModel(false)],
    ['Bidirectional LSTM, hard-sigmoid gates', null, () => hardSigmoidModel(true)],
    [
      'lstm-pool: LSTM steps, masked mean+max',
      'lstm-pool',
      () => createModel({ ...TINY, arch: 'lstm-pool' }),
    ],
    [
      'lstm-pool: Bidirectional LSTM steps, masked mean+max',
      'lstm-pool',
      () => createModel({ ...TINY, arch: 'lstm-pool', bidirectional: true }),
    ],
    [
      'bag: word pairs (NgramIds), masked mean',
      'bag',
      () => createModel({ ...TINY, arch: 'bag', buckets: 17 }),
    ],
    ['bag: words only, masked mean', 'bag', () => createModel({ ...TINY, arch: 'bag', buckets: 0 })],
    [
      'bag: word pairs (NgramIds), masked sqrtn',
      'bag',
      () => createModel({ ...TINY, arch: 'bag', buckets: 17, pooling: 'sqrtn' }),
    ],
    [
      'bag: words only, masked sqrtn',
      'bag',
      () => createModel({ ...TINY, arch: 'bag', buckets: 0, pooling: 'sqrtn' }),
    ],
    [
      'bag: word pairs (NgramIds), masked attention',
      'bag',
      () => createModel({ ...TINY, arch: 'bag', buckets: 17, pooling: 'attention' }),
    ],
    [
      'bag: words only, masked attention',
      'bag',
      () => createModel({ ...TINY, arch: 'bag', buckets: 0, pooling: 'attention' }),
    ],
    ['MaskedPooling max alone, on embeddings', null, () => pooledModel('max')],
    ['MaskedPooling mean-max alone, on embeddings', null, () => pooledModel('mean-max')],
  ];
  for (const [name, arch, build] of cases) {
    test(name, async () => {
      const model = randomizeWeights(build(), 100);
      // Lengths 0..12 in one padded batch, the empty and one-id sequences included.
      const report = await checkOnnxAgainstTfjs(model, exportToOnnx(model), tinyProbes(), 1e-5);
      assert.equal(report.rows, 80);
      if (arch) exported.add(arch);
      for (const layer of model.layers) if (layer instanceof MaskedPooling) pooled.add(layer.mode);
      model.dispose();
    });
  }

  test('every registered architecture and pooling mode has a case above', () => {
    for (const arch of ARCHITECTURE_NAMES) assert.ok(exported.has(arch), `${arch} was not exported`);
    for (const mode of POOLING_MODES) assert.ok(pooled.has(mode), `pooling ${mode} was not exported`);
  });

  test('MaskedPooling sqrtn: the masked sum over sqrt(real steps), an empty row 0, padding ignored', () => {
    // Both runtimes agreeing is not enough: this pins what they agree on.
    const layer = new MaskedPooling({ mode: 'sqrtn' });
    const x = tf.tensor3d([
      [
        [9, 9],
        [1, 2],
        [3, 4],
        [5, 6],
        [7, 8],
      ],
      [
        [9, 9],
        [9, 9],
        [9, 9],
        [9, 9],
        [9, 9],
      ],
    ]);
    const mask = tf.tensor2d([
      [0, 1, 1, 1, 1],
      [0, 0, 0, 0, 0],
    ]);
    const result = layer.call(x, { mask }) as tf.Tensor;
    // Four real steps: (1+3+5+7, 2+4+6+8) / sqrt(4); the all-padding row is 0, not 9s and not NaN.
    const want = [16 / 2, 20 / 2, 0, 0];
    const got = [...result.dataSync()];
    assert.equal(got.length, want.length);
    for (const [i, v] of got.entries()) assert.ok(Math.abs(v - (want[i] ?? Number.NaN)) < 1e-6, `${i}: ${v}`);
    tf.dispose([x, mask, result]);
  });

  test('MaskedPooling attention: softmax of q·x over real steps only, no overflow, an empty row 0', () => {
    const layer = new MaskedPooling({ mode: 'attention' });
    layer.build([null, 3, 2]);
    const query = tf.tensor1d([100, 1]);
    layer.setWeights([query]);
    const x = tf.tensor3d([
      // Padding scores 100·999 and must get weight 0; the real scores 102, 304 and 306 would overflow
      // exp without the max shift (exp(306) is Infinity in float32).
      [
        [999, 0],
        [3, 4],
        [3, 6],
      ],
      [
        [9, 9],
        [9, 9],
        [9, 9],
      ],
      [
        [0.01, 1],
        [0, 2],
        [5, 5],
      ],
    ]);
    const mask = tf.tensor2d([
      [0, 1, 1],
      [0, 0, 0],
      [1, 1, 0],
    ]);
    const result = layer.call(x, { mask }) as tf.Tensor;
    // Row 1: weights 1/(1+e^2) and e^2/(1+e^2) on scores 304 and 306; row 3: scores 2 and 2, so 1/2 each.
    const high = Math.exp(2) / (1 + Math.exp(2));
    const want = [3, 4 * (1 - high) + 6 * high, 0, 0, 0.005, 1.5];
    const got = [...result.dataSync()];
    assert.equal(got.length, want.length);
    for (const [i, v] of got.entries()) assert.ok(Math.abs(v - (want[i] ?? Number.NaN)) < 1e-5, `${i}: ${v}`);
    tf.dispose([query, x, mask, result]);
  });

  test('bag attention: sharp scores (query ×40) stay finite, and ORT equals tfjs within 1e-5', async () => {
    const model = randomizeWeights(
      createModel({ ...TINY, arch: 'bag', buckets: 17, pooling: 'attention' }),
      500,
    );
    const pooling = model.getLayer('pooling');
    const [query] = pooling.getWeights();
    assert.ok(query);
    const sharp = tf.mul(query, 40);
    pooling.setWeights([sharp]);
    const probes = tinyProbes();
    for (const row of batchedProbabilities(model, probes, null)) assert.ok(row.every(Number.isFinite));
    await checkOnnxAgainstTfjs(model, exportToOnnx(model), probes, 1e-5);
    sharp.dispose();
    model.dispose();
  });

  test("bag attention: the query is the bundle's weight, saved and loaded with the model", async () => {
    const model = randomizeWeights(
      createModel({ ...TINY, arch: 'bag', buckets: 17, pooling: 'attention' }),
      600,
    );
    const files = await modelToFiles(model);
    const manifest = (
      JSON.parse(new TextDecoder().decode(files['model.json'])) as {
        weightsManifest: { weights: { name: string; shape: number[] }[] }[];
      }
    ).weightsManifest.flatMap((group) => group.weights);
    assert.deepEqual(
      manifest.find((w) => w.name === 'pooling/query')?.shape,
      [TINY.embeddingDim],
      'model.json names the query',
    );
    const loaded = await modelFromFiles(
      JSON.parse(new TextDecoder().decode(files['model.json'])),
      () => files[WEIGHTS_FILE],
    );
    const [before] = model.getLayer('pooling').getWeights();
    const [after] = loaded.getLayer('pooling').getWeights();
    assert.ok(before && after);
    assert.deepEqual([...after.dataSync()], [...before.dataSync()]);
    const probes = tinyProbes();
    assert.deepEqual(batchedProbabilities(loaded, probes, null), batchedProbabilities(model, probes, null));
    await checkOnnxAgainstTfjs(loaded, exportToOnnx(loaded), probes, 1e-5);
    model.dispose();
    loaded.dispose();
  });

  test('MaskedPooling refuses a mode it does not compute (a newer bundle must not load as another)', () => {
    assert.throws(() => new MaskedPooling({ mode: 'sum' as PoolingMode }), /MaskedPooling mode "sum"/);
  });

  test('bag: the word pairs count (a model that ignored them would differ)', async () => {
    // The same weights with the pair rows of the embedding zeroed must change the answer: the pair ids
    // really reach the mean in both runtimes, not only in one.
    const model = randomizeWeights(createModel({ ...TINY, arch: 'bag', buckets: 17 }), 400);
    const probes = tinyProbes();
    await checkOnnxAgainstTfjs(model, exportToOnnx(model), probes, 1e-5);
    const embedding = model.getLayer('embedding');
    const [table] = embedding.getWeights();
    assert.ok(table);
    const zeroed = tf.tidy(() =>
      tf.concat([table.slice([0, 0], [30, -1]), tf.zeros([17, table.shape[1] ?? 0])], 0),
    );
    const bytes = exportToOnnx(model);
    embedding.setWeights([zeroed]);
    await assert.rejects(checkOnnxAgainstTfjs(model, bytes, probes, 1e-5), OnnxMismatchError);
    zeroed.dispose();
    model.dispose();
  });

  test('bag: word pairs of the largest ids hash alike in tfjs and ONNX Runtime', async () => {
    // Ids near the vocabulary's top make the largest products; a multiplier whose products passed 2^24
    // hashed differently where tfjs computed int32 in float32 (a trained 50k-word bundle failed this).
    const numWords = MAX_NGRAM_VOCABULARY;
    const model = randomizeWeights(createModel({ ...TINY, arch: 'bag', numWords, buckets: 997 }), 401);
    const top = (n: number) => Int32Array.from({ length: n }, (_, i) => numWords - 1 - ((i * 7919) % 500));
    const probes = [top(2), top(5), top(40), Int32Array.from([numWords - 1, 1, numWords - 2, 2])];
    await checkOnnxAgainstTfjs(model, exportToOnnx(model), probes, 1e-5);
    model.dispose();
  });

  test('the record asks for one intra-op thread for a bag, one per CPU for a recurrent graph', async () => {
    const tokenizer = new WordTokenizer({
      format: 'word-tokenizer/1',
      normalizer: 'unicode-words-v1',
      numWords: 30,
      oovIndex: null,
      words: ['good', 'bad'],
    });
    for (const [arch, expected] of [
      ['bag', 1],
      ['lstm', 'vcpus'],
    ] as const) {
      const model = createModel({ ...TINY, arch, buckets: arch === 'bag' ? 17 : 0 });
      const { record } = await verifiedOnnx(model, { tokenizer, maxLen: 12 });
      assert.equal(record.intraOpThreads, expected, arch);
      model.dispose();
    }
  });

  test('a wrong model is caught, naming the row, class and difference', async () => {
    const model = randomizeWeights(createModel(TINY), 100);
    const other = randomizeWeights(createModel(TINY), 200);
    await assert.rejects(
      checkOnnxAgainstTfjs(model, exportToOnnx(other), tinyProbes()),
      (e: Error) =>
        e instanceof OnnxMismatchError && /at probe row \d+ \(\d+ ids\), class \d/.test(e.message),
    );
    model.dispose();
    other.dispose();
  });
});

describe('OnnxScorer', () => {
  test('empty and one-id sequences, alone and in mixed batches, chunked or not, in input order', async () => {
    const model = randomizeWeights(createModel({ ...TINY, bidirectional: true }), 300);
    const bytes = exportToOnnx(model);
    const probes = [[], [7], [3, 9, 1, 28, 4], [], [12], [5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5]].map((ids) =>
      Int32Array.from(ids),
    );
    const want = batchedProbabilities(model, probes, null);
    for (const chunkRows of [Infinity, 2]) {
      const scorer = await OnnxScorer.create(bytes, { intraOpNumThreads: 1, chunkRows });
      const batched = await scorer.probabilities(probes);
      const alone = await Promise.all(probes.map(async (p) => (await scorer.probabilities([p]))[0]));
      await scorer.dispose();
      for (const got of [batched, alone]) {
        probes.forEach((_, i) => {
          const expected = want[i] ?? [];
          assert.equal(got[i]?.length, 5);
          for (const [k, p] of (got[i] ?? []).entries()) {
            assert.ok(Math.abs(p - (expected[k] ?? 0)) <= 1e-5, `row ${i} class ${k}`);
          }
        });
      }
    }
    model.dispose();
  });

  test('rejects a thread count that is not a positive integer', async () => {
    const model = createModel(TINY);
    await assert.rejects(
      OnnxScorer.create(exportToOnnx(model), { intraOpNumThreads: 0 }),
      /intraOpNumThreads/,
    );
    model.dispose();
  });

  test('padPost left-aligns each row and records its real length; never an empty tensor', () => {
    const { ids, lengths, steps } = padPost([Int32Array.of(4, 5), Int32Array.of(), Int32Array.of(6)]);
    assert.equal(steps, 2);
    assert.deepEqual([...ids], [4, 5, 0, 0, 6, 0]);
    assert.deepEqual([...lengths], [2, 0, 1]);
    assert.equal(padPost([Int32Array.of()]).steps, 1);
  });

  test('chunks: one run for small requests, else length-sorted groups covering every row once', () => {
    const seqs = [5, 1, 9, 3, 7].map((n) => new Int32Array(n));
    assert.deepEqual(chunks(seqs, 8), [[0, 1, 2, 3, 4]]);
    assert.deepEqual(chunks(seqs, 2), [[1, 3], [0, 4], [2]]);
    assert.deepEqual(chunks([], 8), [], 'no rows, no run (ONNX Runtime crashes on an empty batch)');
  });
});

describe('exportToOnnx refuses what it cannot reproduce', () => {
  test('an unknown layer, by name and class', () => {
    const model = tf.sequential();
    model.add(tf.layers.embedding({ inputDim: 10, outputDim: 4, maskZero: true, inputShape: [null] }));
    model.add(tf.layers.globalAveragePooling1d({ name: 'pool' }));
    model.add(tf.layers.dense({ units: 2, activation: 'softmax' }));
    assert.throws(
      () => exportToOnnx(model),
      (e: Error) =>
        e instanceof OnnxExportError &&
        /layer "pool" \(GlobalAveragePooling1D\) has no ONNX converter; supported: .*LSTM/.test(e.message),
    );
    model.dispose();
  });

  test('an embedding without maskZero (tfjs would read the padding as words)', () => {
    const model = createModel({ ...TINY, maskZero: false });
    assert.throws(() => exportToOnnx(model), /layer "embedding" \(Embedding\): only maskZero embeddings/);
    model.dispose();
  });

  test('a Bidirectional merge other than concat', () => {
    const model = tf.sequential();
    model.add(tf.layers.embedding({ inputDim: 10, outputDim: 4, maskZero: true, inputShape: [null] }));
    const lstm = tf.layers.lstm({ units: 3 }) as tf.RNN;
    model.add(tf.layers.bidirectional({ layer: lstm, mergeMode: 'sum', name: 'bi' }));
    model.add(tf.layers.dense({ units: 2, activation: 'softmax' }));
    assert.throws(
      () => exportToOnnx(model),
      /layer "bi" \(Bidirectional\): mergeMode "sum" is not supported/,
    );
    model.dispose();
  });
});

describe('the default bundle', () => {
  test('ORT equals tfjs within 1e-5 on 200 probe sequences (real texts, lengths 0..maxLen)', async () => {
    const file = (name: string) => readFile(join(DEFAULT_BUNDLE, name));
    const manifest = JSON.parse((await file(MANIFEST_FILE)).toString()) as Manifest;
    const tokenizer = new WordTokenizer(JSON.parse((await file(TOKENIZER_FILE)).toString()) as TokenizerJson);
    const modelJson: unknown = JSON.parse((await file('model.json')).toString());
    const weights = new Map(
      await Promise.all(weightPaths(modelJson).map(async (p) => [p, new Uint8Array(await file(p))] as const)),
    );
    const model = await modelFromFiles(modelJson, (p) => weights.get(p) ?? new Uint8Array());
    const { numWords, maxLen } = manifest.preprocessing;
    const probes = probeSequences({ count: 200, numWords, maxLen, seed: 42, texts: TINY_TEXTS, tokenizer });
    const report = await checkOnnxAgainstTfjs(model, exportToOnnx(model), probes, 1e-5);
    assert.equal(report.rows, 200);
    model.dispose();
  });
});
