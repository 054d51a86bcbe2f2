/**
 * Metrics as CloudWatch would receive them: the EMF lines the handler writes, captured through `write`
 * and read back, for requests that score, fail, name unknown models, and for model loads.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { loadConfig } from '../../src/function/config.ts';
import { createHandler } from '../../src/function/handler.ts';
import type { ApiGatewayEvent } from '../../src/function/http/event.ts';
import { createLogger } from '../../src/function/logger.ts';
import { createMetrics } from '../../src/function/metrics.ts';
import { createModelRegistry } from '../../src/function/models.ts';
import { createLocalContext } from '../../src/local/server.ts';
import { selectBackend } from '../../src/model/backend.ts';
import { loadEvent } from '../helpers/events.ts';
import { makeTinyBundle, writeBundleDir } from '../helpers/tiny-bundle.ts';

interface Emf {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [key: string]: unknown;
}

let root: string;

before(async () => {
  await selectBackend('cpu');
  root = await mkdtemp(join(tmpdir(), 'metrics-'));
  await writeBundleDir(join(root, 'ok'), (await makeTinyBundle()).files, 'v1', { latest: true });
});
after(() => rm(root, { recursive: true, force: true }));

function setUp(namespace = 'ReviewSentiment') {
  const lines: Emf[] = [];
  const metrics = createMetrics({ namespace, write: (line) => lines.push(JSON.parse(line) as Emf) });
  const config = loadConfig({
    MODELS: `review-sentiment=${join(root, 'ok')},broken=${join(root, 'missing')}`,
    METRICS_NAMESPACE: namespace,
  });
  const models = createModelRegistry(config.models, config.defaultModel, {
    backend: 'cpu',
    onLoad: metrics.modelLoad,
  });
  const handler = createHandler({ models, config, logger: createLogger({ level: 'SILENT' }), metrics });
  const invoke = async (file: string, change: Partial<APIGatewayProxyEventV2> = {}) => {
    const event = { ...(await loadEvent(file)), ...change } as unknown as ApiGatewayEvent;
    return handler(event, createLocalContext());
  };
  return { lines, invoke, models };
}

const named = (lines: Emf[], metric: string) =>
  lines.filter((l) => l._aws.CloudWatchMetrics[0]?.Metrics.some((m) => m.Name === metric));

describe('metrics (EMF)', () => {
  test('a scored request: count, latency, reviews, no error; low-cardinality dimensions', async () => {
    const { lines, invoke } = setUp('Team/Reviews');
    assert.equal((await invoke('predictions-4-reviews.json')).statusCode, 200);
    const [request] = named(lines, 'Requests');
    assert.ok(request);
    const [directive] = request._aws.CloudWatchMetrics;
    assert.equal(directive?.Namespace, 'Team/Reviews');
    assert.deepEqual(directive?.Dimensions, [['service', 'route', 'model', 'statusClass']]);
    assert.deepEqual(
      directive?.Metrics.map((m) => `${m.Name} ${m.Unit}`),
      ['Requests Count', 'Errors Count', 'RequestLatency Milliseconds', 'ReviewsScored Count'],
    );
    assert.equal(request.service, 'review-sentiment');
    assert.equal(request.route, '/predictions');
    assert.equal(request.model, 'review-sentiment');
    assert.equal(request.statusClass, '2xx');
    assert.equal(request.Requests, 1);
    assert.equal(request.Errors, 0);
    assert.equal(request.ReviewsScored, 4);
    assert.ok(typeof request.RequestLatency === 'number' && request.RequestLatency >= 0);
    const line = JSON.stringify(request);
    assert.ok(!line.includes('cmVxLTAwMDAwMQ='), 'no request id in the metrics');
  });

  test('cold start once per on-demand environment; model load time per model', async (t) => {
    // Powertools counts cold starts of on-demand environments only (not provisioned concurrency), as
    // Lambda tells it in AWS_LAMBDA_INITIALIZATION_TYPE, read when the metrics are created.
    const previous = process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
    t.after(() => {
      if (previous === undefined) delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
      else process.env.AWS_LAMBDA_INITIALIZATION_TYPE = previous;
    });
    const { lines, invoke } = setUp();
    await invoke('predictions-4-reviews.json');
    await invoke('predictions-4-reviews.json');
    const cold = named(lines, 'ColdStart');
    assert.equal(cold.length, 1);
    assert.deepEqual(cold[0]?._aws.CloudWatchMetrics[0]?.Dimensions, [['service', 'function_name']]);
    assert.equal(cold[0]?.function_name, 'review-sentiment-local');
    const loads = named(lines, 'ModelLoadTime');
    assert.equal(loads.length, 1, 'the model loaded once');
    assert.deepEqual(loads[0]?._aws.CloudWatchMetrics[0]?.Dimensions, [['service', 'model']]);
    assert.equal(loads[0]?.model, 'review-sentiment');
    assert.equal(loads[0]?.ModelLoadFailures, 0);
    assert.ok(Number(loads[0]?.ModelLoadTime) > 0);
  });

  test('errors by status class; unknown routes and model names never become dimension values', async () => {
    const { lines, invoke } = setUp();
    await invoke('error-non-string-item.json');
    await invoke('error-unknown-route.json');
    await invoke('error-unknown-model.json');
    await invoke('predictions-4-reviews.json', { rawPath: '/models/broken/predictions' });
    const requests = named(lines, 'Requests').map(
      (l) => `${l.route} ${l.model} ${l.statusClass} ${l.Errors}`,
    );
    assert.deepEqual(requests, [
      '/predictions review-sentiment 4xx 1',
      'none none 4xx 1',
      '/models/{name}/predictions none 4xx 1',
      '/models/{name}/predictions broken 5xx 1',
    ]);
    for (const line of lines)
      assert.ok(!JSON.stringify(line).includes('sentiment-v9'), 'a typed name is no dimension');
    const failedLoad = named(lines, 'ModelLoadFailures').find((l) => l.model === 'broken');
    assert.equal(failedLoad?.ModelLoadFailures, 1);
  });
});
