/**
 * The API's shapes, written once as JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1). The
 * request validator (`validate.ts` beside this file) compiles these schemas with ajv, and the OpenAPI
 * document (`openapi.ts`) publishes the same objects, so what is documented is what is enforced.
 * The limits come from the function's configuration, so the published maxItems and maxLength are the
 * deployed ones.
 *
 * Lengths: JSON Schema counts a string's length in Unicode code points (RFC 8259 characters), which is
 * how MAX_REVIEW_CHARS has always been counted (an emoji is one character), and ajv counts the same way
 * (its `unicode` option, on by default). JavaScript's `string.length` and an HTML `maxlength` attribute
 * count UTF-16 units instead, so neither is used to enforce the limit.
 */
import type { Limits } from '../config.ts';

export type ReviewLimits = Pick<Limits, 'maxReviews' | 'maxReviewChars'>;

export type JsonSchema = Record<string, unknown>;

/** `$ref` to a schema of this module, as it appears in the OpenAPI document. */
export function ref(name: SchemaName): JsonSchema {
  return { $ref: `#/components/schemas/${name}` };
}

export type SchemaName =
  | 'PredictionRequest'
  | 'ReviewList'
  | 'ReviewsObject'
  | 'Review'
  | 'ReviewText'
  | 'ReviewObject'
  | 'ReviewTitle'
  | 'PredictionResponse'
  | 'ModelRef'
  | 'Prediction'
  | 'Health'
  | 'Limits'
  | 'Problem'
  | 'FieldError';

/**
 * Every schema by name. `title` names each one for readers and for the validator, which words its
 * messages by the schema a keyword failed in.
 */
export function contractSchemas(limits: ReviewLimits): Record<SchemaName, JsonSchema> {
  return { ...requestSchemas(limits), ...responseSchemas() };
}

/**
 * The request's shape without its configured limits (maxItems, maxLength): what the request validator is
 * generated from ahead of time (scripts/generate-validator.ts), since the limits are only known at run
 * time. The validator checks the limits itself, by the same rules (../http/validate.ts).
 */
export function requestShapeSchemas(): Record<RequestSchemaName, JsonSchema> {
  return requestSchemas(null);
}

export type RequestSchemaName = keyof ReturnType<typeof requestSchemas>;

function requestSchemas(limits: ReviewLimits | null) {
  const maxItems = limits ? { maxItems: limits.maxReviews } : {};
  const maxLength = limits ? { maxLength: limits.maxReviewChars } : {};
  const upTo = limits ? `at most ${limits.maxReviewChars}` : 'at most MAX_REVIEW_CHARS';
  return {
    PredictionRequest: {
      title: 'PredictionRequest',
      description: 'The reviews to score: a JSON array of reviews, or an object {"reviews": [...]}.',
      // The two forms differ by JSON type, so exactly one can match: oneOf documents the choice.
      oneOf: [ref('ReviewList'), ref('ReviewsObject')],
    },
    ReviewList: {
      title: 'ReviewList',
      description: 'Reviews in the order their predictions are wanted.',
      type: 'array',
      minItems: 1,
      ...maxItems,
      items: ref('Review'),
    },
    ReviewsObject: {
      title: 'ReviewsObject',
      type: 'object',
      required: ['reviews'],
      properties: { reviews: ref('ReviewList') },
      additionalProperties: false,
    },
    Review: {
      title: 'Review',
      description: 'A review: its text as a string, or an object with a text and an optional title.',
      oneOf: [ref('ReviewText'), ref('ReviewObject')],
    },
    ReviewText: {
      title: 'ReviewText',
      description:
        `A review's text: at least one non-whitespace character, ${upTo} ` +
        'characters (Unicode code points).',
      type: 'string',
      minLength: 1,
      ...maxLength,
      pattern: '\\S',
    },
    ReviewObject: {
      title: 'ReviewObject',
      type: 'object',
      required: ['text'],
      properties: { text: ref('ReviewText'), title: ref('ReviewTitle') },
      additionalProperties: false,
    },
    ReviewTitle: {
      title: 'ReviewTitle',
      description: 'Joined to the text with a space before scoring, as training joins them.',
      type: ['string', 'null'],
      ...maxLength,
    },
  } satisfies Partial<Record<SchemaName, JsonSchema>>;
}

