import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { generateValidatorModule, VALIDATOR_FILE } from '../../scripts/generate-validator.ts';
import { AppError, type FieldError, NotFoundError } from '../../src/errors.ts';
import type { HttpRequest } from '../../src/function/http/event.ts';
import { assertJsonContentType, parseJsonBody } from '../../src/function/http/json-body.ts';
import { toProblem } from '../../src/function/http/problems.ts';
import { reviewProblems, validateReviews } from '../../src/function/http/validate.ts';
import { matchRoute } from '../../src/function/routes/index.ts';
import { contractValidator } from '../helpers/contract-ajv.ts';
import { anyText, FUZZ_SEED, fuzzParameters } from '../helpers/fuzz.ts';

/** Matches an error whose HTTP problem has this status. */
const withStatus =
  (status: number) =>
  (error: unknown): boolean =>
    toProblem(error).problem.status === status;

const LIMITS = { maxReviews: 3, maxReviewChars: 10 };

function fieldErrors(body: unknown, limits = LIMITS): FieldError[] {
  try {
    validateReviews(body, limits);
  } catch (error) {
    assert.ok(error instanceof AppError, String(error));
    const { problem } = toProblem(error);
    assert.equal(problem.status, 422);
    return [...(problem.errors ?? [])];
  }
  assert.fail('expected a 422 problem');
}

describe('validateReviews', () => {
  test('an array or {"reviews": [...]} of strings is returned in input order', () => {
    assert.deepEqual(validateReviews(['b', 'a'], LIMITS), [{ text: 'b' }, { text: 'a' }]);
    assert.deepEqual(
      validateReviews({ reviews: ['x', 'y', 'z'] }, LIMITS).map((r) => r.text),
      ['x', 'y', 'z'],
    );
  });

  test('reviews may be objects with a text and an optional title, mixed with strings', () => {
    const body = [
      'plain',
      { text: 'body', title: 'Great' },
      { text: 'no title' },
      { text: 't', title: null },
    ];
    assert.deepEqual(validateReviews(body, { ...LIMITS, maxReviews: 4 }), [
      { text: 'plain' },
      { text: 'body', title: 'Great' },
      { text: 'no title' },
      { text: 't', title: null },
    ]);
  });

  test('object reviews: each bad field is named by its pointer', () => {
    assert.deepEqual(
      fieldErrors(
        { reviews: [{ title: 'x' }, { text: 5 }, { text: ' ' }, { text: 'ok', stars: 5 }] },
        { ...LIMITS, maxReviews: 4 },
      ),
      [
        { pointer: '/reviews/0/text', detail: 'required' },
        { pointer: '/reviews/1/text', detail: 'text must be a string, got number' },
        { pointer: '/reviews/2/text', detail: 'text is empty' },
        {
          pointer: '/reviews/3/stars',
          detail: 'unknown property; a review has "text" and an optional "title"',
        },
      ],
    );
    assert.deepEqual(
      fieldErrors([
        { text: 'ok', title: 7 },
        { text: 'ok', title: 'x'.repeat(11) },
      ]),
      [
        { pointer: '/0/title', detail: 'title must be a string or null, got number' },
        { pointer: '/1/title', detail: 'title is over 10 characters' },
      ],
    );
    assert.deepEqual(fieldErrors([{ text: 'x'.repeat(11) }]), [
      { pointer: '/0/text', detail: 'text has 11 characters; at most 10 are allowed' },
    ]);
  });

  test('every offending item is named by its pointer', () => {
    assert.deepEqual(fieldErrors(['ok', 1, null]), [
      { pointer: '/1', detail: 'review must be a string or an object {"text", "title"}, got number' },
      { pointer: '/2', detail: 'review must be a string or an object {"text", "title"}, got null' },
    ]);
    assert.deepEqual(
      fieldErrors({ reviews: [{}, 'ok', []] }).map((e) => e.pointer),
      ['/reviews/0/text', '/reviews/2'],
    );
  });

  test('empty and whitespace-only reviews are refused; all-unknown words are not this layer’s concern', () => {
    assert.deepEqual(fieldErrors(['', ' \n\t\u3000']), [
      { pointer: '/0', detail: 'review is empty' },
      { pointer: '/1', detail: 'review is empty' },
    ]);
    assert.deepEqual(validateReviews(['zzqx plorf'], LIMITS), [{ text: 'zzqx plorf' }]);
  });

  test('reviews of invisible characters only are empty alike, as texts and as objects', () => {
    const invisible = ['\u200b', '\u200c\u200d', '\u2060', '\ufeff', '\u0000\u0001\u007f', '\u00a0\u2007'];
    const limits = { maxReviews: 10, maxReviewChars: 10 };
    assert.deepEqual(fieldErrors([...invisible, { text: '\u200b \u00a0' }], limits), [
      ...invisible.map((_, i) => ({ pointer: `/${i}`, detail: 'review is empty' })),
      { pointer: `/${invisible.length}/text`, detail: 'text is empty' },
    ]);
    assert.deepEqual(validateReviews(['\u200bok\u200b'], limits), [{ text: '\u200bok\u200b' }]);
  });

  test('length is counted in characters (code points): 10 emoji fit a 10-character limit', () => {
    const emoji = '😀'.repeat(10);
    assert.equal(emoji.length, 20);
    assert.deepEqual(validateReviews([emoji], LIMITS), [{ text: emoji }]);
    assert.deepEqual(fieldErrors(['x'.repeat(11)]), [
      { pointer: '/0', detail: 'review has 11 characters; at most 10 are allowed' },
    ]);
  });

  test('list size: at least one, at most maxReviews', () => {
    assert.deepEqual(fieldErrors([]), [{ pointer: '', detail: 'at least one review is required' }]);
    assert.deepEqual(fieldErrors({ reviews: [] }), [
      { pointer: '/reviews', detail: 'at least one review is required' },
    ]);
    assert.deepEqual(fieldErrors(['a', 'b', 'c', 'd']), [
      { pointer: '', detail: '4 reviews; at most 3 are allowed per request' },
    ]);
  });

  test('wrong shapes', () => {
    for (const body of ['a review', 3, null, true])
      assert.deepEqual(
        fieldErrors(body).map((e) => e.pointer),
        [''],
      );
    assert.deepEqual(fieldErrors({ reviews: 'a review' }), [
      { pointer: '/reviews', detail: 'must be an array of reviews' },
    ]);
    assert.deepEqual(fieldErrors({ review: ['a'], 'a/b~': 1 }), [
      { pointer: '/reviews', detail: 'required: an array of reviews' },
      { pointer: '/review', detail: 'unknown property; only "reviews" is accepted' },
      { pointer: '/a~1b~0', detail: 'unknown property; only "reviews" is accepted' },
    ]);
  });

  test('details never quote the review text', () => {
    const secret = 'my private review text';
    const errors = fieldErrors([secret.repeat(2), 5]);
    assert.ok(errors.every((e) => !e.detail.includes('private')));
  });
});

