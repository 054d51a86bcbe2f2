/**
 * The expected outcome of every event file in events/. handler-events.test.ts runs each file through the
 * whole middy chain and fails when a file has no entry here (or an entry has no file).
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Feedback, feedbackId, feedbackKey } from '../../src/feedback/record.ts';
import type { Limits } from '../../src/function/config.ts';
import type { Problem } from '../../src/function/http/problems.ts';
import type { HttpResponse } from '../../src/function/http/responses.ts';
import type { Scorer } from '../../src/model/scorer.ts';
import type { Store } from '../../src/storage/index.ts';
import type { Review } from '../../src/text/review.ts';

export const EVENTS_DIR = resolve(import.meta.dirname, '..', '..', 'events');

export type EventJson = Record<string, unknown> & { requestContext: { requestId: string } };

export async function listEventFiles(): Promise<string[]> {
  return (await readdir(EVENTS_DIR)).filter((name) => name.endsWith('.json')).sort();
}

export async function loadEvent(file: string): Promise<EventJson> {
  return JSON.parse(await readFile(join(EVENTS_DIR, file), 'utf8')) as EventJson;
}

export interface CheckContext {
  event: EventJson;
  /** The default model's scorer. */
  scorer: Scorer;
  /** Every configured model's scorer, by configured name ("review-sentiment", "emotion"). */
  scorers: Readonly<Record<string, Scorer>>;
  defaultModel: string;
  limits: Limits;
  /** CORS_ALLOW_ORIGINS of the handler under test. */
  corsAllowOrigins: readonly string[];
  /** Where the handler under test stores feedback. */
  feedback: Store;
}

export interface EventExpectation {
  status: number;
  check: (response: HttpResponse, context: CheckContext) => void | Promise<void>;
}

/** The reviews an event carries, decoded independently of the code under test. */
export function reviewsOf(event: EventJson): (string | Review)[] {
  const raw = String(event.body);
  const parsed = JSON.parse(event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw) as
    | (string | Review)[]
    | { reviews: (string | Review)[] };
  return Array.isArray(parsed) ? parsed : parsed.reviews;
}

/** Header names are case-insensitive (@middy/http-cors writes Access-Control-Allow-Origin in title case). */
function header(response: HttpResponse, name: string): string | undefined {
  const found = Object.keys(response.headers).find((key) => key.toLowerCase() === name.toLowerCase());
  return found === undefined ? undefined : response.headers[found];
}

function predictions(options: { noKnownWords?: boolean; model?: string } = {}): EventExpectation {
  return {
    status: 200,
    check: async (response, context) => {
      const { event } = context;
      const scorer = options.model ? context.scorers[options.model] : context.scorer;
      assert.ok(scorer, `no scorer for ${options.model}`);
      assert.equal(header(response, 'content-type'), 'application/json');
      const body = JSON.parse(response.body) as { model: unknown; predictions: { tokens: number }[] };
      const { name, version } = scorer.manifest;
      assert.deepEqual(body.model, { name, version });
      const reviews = reviewsOf(event);
      // Same scorer, same texts, in input order: the handler adds or reorders nothing.
      assert.deepEqual(body.predictions, await scorer.predict(reviews));
      assert.equal(body.predictions.length, reviews.length);
      if (options.noKnownWords) assert.ok(body.predictions.every((p) => p.tokens === 0));
      else assert.ok(body.predictions.some((p) => p.tokens > 0));
    },
  };
}

function problem(
  status: number,
  pointers?: string[],
  headers: Record<string, string> = {},
): EventExpectation {
  return {
    status,
    check: (response, { event }) => {
      assert.equal(header(response, 'content-type'), 'application/problem+json');
      const body = JSON.parse(response.body) as Problem;
      assert.equal(body.status, status);
      assert.equal(body.instance, event.requestContext.requestId);
      assert.match(body.type, /^tag:review-sentiment,2026:problems\/[a-z-]+$/);
      assert.equal(typeof body.title, 'string');
      assert.ok(body.detail.length > 0);
      assert.deepEqual(
        body.errors?.map((e) => e.pointer),
        pointers,
      );
      for (const [name, value] of Object.entries(headers)) assert.equal(header(response, name), value);
    },
  };
}

/** The stored ranking.json of `period`, as the job wrote it, with the documented cache lifetime. */
function ranking(period: string, maxAge: number): EventExpectation {
  return {
    status: 200,
    check: (response) => {
      assert.equal(header(response, 'content-type'), 'application/json');
      assert.equal(header(response, 'cache-control'), `public, max-age=${maxAge}`);
      assert.equal(header(response, 'content-location'), `/rankings/${period}`);
      const body = JSON.parse(response.body) as { period: { label: string }; top: unknown[] };
      assert.equal(body.period.label, period);
      assert.equal(body.top.length, 5);
    },
  };
}

/** HEAD: the GET route's status and headers, no body. */
function head(status: number): EventExpectation {
  return {
    status,
    check: (response) => {
      assert.equal(response.body, '');
      assert.equal(header(response, 'content-type'), 'application/json');
    },
  };
}

