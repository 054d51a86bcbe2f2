/**
 * From a bundle's verified bytes to something that scores: rebuild the tokenizer and the model in memory
 * and check they agree with the manifest before anything is served.
 */
import type * as tf from '@tensorflow/tfjs';
import { MODEL_FILE, TOKENIZER_FILE } from '../bundle/manifest.ts';
import { bundleError, type LoadedBundle, parseJson } from '../bundle/read.ts';
import { modelFromFiles, weightPaths } from '../bundle/serialize.ts';
import { InternalError, messageOf } from '../errors.ts';
// Registers the custom layers (MaskedPooling, NgramIds) that lstm-pool and bag bundles name in model.json;
// without it only a process that happened to import an architecture (training, tests) could load them.
import './architectures/layers.ts';
import { type TokenizerJson, WordTokenizer } from '../text/tokenizer.ts';
import { Scorer } from './scorer.ts';

type BundleParts = Pick<LoadedBundle, 'manifest' | 'files' | 'uri'>;

function fileOf(loaded: BundleParts, name: string): Uint8Array {
  const bytes = loaded.files.get(name);
  if (!bytes) throw bundleError(loaded.uri, `${name} is missing`);
  return bytes;
}

/** Tokenizer + model from verified bytes, checked against the manifest; the backend must already be set. */
export async function buildScorer(loaded: BundleParts): Promise<Scorer> {
  const tokenizer = buildTokenizer(loaded);
  const model = await buildModel(loaded);
  try {
    checkModel(loaded, model);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return new Scorer(model, tokenizer, loaded.manifest);
}

function buildTokenizer(loaded: BundleParts): WordTokenizer {
  const json = parseJson(fileOf(loaded, TOKENIZER_FILE), TOKENIZER_FILE, loaded.uri);
  let tokenizer: WordTokenizer;
  try {
    tokenizer = new WordTokenizer(json as TokenizerJson);
  } catch (error) {
    throw bundleError(loaded.uri, messageOf(error), error);
  }
  const p = loaded.manifest.preprocessing;
  const mismatch = (what: string, actual: unknown, expected: unknown): never => {
    throw bundleError(
      loaded.uri,
      `tokenizer.json ${what} is ${JSON.stringify(actual)} but manifest.json preprocessing says ${JSON.stringify(expected)}`,
    );
  };
  if (tokenizer.numWords !== p.numWords) mismatch('numWords', tokenizer.numWords, p.numWords);
  if (tokenizer.normalizer !== p.normalizer) mismatch('normalizer', tokenizer.normalizer, p.normalizer);
  if (tokenizer.oovIndex !== p.oovIndex) mismatch('oovIndex', tokenizer.oovIndex, p.oovIndex);
  return tokenizer;
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
  if (config.inputDim !== manifest.preprocessing.numWords) {
    throw bundleError(
      uri,
      `the embedding takes ${String(config.inputDim)} word ids but manifest.json preprocessing.numWords is ${manifest.preprocessing.numWords}`,
    );
  }
  if (Boolean(config.maskZero) !== manifest.maskZero) {
    throw bundleError(
      uri,
      `the embedding has maskZero ${String(config.maskZero)} but manifest.json says maskZero ${manifest.maskZero}`,
    );
  }
}