const probability = { type: 'number', minimum: 0, maximum: 1 };

function responseSchemas() {
  return {
    PredictionResponse: {
      title: 'PredictionResponse',
      type: 'object',
      required: ['model', 'predictions'],
      properties: {
        model: ref('ModelRef'),
        predictions: {
          description: 'One prediction per review, in input order.',
          type: 'array',
          items: ref('Prediction'),
        },
      },
      additionalProperties: false,
    },
    ModelRef: {
      title: 'ModelRef',
      description: 'The model bundle that answered.',
      type: 'object',
      required: ['name', 'version'],
      properties: { name: { type: 'string' }, version: { type: 'string' } },
      additionalProperties: false,
    },
    Prediction: {
      title: 'Prediction',
      type: 'object',
      required: ['rating', 'score', 'probabilities', 'tokens'],
      properties: {
        rating: {
          description:
            "The answer under the bundle's decision rule (the most probable label, the distribution's median, or the most probable after per-class offsets fitted on validation): 1-5 for the rating model, the label name for other bundles.",
          type: ['integer', 'string'],
        },
        score: {
          description: 'Expected rating Σ p·k to 3 decimals; null when the labels are not ordinal.',
          type: ['number', 'null'],
        },
        probabilities: {
          description: "Probability of each label, keyed by the bundle's label names.",
          type: 'object',
          additionalProperties: probability,
        },
        tokens: {
          description: 'Known words the model read; 0 means the answer carries no information.',
          type: 'integer',
          minimum: 0,
        },
      },
      additionalProperties: false,
    },
    Health: {
      title: 'Health',
      type: 'object',
      required: ['status', 'loaded', 'model', 'runtime', 'backend', 'limits'],
      properties: {
        status: { type: 'string', enum: ['idle', 'loading', 'ready', 'failed'] },
        loaded: { type: 'boolean' },
        model: { oneOf: [ref('ModelRef'), { type: 'null' }] },
        runtime: {
          description: 'onnx (ONNX Runtime) or tfjs (TensorFlow.js); null until the model is loaded',
          type: ['string', 'null'],
          enum: ['onnx', 'tfjs', null],
        },
        backend: { description: 'the TensorFlow.js backend; null on ONNX Runtime', type: ['string', 'null'] },
        limits: ref('Limits'),
      },
      additionalProperties: false,
    },
    Limits: {
      title: 'Limits',
      type: 'object',
      required: ['maxReviews', 'maxReviewChars', 'maxBodyBytes'],
      properties: {
        maxReviews: { type: 'integer', minimum: 1 },
        maxReviewChars: { type: 'integer', minimum: 1 },
        maxBodyBytes: { type: 'integer', minimum: 1 },
      },
      additionalProperties: false,
    },
    Problem: {
      title: 'Problem',
      description: 'RFC 9457 problem details; `instance` is the request id, also found in the logs.',
      type: 'object',
      required: ['type', 'title', 'status', 'detail'],
      properties: {
        type: { type: 'string', format: 'uri' },
        title: { type: 'string' },
        status: { type: 'integer', minimum: 400, maximum: 599 },
        detail: { type: 'string' },
        instance: { type: 'string' },
        errors: { type: 'array', items: ref('FieldError') },
      },
    },
    FieldError: {
      title: 'FieldError',
      type: 'object',
      required: ['pointer', 'detail'],
      properties: {
        pointer: { description: 'JSON Pointer (RFC 6901) into the request body.', type: 'string' },
        detail: { type: 'string' },
      },
      additionalProperties: false,
    },
  } satisfies Partial<Record<SchemaName, JsonSchema>>;
}