function modelList(): EventExpectation {
  return {
    status: 200,
    check: (response, { scorers, defaultModel }) => {
      const body = JSON.parse(response.body) as { default: string; models: Record<string, unknown>[] };
      assert.equal(body.default, defaultModel);
      assert.deepEqual(
        body.models.map((m) => m.name),
        Object.keys(scorers),
      );
      for (const model of body.models) {
        const scorer = scorers[String(model.name)];
        assert.deepEqual(model, {
          name: model.name,
          default: model.name === defaultModel,
          state: 'ready',
          version: scorer?.manifest.version,
          labels: scorer?.manifest.labels,
        });
      }
    },
  };
}

/** The v2 body of an inference request event, read independently of the code under test. */
function inferInputs(event: EventJson): { id?: string; texts: string[]; titles: string[] } {
  const body = JSON.parse(String(event.body)) as { id?: string; inputs: { name: string; data: string[] }[] };
  const data = (name: string) => body.inputs.find((i) => i.name === name)?.data ?? [];
  return { ...(body.id ? { id: body.id } : {}), texts: data('text'), titles: data('title') };
}

function v2Infer(model: string): EventExpectation {
  return {
    status: 200,
    check: async (response, { event, scorers }) => {
      const scorer = scorers[model];
      assert.ok(scorer);
      const { id, texts, titles } = inferInputs(event);
      const expected = await scorer.predict(texts.map((text, i) => ({ text, title: titles[i] ?? null })));
      const body = JSON.parse(response.body) as {
        model_name: string;
        model_version: string;
        id?: string;
        outputs: { name: string; shape: number[]; datatype: string; data: unknown[] }[];
      };
      assert.equal(body.model_name, model);
      assert.equal(body.model_version, scorer.manifest.version);
      assert.equal(body.id, id);
      const { labels } = scorer.manifest;
      const [probabilities, rating, score] = body.outputs;
      assert.deepEqual(probabilities, {
        name: 'probabilities',
        datatype: 'FP32',
        shape: [texts.length, labels.length],
        data: expected.flatMap((p) => labels.map((label) => p.probabilities[label])),
      });
      assert.deepEqual(rating, {
        name: 'rating',
        datatype: 'INT32',
        shape: [texts.length],
        data: expected.map((p) => p.rating),
      });
      assert.deepEqual(score, {
        name: 'score',
        datatype: 'FP32',
        shape: [texts.length],
        data: expected.map((p) => p.score),
      });
    },
  };
}

function v2Metadata(model: string): EventExpectation {
  return {
    status: 200,
    check: (response, { scorers }) => {
      const scorer = scorers[model];
      assert.ok(scorer);
      assert.deepEqual(JSON.parse(response.body), {
        name: model,
        versions: [scorer.manifest.version],
        platform: scorer.runtime.name === 'onnx' ? 'onnxruntime' : 'tensorflowjs',
        inputs: [
          { name: 'text', datatype: 'BYTES', shape: [-1] },
          { name: 'title', datatype: 'BYTES', shape: [-1] },
        ],
        outputs: [
          { name: 'probabilities', datatype: 'FP32', shape: [-1, scorer.manifest.labels.length] },
          { name: 'rating', datatype: 'INT32', shape: [-1] },
          { name: 'score', datatype: 'FP32', shape: [-1] },
        ],
      });
    },
  };
}

/** Open Inference Protocol errors: {"error": "..."} and nothing else. */
function v2Error(status: number, pattern: RegExp): EventExpectation {
  return {
    status,
    check: (response) => {
      assert.equal(header(response, 'content-type'), 'application/json');
      const body = JSON.parse(response.body) as Record<string, unknown>;
      assert.deepEqual(Object.keys(body), ['error']);
      assert.match(String(body.error), pattern);
    },
  };
}

function health(): EventExpectation {
  return {
    status: 200,
    check: (response, { scorer, limits }) => {
      const body = JSON.parse(response.body) as Record<string, unknown>;
      assert.equal(body.status, 'ready');
      assert.equal(body.loaded, true);
      assert.deepEqual(body.model, { name: scorer.manifest.name, version: scorer.manifest.version });
      assert.equal(body.runtime, scorer.runtime.name);
      assert.equal(body.backend, scorer.runtime.backend);
      assert.deepEqual(body.limits, limits);
    },
  };
}

