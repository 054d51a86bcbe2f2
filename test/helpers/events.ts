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
  scorer: Scorer;
  limits: Limits;
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

function header(response: HttpResponse, name: string): string | undefined {
  return response.headers[name];
}

function predictions(options: { noKnownWords?: boolean } = {}): EventExpectation {
  return {
    status: 200,
    check: (response, { event, scorer }) => {
      assert.equal(header(response, 'content-type'), 'application/json');
      const body = JSON.parse(response.body) as { model: unknown; predictions: { tokens: number }[] };
      const { name, version } = scorer.manifest;
      assert.deepEqual(body.model, { name, version });
      const reviews = reviewsOf(event);
      // Same scorer, same texts, in input order: the handler adds or reorders nothing.
      assert.deepEqual(body.predictions, scorer.predict(reviews));
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

function health(): EventExpectation {
  return {
    status: 200,
    check: (response, { scorer, limits }) => {
      const body = JSON.parse(response.body) as Record<string, unknown>;
      assert.equal(body.status, 'ready');
      assert.equal(body.loaded, true);
      assert.deepEqual(body.model, { name: scorer.manifest.name, version: scorer.manifest.version });
      assert.equal(typeof body.backend, 'string');
      assert.deepEqual(body.limits, limits);
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
  'feedback-ok.json': feedbackStored(),
  'feedback-duplicate.json': feedbackStored('feedback-ok.json'),
  'error-feedback-bad-label.json': problem(422, ['/label']),
  'health.json': health(),
  'health-v1-rest.json': health(),
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
