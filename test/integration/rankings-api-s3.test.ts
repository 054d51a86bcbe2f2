/**
 * GET /rankings/* through the whole middy chain, reading what the ranking job published to a real
 * S3-protocol server (s3rver), as the deployed function reads RANKINGS_URI=s3://bucket/rankings/.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/function/config.ts';
import { createHandler, type Handler } from '../../src/function/handler.ts';
import type { ApiGatewayEvent } from '../../src/function/http/event.ts';
import { createLogger } from '../../src/function/logger.ts';
import { fromServices } from '../../src/function/models.ts';
import { createRankingsReader } from '../../src/function/rankings.ts';
import type { ModelService } from '../../src/function/service.ts';
import { createLocalContext } from '../../src/local/server.ts';
import { type EventJson, loadEvent } from '../helpers/events.ts';
import { publishTestRanking } from '../helpers/ranking.ts';
import { type S3rverHandle, startS3rver } from '../helpers/s3rver.ts';

/** The rankings routes never touch the model. */
const noModel: ModelService = {
  get: () => Promise.reject(new Error('the rankings routes must not load the model')),
  status: () => ({ state: 'idle', modelUri: 'unused' }),
  warm: () => undefined,
};

describe('GET /rankings/* from S3', () => {
  let s3: S3rverHandle;
  let handler: Handler;
  let rankingsUri: string;
  const invoke = async (file: string, path?: string) => {
    const event: EventJson = await loadEvent(file);
    if (path) {
      event.rawPath = path;
      (event.requestContext as unknown as { http: { path: string } }).http.path = path;
    }
    return handler(event as unknown as ApiGatewayEvent, createLocalContext());
  };

  before(async () => {
    s3 = await startS3rver('rankings-api-bucket');
    rankingsUri = `s3://${s3.bucket}/rankings/`;
    const config = loadConfig({ RANKINGS_URI: rankingsUri });
    assert.equal(config.rankingsUri, rankingsUri);
    const rankings = createRankingsReader({ uri: config.rankingsUri, storage: s3.storage });
    const logger = createLogger({ level: 'SILENT', write: () => undefined });
    handler = createHandler({
      models: fromServices(new Map([['review-sentiment', noModel]]), 'review-sentiment'),
      config,
      logger,
      rankings,
    });
  });
  after(() => s3.stop());

  test('404 before anything is published; then latest and the period serve the stored bytes', async () => {
    const none = await invoke('rankings-latest.json');
    assert.equal(none.statusCode, 404);
    assert.equal(none.headers['content-type'], 'application/problem+json');
    assert.equal(none.headers['cache-control'], 'no-store');

    const store = s3.storage.store(rankingsUri);
    await publishTestRanking(store, '2014-W04');
    const stored = new TextDecoder().decode(await store.get('2014-W04/ranking.json'));

    const latest = await invoke('rankings-latest.json');
    assert.equal(latest.statusCode, 200, latest.body);
    assert.equal(latest.body, stored);
    assert.equal(latest.headers['cache-control'], 'public, max-age=60');
    assert.equal(latest.headers['content-location'], '/rankings/2014-W04');

    const period = await invoke('rankings-period.json');
    assert.equal(period.statusCode, 200);
    assert.equal(period.body, stored);
    assert.equal(period.headers['cache-control'], 'public, max-age=3600');

    assert.equal((await invoke('error-ranking-not-found.json')).statusCode, 404);
    assert.equal((await invoke('error-ranking-bad-period.json')).statusCode, 400);
    const range = await invoke('rankings-period.json', '/rankings/2014-01-01_2014-06-30');
    assert.equal(range.statusCode, 404);
    assert.match(JSON.parse(range.body).detail, /no ranking for 2014-01-01_2014-06-30/);
  });
});