function page(): EventExpectation {
  return {
    status: 200,
    check: (response) => {
      assert.equal(header(response, 'content-type'), 'text/html; charset=utf-8');
      assert.match(response.body, /^<!doctype html>/);
      const csp = header(response, 'content-security-policy') ?? '';
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /script-src 'sha256-[A-Za-z0-9+/]+=*'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.doesNotMatch(response.body, /<script src=|<link rel="stylesheet"|https?:\/\//);
    },
  };
}

function openapi(): EventExpectation {
  return {
    status: 200,
    check: (response, { limits }) => {
      assert.equal(header(response, 'content-type'), 'application/json');
      const doc = JSON.parse(response.body) as {
        openapi: string;
        components: { schemas: Record<string, Record<string, unknown>> };
      };
      assert.equal(doc.openapi, '3.1.0');
      assert.equal(doc.components.schemas.ReviewList?.maxItems, limits.maxReviews);
      assert.equal(doc.components.schemas.ReviewText?.maxLength, limits.maxReviewChars);
    },
  };
}

/** A preflight: 204 with the path's methods; Access-Control-Allow-Origin only for an allowed origin. */
function preflight(): EventExpectation {
  return {
    status: 204,
    check: (response, { event, corsAllowOrigins }) => {
      assert.equal(header(response, 'access-control-allow-methods'), 'POST, OPTIONS');
      assert.match(header(response, 'access-control-allow-headers') ?? '', /content-type/);
      assert.equal(header(response, 'access-control-max-age'), '600');
      assert.equal(response.body, '');
      const origin = (event.headers as Record<string, string>).origin ?? '';
      const allowed = corsAllowOrigins.includes(origin) ? origin : undefined;
      assert.equal(header(response, 'access-control-allow-origin'), allowed);
    },
  };
}

/** The feedback an event carries, canonical (absent title and prediction are null), decoded independently. */
export function feedbackOf(event: EventJson): Feedback {
  const body = JSON.parse(String(event.body)) as Partial<Feedback>;
  return {
    model: String(body.model),
    text: String(body.text),
    title: body.title ?? null,
    label: String(body.label),
    prediction: body.prediction ?? null,
  };
}

/**
 * 202 with the content's id, and exactly one record for it in the store. `sameAs` names another event
 * whose feedback is the same content written differently: its id must be this one's (idempotency).
 */
function feedbackStored(sameAs?: string): EventExpectation {
  return {
    status: 202,
    check: async (response, { event, feedback }) => {
      assert.equal(header(response, 'content-type'), 'application/json');
      const sent = feedbackOf(event);
      const id = feedbackId(sent);
      assert.deepEqual(JSON.parse(response.body), { id, model: sent.model });
      if (sameAs) assert.equal(feedbackId(feedbackOf(await loadEvent(sameAs))), id);
      const keys = await feedback.list(`${sent.model}/`);
      assert.deepEqual(
        keys.filter((key) => key.includes(id)),
        [feedbackKey(sent.model, id)],
      );
      const stored = JSON.parse(new TextDecoder().decode(await feedback.get(feedbackKey(sent.model, id))));
      assert.deepEqual(
        { ...stored, modelVersion: undefined, receivedAt: undefined },
        {
          format: 'feedback/1',
          id,
          ...sent,
          modelVersion: undefined,
          receivedAt: undefined,
        },
      );
    },
  };
}

export const EVENT_EXPECTATIONS: Readonly<Record<string, EventExpectation>> = {
  'predictions-4-reviews.json': predictions(),
  'predictions-object-body.json': predictions(),
  'predictions-with-titles.json': predictions(),
  'predictions-v1-rest.json': predictions(),
  'predictions-base64.json': predictions(),
  'predictions-named-stage.json': predictions(),
  'predictions-unknown-words.json': predictions({ noKnownWords: true }),
  'predictions-named-model.json': predictions({ model: 'emotion' }),
  'models-list.json': modelList(),
  'v2-infer.json': v2Infer('review-sentiment'),
  'v2-model-metadata.json': v2Metadata('review-sentiment'),
  'v2-error-unknown-model.json': v2Error(404, /no model named "sentiment-v9"/),
  'error-unknown-model.json': problem(404),
  'feedback-ok.json': feedbackStored(),
  'feedback-duplicate.json': feedbackStored('feedback-ok.json'),
  'error-feedback-bad-label.json': problem(422, ['/label']),
  'health.json': health(),
  'health-head.json': head(200),
  'health-v1-rest.json': health(),
  'page.json': page(),
  'openapi.json': openapi(),
  'preflight-predictions.json': preflight(),
  'preflight-disallowed-origin.json': preflight(),
  // test/unit/function-handler-events.test.ts publishes 2014-W04 and 2014-W05.
  'rankings-latest.json': ranking('2014-W05', 60),
  'rankings-period.json': ranking('2014-W04', 3600),
  'error-ranking-not-found.json': problem(404),
  'error-ranking-bad-period.json': problem(400),
  'error-malformed-json.json': problem(400),
  'error-missing-body.json': problem(400),
  'error-not-an-array.json': problem(422, ['/reviews', '/text']),
  'error-non-string-item.json': problem(422, ['/1', '/2', '/3']),
  'error-invalid-review-object.json': problem(422, [
    '/reviews/0/text',
    '/reviews/1/stars',
    '/reviews/2/title',
  ]),
  'error-empty-list.json': problem(422, ['']),
  'error-too-many-reviews.json': problem(422, ['']),
  'error-review-too-long.json': problem(422, ['/1']),
  'error-empty-review.json': problem(422, ['/reviews/1']),
  'error-unknown-route.json': problem(404),
  'error-wrong-method.json': problem(405, undefined, { allow: 'POST' }),
  'error-unsupported-media-type.json': problem(415),
};
