/**
 * Our predictions as Open Inference Protocol (KServe v2) tensors, and the model metadata that describes
 * them. `probabilities` is FP32 [N, K] in the bundle's label order (the same rounded values POST
 * /predictions returns); `rating` is INT32 for integer ordinal labels (1-5) and BYTES (the label name)
 * otherwise; `score`, the expected rating, exists only for ordinal labels (FP32 cannot carry null).
 */
import type { Manifest } from '../../bundle/manifest.ts';
import type { Prediction } from '../../model/scorer.ts';
import { INPUT_NAMES, type OutputName } from './inference-request.ts';

export interface TensorMetadata {
  name: string;
  datatype: string;
  shape: number[];
}

export interface ResponseTensor extends TensorMetadata {
  data: (number | string)[];
}

type Labels = Pick<Manifest, 'labels' | 'labelValues'>;

function integerRatings(labels: Labels): boolean {
  return labels.labelValues?.every((v) => Number.isInteger(v)) ?? false;
}

/** The outputs this model produces, in a fixed order. */
export function outputMetadata(labels: Labels): TensorMetadata[] {
  const outputs: TensorMetadata[] = [
    { name: 'probabilities', datatype: 'FP32', shape: [-1, labels.labels.length] },
    { name: 'rating', datatype: integerRatings(labels) ? 'INT32' : 'BYTES', shape: [-1] },
  ];
  if (labels.labelValues !== null) outputs.push({ name: 'score', datatype: 'FP32', shape: [-1] });
  return outputs;
}

export function inputMetadata(): TensorMetadata[] {
  return INPUT_NAMES.map((name) => ({ name, datatype: 'BYTES', shape: [-1] }));
}

export function outputTensors(
  predictions: readonly Prediction[],
  labels: Labels,
  requested: readonly OutputName[] | undefined,
): ResponseTensor[] {
  const available = outputMetadata(labels);
  const names = requested ?? available.map((o) => o.name as OutputName);
  return names.map((name) => {
    const meta = available.find((o) => o.name === name);
    if (!meta) throw new RangeError(`output ${name} is not produced by this model`);
    return {
      ...meta,
      shape: [predictions.length, ...meta.shape.slice(1)],
      data: tensorData(name, meta, predictions, labels),
    };
  });
}

function tensorData(
  name: OutputName,
  meta: TensorMetadata,
  predictions: readonly Prediction[],
  labels: Labels,
): (number | string)[] {
  if (name === 'probabilities') {
    return predictions.flatMap((p) => labels.labels.map((label) => p.probabilities[label] ?? 0));
  }
  if (name === 'rating') {
    return predictions.map((p) => (meta.datatype === 'INT32' ? Number(p.rating) : String(p.rating)));
  }
  return predictions.map((p) => p.score ?? 0);
}
