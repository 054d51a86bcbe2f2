/**
 * The request schema of POST /predictions: a JSON array of review strings, or {"reviews": [...]}.
 * Every offending item is reported with a JSON Pointer into the body, so a client can fix all of them
 * at once. Details never quote the review text (it must not reach logs).
 */

import type { FieldError } from '../../errors.ts';
import type { Limits } from '../config.ts';
import { invalidReviews } from './problems.ts';

export type ReviewLimits = Pick<Limits, 'maxReviews' | 'maxReviewChars'>;

const SHAPE = 'the body must be a JSON array of review strings or an object {"reviews": [...]}';

/** Returns the reviews in input order or throws invalidReviews (422) listing every problem. */
export function validateReviews(body: unknown, limits: ReviewLimits): string[] {
  const { list, pointer, errors } = locateList(body);
  if (!list) throw invalidReviews(errors);
  if (list.length === 0) throw invalidReviews([{ pointer, detail: 'at least one review is required' }]);
  if (list.length > limits.maxReviews) {
    const detail = `${list.length} reviews; at most ${limits.maxReviews} are allowed per request`;
    throw invalidReviews([{ pointer, detail }]);
  }
  list.forEach((item, index) => {
    const detail = reviewProblem(item, limits.maxReviewChars);
    if (detail) errors.push({ pointer: `${pointer}/${index}`, detail });
  });
  if (errors.length > 0) throw invalidReviews(errors);
  return list as string[];
}

function locateList(body: unknown): { list?: unknown[]; pointer: string; errors: FieldError[] } {
  if (Array.isArray(body)) return { list: body, pointer: '', errors: [] };
  if (typeof body !== 'object' || body === null)
    return { pointer: '', errors: [{ pointer: '', detail: SHAPE }] };
  // Unknown properties are refused rather than ignored: a misspelt option must not pass silently.
  const errors: FieldError[] = Object.keys(body)
    .filter((key) => key !== 'reviews')
    .map((key) => ({
      pointer: `/${escapePointer(key)}`,
      detail: 'unknown property; only "reviews" is accepted',
    }));
  const reviews: unknown = (body as { reviews?: unknown }).reviews;
  if (Array.isArray(reviews)) return { list: reviews, pointer: '/reviews', errors };
  const detail =
    reviews === undefined ? 'required: an array of review strings' : 'must be an array of review strings';
  return { pointer: '/reviews', errors: [{ pointer: '/reviews', detail }, ...errors] };
}

/**
 * An empty or whitespace-only review is refused (the lead's decision): there is no text to score. A
 * non-empty review whose words are all unknown to the model is accepted and scored; its prediction has
 * `tokens: 0` (the model's no-information output), which the client can see.
 */
function reviewProblem(item: unknown, maxChars: number): string | undefined {
  if (typeof item !== 'string') return `review must be a string, got ${describe(item)}`;
  if (item.trim().length === 0) return 'review is empty';
  const chars = charsOverLimit(item, maxChars);
  if (chars !== undefined) return `review has ${chars} characters; at most ${maxChars} are allowed`;
  return undefined;
}

/** Characters are Unicode code points, so an emoji counts once, not as two UTF-16 units. */
function charsOverLimit(text: string, maxChars: number): number | undefined {
  // A string has at least as many UTF-16 units as code points: short ones need no counting.
  if (text.length <= maxChars) return undefined;
  let count = 0;
  for (const _ of text) count++;
  return count > maxChars ? count : undefined;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** RFC 6901: "~" and "/" inside a key are escaped as "~0" and "~1". */
function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
