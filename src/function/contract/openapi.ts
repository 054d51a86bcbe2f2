/**
 * The OpenAPI 3.1 document served at GET /openapi.json, built from the contract's schemas and the
 * deployed limits. Paths are relative to the document's own location, so it is right behind any stage.
 */
import type { Limits } from '../config.ts';
import { PREDICTION_EXAMPLES, PROBLEM_EXAMPLES, REQUEST_EXAMPLES } from './examples.ts';
import { contractSchemas, type JsonSchema, ref } from './schemas.ts';

export const API_VERSION = '1.0.0';

type Responses = Record<string, JsonSchema>;

function json(schema: JsonSchema, description: string, extra: JsonSchema = {}): JsonSchema {
  return { description, content: { 'application/json': { schema, ...extra } } };
}

function problem(description: string, extra: JsonSchema = {}): JsonSchema {
  return { description, content: { 'application/problem+json': { schema: ref('Problem'), ...extra } } };
}

const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer' } },
};

function predictionResponses(limits: Limits): Responses {
  return {
    '200': json(ref('PredictionResponse'), 'One prediction per review, in input order.', {
      examples: PREDICTION_EXAMPLES,
    }),
    '400': problem('The body is not valid JSON (or not UTF-8), or the event is not from API Gateway.'),
    '413': problem(`The decoded body is over ${limits.maxBodyBytes} bytes (MAX_BODY_BYTES).`),
    '415': problem('A content type other than JSON; a missing content type is read as JSON.'),
    '422': problem('The body does not match PredictionRequest; `errors` names each offending item.', {
      examples: PROBLEM_EXAMPLES,
    }),
    '500': problem('An unexpected error; the details are in the logs under the request id (`instance`).'),
    '503': { ...problem('The model cannot be loaded; the next request tries again.'), headers: RETRY_AFTER },
  };
}

function paths(limits: Limits): JsonSchema {
  return {
    '/predictions': {
      post: {
        operationId: 'predict',
        summary: 'Score reviews',
        description:
          `Scores up to ${limits.maxReviews} reviews of at most ${limits.maxReviewChars} characters each ` +
          '(text and title). An empty or whitespace-only review is refused rather than scored.',
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: ref('PredictionRequest'),
              examples: REQUEST_EXAMPLES,
            },
          },
        },
        responses: predictionResponses(limits),
      },
    },
    '/health': {
      get: {
        operationId: 'health',
        summary: 'Model state and limits',
        description: 'Never waits for the model: 200 while it is ready or loading, 503 after a failed load.',
        responses: {
          '200': json(ref('Health'), 'Ready, or loading (requests wait for the load).'),
          '503': { ...json(ref('Health'), 'The last model load failed.'), headers: RETRY_AFTER },
        },
      },
    },
    '/openapi.json': {
      get: {
        operationId: 'openapi',
        summary: 'This document',
        responses: { '200': json({ type: 'object' }, 'The OpenAPI 3.1 document.') },
      },
    },
    '/': {
      get: {
        operationId: 'tryIt',
        summary: 'A page to try the API in a browser',
        responses: {
          '200': {
            description: 'A self-contained HTML page.',
            content: { 'text/html': { schema: { type: 'string' } } },
          },
        },
      },
    },
  };
}

export function openApiDocument(limits: Limits): JsonSchema {
  return {
    openapi: '3.1.0',
    info: {
      title: 'review-sentiment',
      version: API_VERSION,
      summary: 'Scores product reviews for positivity on a 1-5 scale.',
      description:
        'Errors are RFC 9457 problem details (application/problem+json). Limits are those of this ' +
        `deployment: ${limits.maxReviews} reviews per request, ${limits.maxReviewChars} characters per ` +
        `text and per title, ${limits.maxBodyBytes} bytes per body.`,
      license: { name: 'UNLICENSED', identifier: 'UNLICENSED' },
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    // Relative: the API is wherever this document was fetched from (a stage, a custom domain, localhost).
    servers: [{ url: '.' }],
    paths: paths(limits),
    components: { schemas: contractSchemas(limits) },
  };
}
