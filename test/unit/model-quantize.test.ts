/**
 * Int8 embeddings (src/model/quantize.ts): the rounding bound per row, the exporter storing codes and
 * scales so ONNX Runtime answers as the dequantised tfjs model does, and a model whose weights are not
 * the table's values refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { createModel } from '../../src/model/architectures/index.ts';
import { selectBackend } from '../../src/model/backend.ts';
import { exportToOnnx, OnnxExportError } from '../../src/model/onnx/export.ts';
import { checkOnnxAgainstTfjs, probeSequences } from '../../src/model/onnx/probe.ts';
import { decodeNodes } from '../../src/model/onnx/proto.ts';
import { dequantize, quantizeEmbeddings, quantizeRows } from '../../src/model/quantize.ts';

const BAG = {
  arch: 'bag',
  numWords: 30,
  embeddingDim: 8,
  lstmUnits: 4,
  bidirectional: false,
  buckets: 17,
  pooling: 'mean',
  dropout: 0,
  maskZero: true,
  numClasses: 5,
  seed: 3,
} as const;

test('quantizeRows: each value within half a step of its row scale; zero rows stay zero', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 9 }),
      fc.array(fc.float({ min: -50, max: 50, noNaN: true }), { minLength: 54, maxLength: 54 }),
      (rows, dim, pool) => {
        const values = Float32Array.from({ length: rows * dim }, (_, i) =>
          i % 5 === 4 ? 0 : (pool[i] ?? 0),
        );
        values.fill(0, 0, dim); // row 0 all zeros
        const table = quantizeRows(values, rows, dim);
        const back = dequantize(table);
        assert.equal(table.scales[0], 0);
        values.forEach((v, i) => {
          const scale = table.scales[Math.floor(i / dim)] ?? 0;
          // 1e-38: a row of subnormals has a scale that underflows to 0, so it quantises to zeros.
          assert.ok(Math.abs((back[i] ?? 0) - v) <= scale / 2 + 1e-6 * Math.abs(v) + 1e-38, `value ${i}`);
          assert.ok(Math.abs(table.codes[i] ?? 0) <= 127);
        });
      },
    ),
    { seed: 20261125, numRuns: 200 },
  );
});

for (const pooling of ['mean', 'sqrtn', 'attention'] as const) {
  test(`a quantised ${pooling} bag exports int8 codes (about a quarter of the bytes) and ORT equals tfjs within 1e-5`, async () => {
    await selectBackend('cpu');
    const model = createModel({ ...BAG, pooling });
    if (pooling === 'attention') {
      // The query starts at zeros (attention = mean); a seeded one makes the weighting matter. It stays
      // float32: only embedding tables are quantised.
      const pool = model.getLayer('pooling');
      const query = tf.randomNormal([BAG.embeddingDim], 0, 1, 'float32', 7);
      pool.setWeights([query]);
      query.dispose();
    }
    const floatBytes = exportToOnnx(model).byteLength;
    const tables = quantizeEmbeddings(model);
    assert.deepEqual([...tables.keys()], ['embedding']);
    const bytes = exportToOnnx(model, { quantized: tables });
    const table = (BAG.numWords + BAG.buckets) * BAG.embeddingDim;
    // Codes save 3 of every 4 table bytes; the scales (4 per row) and four more nodes take some back.
    assert.ok(floatBytes - bytes.byteLength >= table * 3 - (BAG.numWords + BAG.buckets) * 4 - 512);
    const probes = probeSequences({ count: 80, numWords: BAG.numWords, maxLen: 12, seed: 5 });
    const report = await checkOnnxAgainstTfjs(model, bytes, probes, 1e-5);
    assert.ok(report.maxDifference <= 1e-5);
    // Only Gathers read the int8 tables: nothing widens a whole table, which ONNX Runtime would fold into
    // float32 at every session creation (a cold start's cost).
    const readers = decodeNodes(bytes).filter((n) =>
      n.input.some((i) => /^embedding\/(codes|scales)$/.test(i)),
    );
    assert.deepEqual(
      readers.map((n) => n.opType),
      ['Gather', 'Gather'],
    );
    model.dispose();
  });
}

test('the exporter refuses tables whose values are not the layer weights', () => {
  const model = createModel({ ...BAG });
  const tables = quantizeEmbeddings(model);
  const embedding = model.getLayer('embedding');
  const [weights] = embedding.getWeights();
  assert.ok(weights);
  const changed = tf.tidy(() => weights.add(1e-3));
  embedding.setWeights([changed]);
  assert.throws(
    () => exportToOnnx(model, { quantized: tables }),
    (e: unknown) => e instanceof OnnxExportError && /not the quantised table's values/.test(e.message),
  );
  changed.dispose();
  model.dispose();
});