function request(body: string | Uint8Array, contentType?: string): HttpRequest {
  return {
    payloadVersion: '2.0',
    method: 'POST',
    path: '/predictions',
    headers: contentType === undefined ? {} : { 'content-type': contentType },
    body: typeof body === 'string' ? new TextEncoder().encode(body) : body,
    requestId: 'r',
  };
}

/** Bodies of every shape the contract tells apart: right and wrong types, blanks, limits crossed. */
const word = fc.string({ unit: fc.constantFrom('a', 'b', ' ', '😀'), minLength: 1, maxLength: 11 });
const text = fc.oneof(
  { weight: 8, arbitrary: word.map((w) => `${w}z`.slice(-10)) },
  anyText(14),
  fc.constantFrom('', ' ', '\u200b', '😀'.repeat(10), '😀'.repeat(11)),
);
const field = fc.oneof(text, fc.integer(), fc.constant(null));
const review = fc.oneof(
  { weight: 12, arbitrary: text },
  { weight: 4, arbitrary: fc.record({ text, title: fc.option(text) }, { requiredKeys: ['text'] }) },
  fc.record({ text: field, title: field }, { requiredKeys: [] }),
  fc.record({ text, extra: fc.integer() }),
  fc.integer(),
  fc.constant(null),
  fc.array(text, { maxLength: 2 }),
);
const list = fc.array(review, { maxLength: 4 });
const body = fc.oneof(
  { weight: 3, arbitrary: list },
  { weight: 3, arbitrary: fc.record({ reviews: list }) },
  fc.record({ reviews: list, other: fc.integer() }),
  fc.record({ reviews: field }),
  field,
  fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
);

