/**
 * The expected outcome of every event file in events/. handler-events.test.ts runs each file through the
 * whole middy chain and fails when a file has no entry here (or an entry has no file).
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Limits } from '../../src/function/config.ts';
import type { Problem } from '../../src/function/http/problems.ts';
import type { HttpResponse } from '../../src/function/http/responses.ts';
import type { Scorer } from '../../src/model/scorer.ts';
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
  /** CORS_ALLOW_ORIGINS of the handler under test. */
  corsAllowOrigins: readonly string[];
}

export interface EventExpectation {
  status: number;
  check: (response: HttpResponse, context: CheckContext) => void;
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

export const EVENT_EXPECTATIONS: Readonly<Record<string, EventExpectation>> = {
  'predictions-4-reviews.json': predictions(),
  'predictions-object-body.json': predictions(),
  'predictions-with-titles.json': predictions(),
  'predictions-v1-rest.json': predictions(),
  'predictions-base64.json': predictions(),
  'predictions-named-stage.json': predictions(),
  'predictions-unknown-words.json': predictions({ noKnownWords: true }),
  'health.json': health(),
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
