/**
 * The contract written once: the OpenAPI document is valid (Redocly's linter, its recommended rules),
 * publishes the configured limits, and every example in it does what it says when sent through the
 * real handler with a real model.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { type Config, loadConfig } from '../../src/function/config.ts';
import type { Example } from '../../src/function/contract/examples.ts';
import { openApiDocument } from '../../src/function/contract/openapi.ts';
import { contractSchemas, type SchemaName } from '../../src/function/contract/schemas.ts';
import { createHandler, type Handler } from '../../src/function/handler.ts';
import { validateReviews } from '../../src/function/http/validate.ts';
import { createLogger } from '../../src/function/logger.ts';
import { fromServices } from '../../src/function/models.ts';
import { createModelService } from '../../src/function/service.ts';
import { createLocalContext } from '../../src/local/server.ts';
import { selectBackend } from '../../src/model/backend.ts';
import { contractValidator } from '../helpers/contract-ajv.ts';
import { makeTinyBundle, writeBundleDir } from '../helpers/tiny-bundle.ts';

type Json = Record<string, unknown>;

let root: string;
let config: Config;
let handler: Handler;

before(async () => {
  await selectBackend('cpu');
  root = await mkdtemp(join(tmpdir(), 'contract-'));
  await writeBundleDir(join(root, 'model'), (await makeTinyBundle()).files, 'v1', { latest: true });
  config = loadConfig({ MODEL_URI: join(root, 'model'), TFJS_BACKEND: 'cpu' });
  const service = createModelService({ modelUri: config.modelUri, backend: config.backend });
  handler = createHandler({
    models: fromServices(new Map([['review-sentiment', service]]), 'review-sentiment'),
    config,
    logger: createLogger({ level: 'SILENT' }),
  });
});

after(() => rm(root, { recursive: true, force: true }));

function event(method: string, path: string, body?: unknown): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.1', userAgent: 'test' },
      requestId: 'contract-test',
      routeKey: '$default',
      stage: '$default',
      time: '21/Nov/2026:21:00:00 +0000',
      timeEpoch: 0,
    },
    isBase64Encoded: false,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  };
}

async function call(method: string, path: string, body?: unknown) {
  const response = await handler(event(method, path, body), createLocalContext());
  return { ...response, json: JSON.parse(response.body) as Json };
}

/** A validator for one of the document's schemas, as ajv compiles the contract. */
function schemaValidator(name: SchemaName) {
  return contractValidator(config.limits, name);
}

function operation(doc: Json, path: string, method: string): Json {
  return ((doc.paths as Json)[path] as Json)[method] as Json;
}