describe('the generated request validator (scripts/generate-validator.ts)', () => {
  test('the committed module is what `npm run generate:validator` writes', async () => {
    assert.equal(await readFile(VALIDATOR_FILE, 'utf8'), generateValidatorModule());
  });

  test(`answers as ajv compiling the whole contract, limits included (fast-check, seed ${FUZZ_SEED})`, () => {
    const reference = contractValidator(LIMITS, 'PredictionRequest');
    let refused = 0;
    let overLimit = 0;
    fc.assert(
      fc.property(body, (sent) => {
        const ours = reviewProblems(sent, LIMITS);
        assert.deepEqual(ours, reviewProblems(sent, LIMITS, { shape: reference, checkLimits: false }));
        if (ours.length > 0) refused++;
        if (ours.some((p) => /at most/.test(p.detail))) overLimit++;
      }),
      fuzzParameters(2000),
    );
    // The bodies reach both sides of every rule, the limits included, so the equality above means something.
    assert.ok(refused > 500 && refused < 1800, `${refused} of 2000 refused`);
    assert.ok(overLimit > 100, `${overLimit} over a limit`);
  });
});

describe('JSON bodies', () => {
  test('JSON media types in UTF-8 are accepted, and a missing content-type counts as JSON', () => {
    for (const type of [
      undefined,
      '',
      'application/json',
      'Application/JSON; charset=UTF-8',
      'application/problem+json',
      'application/vnd.api+json; charset="utf-8"',
    ]) {
      assert.doesNotThrow(() => assertJsonContentType(type), String(type));
    }
  });

  test('other media types and charsets get 415', () => {
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/json; charset=latin1',
      'json',
    ]) {
      assert.throws(() => assertJsonContentType(type), withStatus(415), type);
    }
  });

  test('parses JSON; empty, non-UTF-8 and malformed bodies are 400 without quoting the body', () => {
    assert.deepEqual(parseJsonBody(request('["a"]', 'application/json')), ['a']);
    assert.throws(() => parseJsonBody(request('')), /body is empty/);
    assert.throws(
      () => parseJsonBody(request(new Uint8Array([0x5b, 0x22, 0xff, 0x22, 0x5d]))),
      /not valid UTF-8/,
    );
    for (const body of ['["Terrible product", ', 'Terrible product', '{"reviews": [Terrible]}']) {
      assert.throws(
        () => parseJsonBody(request(body)),
        (error: unknown) =>
          withStatus(400)(error) &&
          error instanceof Error &&
          /^the request body is not valid JSON/.test(error.message) &&
          !error.message.includes('Terrible'),
      );
    }
  });
});

describe('routes', () => {
  test('known routes', () => {
    assert.equal(matchRoute('POST', '/predictions').route, '/predictions');
    assert.equal(matchRoute('GET', '/health').route, '/health');
    assert.equal(matchRoute('GET', '/openapi.json').route, '/openapi.json');
    assert.equal(matchRoute('GET', '/').route, '/');
  });

  test('OPTIONS on a known path is a CORS preflight listing its methods; on an unknown path, 404', async () => {
    const { handler } = matchRoute('OPTIONS', '/predictions');
    const response = await handler({} as Parameters<typeof handler>[0]);
    assert.equal(response.statusCode, 204);
    assert.equal(response.headers['access-control-allow-methods'], 'POST, OPTIONS');
    assert.throws(() => matchRoute('OPTIONS', '/nope'), NotFoundError);
  });

  test('unknown path is 404; wrong method is 405 with the allowed methods', () => {
    assert.throws(() => matchRoute('GET', '/nope'), NotFoundError);
    assert.throws(() => matchRoute('GET', '/constructor'), NotFoundError);
    assert.throws(
      () => matchRoute('DELETE', '/predictions'),
      (error: unknown) => {
        const { problem, headers } = toProblem(error);
        return problem.status === 405 && headers.allow === 'POST';
      },
    );
    assert.throws(() => matchRoute('POST', '/health'), withStatus(405));
    assert.throws(() => matchRoute('toString', '/health'), withStatus(405));
  });
});
