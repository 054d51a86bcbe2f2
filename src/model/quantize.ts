/**
 * Int8 embedding tables (per-row symmetric scales), the compression fastText itself applies to its bag
 * models (Joulin et al., "FastText.zip", 2016, quantises far harder): a bag's embedding is nearly all of
 * its bytes, and a cold start downloads, hashes and loads every one of them. One float32 scale per row
 * keeps rare words' small vectors as exact as frequent words' large ones.
 *
 * The quantised model is the model: `quantizeEmbeddings` writes the dequantised values back into the
 * tfjs layers, so the tfjs files, the ONNX graph (int8 table · scale, ./onnx/layers/embedding.ts) and
 * every figure measured on either are the same function. Both runtimes compute q · s as one correctly
 * rounded float32 product, so they agree to the bit on the embedding.
 */
import * as tf from './tf.ts';

export const QUANTIZATIONS = ['int8'] as const;
export type Quantization = (typeof QUANTIZATIONS)[number];

export function isQuantization(value: unknown): value is Quantization {
  return (QUANTIZATIONS as readonly unknown[]).includes(value);
}

/** An embedding table as int8 codes and one scale per row: value[r][c] = codes[r·dim + c] · scales[r]. */
export interface QuantizedTable {
  rows: number;
  dim: number;
  codes: Int8Array;
  scales: Float32Array;
}

/** Symmetric per-row int8: scale = max|row| / 127, code = round(value / scale). An all-zero row stays 0. */
export function quantizeRows(values: Float32Array, rows: number, dim: number): QuantizedTable {
  if (values.length !== rows * dim) throw new RangeError(`${values.length} values for ${rows} × ${dim}`);
  const codes = new Int8Array(values.length);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const row = values.subarray(r * dim, (r + 1) * dim);
    let max = 0;
    for (const v of row) max = Math.max(max, Math.abs(v));
    const scale = Math.fround(max / 127);
    scales[r] = scale;
    if (scale === 0) continue;
    for (let c = 0; c < dim; c++) {
      codes[r * dim + c] = Math.max(-127, Math.min(127, Math.round((row[c] ?? 0) / scale)));
    }
  }
  return { rows, dim, codes, scales };
}

/** The float32 values a table stands for: fround(code · scale), the product ONNX Runtime's Mul gives. */
export function dequantize(table: QuantizedTable): Float32Array {
  const out = new Float32Array(table.codes.length);
  for (let i = 0; i < out.length; i++) {
    out[i] = Math.fround((table.codes[i] ?? 0) * (table.scales[Math.floor(i / table.dim)] ?? 0));
  }
  return out;
}

/**
 * Quantises every Embedding layer of the model in place (its weights become the dequantised values) and
 * returns the tables by layer name, for the ONNX exporter to store as int8.
 */
export function quantizeEmbeddings(model: tf.LayersModel): Map<string, QuantizedTable> {
  const tables = new Map<string, QuantizedTable>();
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'Embedding') continue;
    const [weight] = layer.getWeights();
    if (!weight || weight.rank !== 2) throw new RangeError(`layer ${layer.name}: no 2-D embedding matrix`);
    const [rows = 0, dim = 0] = weight.shape;
    const table = quantizeRows(weight.dataSync() as Float32Array, rows, dim);
    const dequantized = tf.tensor2d(dequantize(table), [rows, dim]);
    layer.setWeights([dequantized]);
    dequantized.dispose();
    tables.set(layer.name, table);
  }
  return tables;
}
