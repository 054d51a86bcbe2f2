/**
 * The request schema of POST /predictions: a JSON array of reviews, or {"reviews": [...]}; each review is
 * a string (its text) or {"text": "...", "title": "..."} with the title optional.
 * Every offending item is reported with a JSON Pointer into the body, so a client can fix all of them
 * at once. Details never quote the review text (it must not reach logs).
 */

import type { FieldError } from '../../errors.ts';
import type { Review } from '../../text/review.ts';
import type { Limits } from '../config.ts';
import { invalidReviews } from './problems.ts';

export type ReviewLimits = Pick<Limits, 'maxReviews' | 'maxReviewChars'>;

const SHAPE = 'the body must be a JSON array of reviews or an object {"reviews": [...]}';
const REVIEW_KEYS = ['text', 'title'];

/** Returns the reviews in input order or throws invalidReviews (422) listing every problem. */
export function validateReviews(body: unknown, limits: ReviewLimits): Review[] {
  const { list, pointer, errors } = locateList(body);
  if (!list) throw invalidReviews(errors);
  if (list.length === 0) throw invalidReviews([{ pointer, detail: 'at least one review is required' }]);
  if (list.length > limits.maxReviews) {
    const detail = `${list.length} reviews; at most ${limits.maxReviews} are allowed per request`;
    throw invalidReviews([{ pointer, detail }]);
  }
  list.forEach((item, index) => {
    errors.push(...reviewProblems(item, `${pointer}/${index}`, limits.maxReviewChars));
  });
  if (errors.length > 0) throw invalidReviews(errors);
  return list.map((item) => (typeof item === 'string' ? { text: item } : (item as Review)));
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
  const detail = reviews === undefined ? 'required: an array of reviews' : 'must be an array of reviews';
  return { pointer: '/reviews', errors: [{ pointer: '/reviews', detail }, ...errors] };
}

/**
 * An empty or whitespace-only review is refused (the lead's decision): there is no text to score. A
 * non-empty review whose words are all unknown to the model is accepted and scored; its prediction has
 * `tokens: 0` (the model's no-information output), which the client can see.
 */
function reviewProblems(item: unknown, pointer: string, maxChars: number): FieldError[] {
  if (typeof item === 'string') return textProblems(item, pointer, 'review', maxChars);
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    return [
      { pointer, detail: `review must be a string or an object {"text", "title"}, got ${describe(item)}` },
    ];
  }
  const fields = item as Record<string, unknown>;
  const problems: FieldError[] = Object.keys(fields)
    .filter((key) => !REVIEW_KEYS.includes(key))
    .map((key) => ({
      pointer: `${pointer}/${escapePointer(key)}`,
      detail: 'unknown property; a review has "text" and an optional "title"',
    }));
  if (!Object.hasOwn(fields, 'text')) problems.unshift({ pointer: `${pointer}/text`, detail: 'required' });
  else if (typeof fields.text !== 'string') {
    problems.unshift({
      pointer: `${pointer}/text`,
      detail: `text must be a string, got ${describe(fields.text)}`,
    });
  } else problems.unshift(...textProblems(fields.text, `${pointer}/text`, 'text', maxChars));
  const title = fields.title;
  if (title !== undefined && title !== null && typeof title !== 'string') {
    problems.push({
      pointer: `${pointer}/title`,
      detail: `title must be a string or null, got ${describe(title)}`,
    });
  } else if (typeof title === 'string' && charsOverLimit(title, maxChars) !== undefined) {
    problems.push({ pointer: `${pointer}/title`, detail: `title is over ${maxChars} characters` });
  }
  return problems;
}

/** The text of a review: non-empty and within the limit. */
export function textProblems(text: string, pointer: string, what: string, maxChars: number): FieldError[] {
  if (text.trim().length === 0) return [{ pointer, detail: `${what} is empty` }];
  const chars = charsOverLimit(text, maxChars);
  if (chars === undefined) return [];
  return [{ pointer, detail: `${what} has ${chars} characters; at most ${maxChars} are allowed` }];
}

/** Characters are Unicode code points, so an emoji counts once, not as two UTF-16 units. */
export function charsOverLimit(text: string, maxChars: number): number | undefined {
  // A string has at least as many UTF-16 units as code points: short ones need no counting.
  if (text.length <= maxChars) return undefined;
  let count = 0;
  for (const _ of text) count++;
  return count > maxChars ? count : undefined;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** RFC 6901: "~" and "/" inside a key are escaped as "~0" and "~1". */
export function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