describe('GET /openapi.json', () => {
  test('is a valid OpenAPI 3.1 document (Redocly, recommended rules)', async () => {
    const { statusCode, headers, body } = await call('GET', '/openapi.json');
    assert.equal(statusCode, 200);
    assert.equal(headers['content-type'], 'application/json');
    const lintConfig = await createConfig({
      extends: ['recommended'],
      rules: {
        // Authentication is API Gateway's (template.yaml AuthMode), which the function cannot see.
        'security-defined': 'off',
        // The GET routes take no input: they have no 4xx of their own.
        'operation-4xx-response': 'off',
      },
    });
    const problems = await lintFromString({ source: body, absoluteRef: '/openapi.json', config: lintConfig });
    assert.deepEqual(
      problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`),
      [],
    );
    assert.equal(JSON.parse(body).openapi, '3.1.0');
  });

  test('the linter is not a rubber stamp: a broken document fails', async () => {
    const broken = openApiDocument(config.limits);
    (broken.components as { schemas: Json }).schemas.Review = { $ref: '#/components/schemas/Missing' };
    const problems = await lintFromString({
      source: JSON.stringify(broken),
      absoluteRef: '/openapi.json',
      config: await createConfig({ extends: ['recommended'] }),
    });
    assert.ok(problems.some((p) => p.severity === 'error' && p.ruleId === 'no-unresolved-refs'));
  });

  // Serving skips ajv's meta-schema check at init (a cold-start cost); this is where it is made instead.
  test("every schema is valid JSON Schema 2020-12 (ajv's meta-schema check)", () => {
    const ajv = new Ajv2020({ allowUnionTypes: true });
    for (const [name, schema] of Object.entries(contractSchemas(config.limits))) {
      assert.equal(ajv.validateSchema(schema), true, `${name}: ${ajv.errorsText(ajv.errors)}`);
    }
    assert.equal(ajv.validateSchema({ type: 'strnig' }), false, 'the check rejects a broken schema');
  });

  test('publishes the configured limits, which the validator enforces', () => {
    const limits = { maxReviews: 3, maxReviewChars: 10, maxBodyBytes: 100 };
    const schemas = (openApiDocument(limits).components as { schemas: Record<string, Json> }).schemas;
    assert.equal(schemas.ReviewList?.maxItems, 3);
    assert.equal(schemas.ReviewList?.minItems, 1);
    assert.equal(schemas.ReviewText?.maxLength, 10);
    assert.equal(schemas.ReviewTitle?.maxLength, 10);
    // maxLength counts code points, as the validator does: 10 emoji (20 UTF-16 units) fit.
    assert.equal(validateReviews(['😀'.repeat(10)], limits).length, 1);
    assert.throws(() => validateReviews(['😀'.repeat(11)], limits), /1 problem/);
    assert.throws(() => validateReviews(['a', 'b', 'c', 'd'], limits), /1 problem/);
  });
});

describe('every example in the document, through the real handler', async () => {
  const doc = openApiDocument(loadConfig({}).limits);
  const predict = operation(doc, '/predictions', 'post');
  const requestExamples = ((predict.requestBody as Json).content as Record<string, Json>)['application/json']
    ?.examples as Record<string, Example>;
  const responses = predict.responses as Record<string, { content: Record<string, Json> }>;

  test('there are request, 200 and error examples', () => {
    assert.ok(Object.keys(requestExamples).length >= 2);
    assert.ok(Object.keys(responses['200']?.content['application/json']?.examples ?? {}).length >= 1);
    assert.ok(Object.keys(responses['422']?.content['application/problem+json']?.examples ?? {}).length >= 2);
  });

  for (const [name, example] of Object.entries(requestExamples)) {
    test(`request example "${name}" gets a 200 that matches PredictionResponse`, async () => {
      const response = await call('POST', '/predictions', example.value);
      assert.equal(response.statusCode, 200, response.body);
      const valid = schemaValidator('PredictionResponse');
      assert.ok(valid(response.json), JSON.stringify(valid.errors));
      const reviews = Array.isArray(example.value) ? example.value : (example.value as Json).reviews;
      assert.equal((response.json.predictions as unknown[]).length, (reviews as unknown[]).length);
    });
  }

  for (const [status, { content }] of Object.entries(responses)) {
    for (const [name, example] of Object.entries(content['application/problem+json']?.examples ?? {})) {
      const { 'x-request-body': body, value } = example as Example;
      if (body === undefined) continue;
      test(`error example "${name}" is the handler's ${status} answer to its x-request-body`, async () => {
        const response = await call('POST', '/predictions', body);
        assert.equal(String(response.statusCode), status, response.body);
        const { instance: _ignored, ...expected } = value as Json;
        const { instance, ...actual } = response.json;
        assert.deepEqual(actual, expected);
        assert.equal(instance, 'contract-test');
        assert.ok(schemaValidator('Problem')(response.json));
      });
    }
  }

  test('response examples match their schemas', () => {
    for (const example of Object.values(responses['200']?.content['application/json']?.examples ?? {})) {
      const valid = schemaValidator('PredictionResponse');
      assert.ok(valid((example as Example).value), JSON.stringify(valid.errors));
    }
    for (const example of Object.values(
      responses['422']?.content['application/problem+json']?.examples ?? {},
    )) {
      assert.ok(schemaValidator('Problem')((example as Example).value));
    }
  });

  test('GET /health matches the Health schema', async () => {
    const response = await call('GET', '/health');
    const valid = schemaValidator('Health');
    assert.ok(valid(response.json), JSON.stringify(valid.errors));
  });
});
