/**
 * The TensorFlow.js runtime: the bundle's model.json + weights rebuilt in memory, checked against the
 * manifest, run on length batches (./batching.ts). Imported lazily by ./build.ts, only when a bundle is
 * served with TensorFlow.js, so ONNX serving never loads tfjs.
 */

import { MODEL_FILE } from '../bundle/manifest.ts';
import { bundleError, type LoadedBundle, parseJson } from '../bundle/read.ts';
import { modelFromFiles, weightPaths } from '../bundle/serialize.ts';
import { InternalError, messageOf } from '../errors.ts';
import type * as tf from './tf.ts';
// Registers the custom layers (NgramIds, MaskedPooling) so bundles that use them deserialise.
import './architectures/layers.ts';
import { batchedProbabilities } from './batching.ts';
import type { ScoringRuntime } from './runtime.ts';

type BundleParts = Pick<LoadedBundle, 'manifest' | 'files' | 'uri'>;

export class TfjsRuntime implements ScoringRuntime {
  readonly name = 'tfjs';
  readonly model: tf.LayersModel;
  readonly backend: string | null;
  /** null: a masked model, each length batch padded to its own longest; else every batch to this. */
  readonly fixedLength: number | null;

  constructor(model: tf.LayersModel, fixedLength: number | null, backend: string | null = null) {
    this.model = model;
    this.fixedLength = fixedLength;
    this.backend = backend;
  }

  async probabilities(sequences: readonly Int32Array[]): Promise<Float32Array[]> {
    return batchedProbabilities(this.model, sequences, this.fixedLength);
  }

  dispose(): void {
    this.model.dispose();
  }
}

/** The model from verified bytes, checked against the manifest; the backend must already be selected. */
export async function buildTfjsRuntime(loaded: BundleParts, backend: string | null): Promise<TfjsRuntime> {
  const model = await buildModel(loaded);
  try {
    checkModel(loaded, model);
  } catch (error) {
    model.dispose();
    throw error;
  }
  const { manifest } = loaded;
  return new TfjsRuntime(model, manifest.maskZero ? null : manifest.preprocessing.maxLen, backend);
}

function fileOf(loaded: BundleParts, name: string): Uint8Array {
  const bytes = loaded.files.get(name);
  if (!bytes) throw bundleError(loaded.uri, `${name} is missing`);
  return bytes;
}

async function buildModel(loaded: BundleParts): Promise<tf.LayersModel> {
  const modelJson = parseJson(fileOf(loaded, MODEL_FILE), MODEL_FILE, loaded.uri);
  let paths: string[];
  try {
    paths = weightPaths(modelJson);
  } catch (error) {
    throw bundleError(loaded.uri, messageOf(error), error);
  }
  for (const path of paths) {
    // Only files the manifest lists were fetched and verified.
    if (!loaded.manifest.files[path]) {
      throw bundleError(loaded.uri, `model.json needs ${path}, which manifest.json does not list`);
    }
  }
  try {
    return await modelFromFiles(modelJson, (path) => fileOf(loaded, path));
  } catch (error) {
    if (error instanceof InternalError) throw error;
    throw bundleError(
      loaded.uri,
      `model.json and its weights do not build a model: ${messageOf(error)}`,
      error,
    );
  }
}

function checkModel(loaded: BundleParts, model: tf.LayersModel): void {
  const { manifest, uri } = loaded;
  const units = model.outputs.length === 1 ? model.outputs[0]?.shape.at(-1) : undefined;
  if (units !== manifest.labels.length) {
    throw bundleError(
      uri,
      `the model outputs ${units ?? `${model.outputs.length} tensors`} classes but manifest.json lists ${manifest.labels.length} labels`,
    );
  }
  const embedding = model.layers.find((layer) => layer.getClassName() === 'Embedding');
  if (!embedding) throw bundleError(uri, 'the model has no Embedding layer to take word ids');
  const config = embedding.getConfig();
  // Hashed word pairs (NgramIds) take ids past the vocabulary: the embedding holds numWords + buckets rows.
  const ngrams = model.layers.find((layer) => layer.getClassName() === 'NgramIds');
  const buckets = ngrams ? Number(ngrams.getConfig().buckets) : 0;
  if (config.inputDim !== manifest.preprocessing.numWords + buckets) {
    throw bundleError(
      uri,
      `the embedding takes ${String(config.inputDim)} word ids but manifest.json preprocessing.numWords is ${manifest.preprocessing.numWords}${buckets ? ` (+ ${buckets} pair buckets)` : ''}`,
    );
  }
  if (Boolean(config.maskZero) !== manifest.maskZero) {
    throw bundleError(
      uri,
      `the embedding has maskZero ${String(config.maskZero)} but manifest.json says maskZero ${manifest.maskZero}`,
    );
  }
}
