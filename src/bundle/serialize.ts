/**
 * TensorFlow.js layers-format model files in memory: training writes model.json + one weights file,
 * serving rebuilds the model from bytes it fetched (no /tmp, no file:// or http:// loaders).
 */
import * as tf from '../model/tf.ts';
// Registers our custom layers (NgramIds, MaskedPooling) with tfjs' deserialiser: a bundle that uses them
// must load wherever bundles are read, not only where an architecture was built first.
import '../model/architectures/layers.ts';

export const WEIGHTS_FILE = 'weights.bin';

export interface ModelFiles {
  'model.json': Uint8Array;
  [WEIGHTS_FILE]: Uint8Array;
}

interface ModelJson {
  format?: string;
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

/** Serialises a model to the standard layers format (loadable by tf.loadLayersModel too). */
export async function modelToFiles(model: tf.LayersModel): Promise<ModelFiles> {
  let files: ModelFiles | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = new Uint8Array(
        tf.io.CompositeArrayBuffer.join(artifacts.weightData ?? new ArrayBuffer(0)),
      );
      const json: ModelJson = {
        format: 'layers-model',
        modelTopology: artifacts.modelTopology as object,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
      };
      files = { 'model.json': new TextEncoder().encode(JSON.stringify(json)), [WEIGHTS_FILE]: weights };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!files) throw new Error('model.save did not produce artifacts');
  return files;
}

/** Names of the weight files model.json refers to, in the order their bytes concatenate. */
export function weightPaths(modelJson: unknown): string[] {
  const manifest = (modelJson as Partial<ModelJson>)?.weightsManifest;
  if (!Array.isArray(manifest)) throw new TypeError('model.json: weightsManifest is missing');
  return manifest.flatMap((group) => group.paths);
}

/** Rebuilds a model from parsed model.json and the bytes of each weight file it names. */
export async function modelFromFiles(
  modelJson: unknown,
  weightFile: (path: string) => Uint8Array,
): Promise<tf.LayersModel> {
  const json = modelJson as ModelJson;
  if (typeof json?.modelTopology !== 'object') throw new TypeError('model.json: modelTopology is missing');
  const buffers = weightPaths(json).map((path) => {
    const bytes = weightFile(path);
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  });
  const weightSpecs = json.weightsManifest.flatMap((group) => group.weights);
  const weightData = tf.io.CompositeArrayBuffer.join(buffers);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData }));
}
