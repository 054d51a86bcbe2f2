/**
 * The Open Inference Protocol (KServe v2) inference request, read into our reviews: a BYTES tensor
 * `text` of shape [N] and an optional BYTES tensor `title` of the same shape. Data may be flat or nested
 * (row-major), as the protocol allows; the shape must account for exactly the data given. The review
 * limits are those of POST /predictions, reported as one 400 (the protocol has no 422).
 */
import type { FieldError } from '../../errors.ts';
import type { Review } from '../../text/review.ts';
import type { Limits } from '../config.ts';
import { isJsonObject } from './json-body.ts';
import { invalidInferenceRequest as invalid } from './problems.ts';
import { validateReviews } from './validate.ts';

export const INPUT_NAMES = ['text', 'title'] as const;
export const OUTPUT_NAMES = ['probabilities', 'rating', 'score'] as const;
export type OutputName = (typeof OUTPUT_NAMES)[number];

type Json = Record<string, unknown>;

export interface InferenceRequest {
  id?: string;
  reviews: Review[];
  /** Requested outputs in request order; undefined means all of them. */
  outputs?: OutputName[];
}

export function readInferenceRequest(
  body: unknown,
  limits: Pick<Limits, 'maxReviews' | 'maxReviewChars'>,
): InferenceRequest {
  if (!isJsonObject(body)) throw invalid('the body must be an inference request object {"inputs": [...]}');
  if (body.id !== undefined && typeof body.id !== 'string') throw invalid('"id" must be a string');
  if (body.parameters !== undefined && !isJsonObject(body.parameters))
    throw invalid('"parameters" must be an object');
  const tensors = readInputs(body.inputs, limits.maxReviews);
  const text = tensors.get('text');
  if (!text) throw invalid('input "text" (BYTES, shape [-1]) is required');
  const title = tensors.get('title');
  if (title && title.length !== text.length) {
    throw invalid(
      `input "title" has ${title.length} elements but "text" has ${text.length}; they must match`,
    );
  }
  const reviews = text.map((t, i): Review => (title?.[i] ? { text: t, title: title[i] } : { text: t }));
  checkLimits(reviews, limits);
  const outputs = readOutputs(body.outputs);
  return {
    ...(typeof body.id === 'string' ? { id: body.id } : {}),
    reviews,
    ...(outputs ? { outputs } : {}),
  };
}

function readInputs(inputs: unknown, maxReviews: number): Map<string, string[]> {
  if (!Array.isArray(inputs) || inputs.length === 0)
    throw invalid('"inputs" must be a non-empty array of tensors');
  const tensors = new Map<string, string[]>();
  inputs.forEach((input, i) => {
    if (!isJsonObject(input) || typeof input.name !== 'string')
      throw invalid(`inputs[${i}] must be a tensor with a "name"`);
    const name = input.name;
    if (!(INPUT_NAMES as readonly string[]).includes(name)) {
      throw invalid(`unknown input ${JSON.stringify(name)}; this model takes ${INPUT_NAMES.join(', ')}`);
    }
    if (tensors.has(name)) throw invalid(`input ${JSON.stringify(name)} is given twice`);
    tensors.set(name, readBytesTensor(input, name, maxReviews));
  });
  return tensors;
}

/** A rank-1 BYTES tensor whose shape matches its data; elements are JSON strings. */
function readBytesTensor(input: Json, name: string, maxReviews: number): string[] {
  if (input.datatype !== 'BYTES') {
    throw invalid(
      `input ${JSON.stringify(name)} must have datatype BYTES, got ${JSON.stringify(input.datatype)}`,
    );
  }
  const shape = input.shape;
  if (
    !Array.isArray(shape) ||
    shape.length !== 1 ||
    !Number.isSafeInteger(shape[0]) ||
    (shape[0] as number) < 0
  ) {
    throw invalid(
      `input ${JSON.stringify(name)} must have shape [N] (one dimension), got ${JSON.stringify(shape)}`,
    );
  }
  if (!Array.isArray(input.data)) throw invalid(`input ${JSON.stringify(name)} needs "data": an array`);
  const data = input.data.flat(Number.POSITIVE_INFINITY) as unknown[];
  if (data.length !== shape[0]) {
    throw invalid(`input ${JSON.stringify(name)} has shape [${shape[0]}] but ${data.length} data elements`);
  }
  if (data.length > maxReviews) {
    throw invalid(
      `input ${JSON.stringify(name)} has ${data.length} elements; at most ${maxReviews} are allowed per request`,
    );
  }
  const bad = data.findIndex((element) => typeof element !== 'string');
  if (bad >= 0)
    throw invalid(
      `input ${JSON.stringify(name)}: element ${bad} is not a string (BYTES elements are JSON strings)`,
    );
  return data as string[];
}

function readOutputs(outputs: unknown): OutputName[] | undefined {
  if (outputs === undefined) return undefined;
  if (!Array.isArray(outputs)) throw invalid('"outputs" must be an array of {"name"}');
  return outputs.map((output, i) => {
    const name = isJsonObject(output) ? output.name : undefined;
    if (!(OUTPUT_NAMES as readonly unknown[]).includes(name)) {
      throw invalid(
        `outputs[${i}]: unknown output ${JSON.stringify(name)}; this model has ${OUTPUT_NAMES.join(', ')}`,
      );
    }
    return name as OutputName;
  });
}

/** The same checks as POST /predictions (empty text, characters per text and title), as one 400. */
function checkLimits(reviews: Review[], limits: Pick<Limits, 'maxReviews' | 'maxReviewChars'>): void {
  try {
    validateReviews(reviews, limits);
  } catch (error) {
    const errors = (error as { problem?: { errors?: readonly FieldError[] } }).problem?.errors ?? [];
    throw invalid(
      errors.map((e) => `${tensorElement(e.pointer)}: ${e.detail}`).join('; ') || 'invalid input',
    );
  }
}

/** "/3/text" → "text[3]": where the problem is, in the request's own terms. */
function tensorElement(pointer: string): string {
  const [, index = '', field = 'text'] = pointer.split('/');
  return index === '' ? 'inputs' : `${field}[${index}]`;
}
