/**
 * Validates a POST /predictions body against the contract's JSON Schema (src/function/contract/), so the
 * shape is written once: this module only words the findings for clients. The shape is checked by code
 * generated from the schemas ahead of time (./request-shape.generated.js, `npm run generate:validator`:
 * no schema is compiled at run time); the configured limits, which the published schemas also carry,
 * are checked here by the same rules. Every offending item is reported with a JSON Pointer into the
 * body, so a client can fix all of them at once. Details never quote the review text (it must not reach
 * logs).
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { FieldError } from '../../errors.ts';
import { isBlank } from '../../text/invisible.ts';
import type { Review } from '../../text/review.ts';
import type { ReviewLimits } from '../contract/schemas.ts';
import { isJsonObject } from './json-body.ts';
import { invalidReviews } from './problems.ts';
import { validate as validateShape } from './request-shape.generated.js';

export type { ReviewLimits } from '../contract/schemas.ts';

const SHAPE = 'the body must be a JSON array of reviews or an object {"reviews": [...]}';
const REVIEW_SHAPE = 'review must be a string or an object {"text", "title"}';

/** Returns the reviews in input order or throws invalidReviews (422) listing every problem. */
export function validateReviews(body: unknown, limits: ReviewLimits): Review[] {
  const found = reviewProblems(body, limits);
  if (found.length > 0) throw invalidReviews(found);
  const list: (string | Review)[] = Array.isArray(body) ? body : (body as { reviews: Review[] }).reviews;
  return list.map((item) => (typeof item === 'string' ? { text: item } : item));
}

export interface ProblemOptions {
  /** The shape check; default the generated one. A test passes ajv's compile of the whole contract. */
  shape?: ValidateFunction;
  /** Check the limits here (default); off when `shape` already holds them. */
  checkLimits?: boolean;
}

/** Every problem of a body, in reading order; none when it is a valid request. */
export function reviewProblems(
  body: unknown,
  limits: ReviewLimits,
  options: ProblemOptions = {},
): FieldError[] {
  const shape = options.shape ?? validateShape;
  const valid = shape(body);
  const limitErrors = options.checkLimits === false ? [] : overLimits(body, limits);
  const found = [...(valid ? [] : (shape.errors ?? [])), ...blankTexts(body), ...limitErrors];
  return found.length === 0 ? [] : fieldErrors(found, body, limits);
}

/**
 * ajv's errors as our FieldErrors, in the order a reader fixes them: the list itself, unknown top-level
 * properties, then item by item (text, unknown properties, title).
 */
function fieldErrors(errors: ErrorObject[], body: unknown, limits: ReviewLimits): FieldError[] {
  // A list of the wrong size is reported alone: its items are not worth checking yet.
  const size = errors.find((e) => e.keyword === 'minItems' || e.keyword === 'maxItems');
  const relevant = size ? [size] : withoutLosingBranches(errors);
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const error of relevant) {
    const field = describeError(error, limits);
    const key = `${field.pointer}\n${field.detail}`;
    if (!seen.has(key)) out.push(field);
    seen.add(key);
  }
  const list = Array.isArray(body) ? '' : '/reviews';
  return out
    .map((field, index) => ({ field, index, rank: readingOrder(field.pointer, list) }))
    .sort((a, b) => compareRanks(a.rank, b.rank) || a.index - b.index)
    .map(({ field }) => field);
}

/**
 * The contract's oneOf alternatives differ by JSON type, so for a value of one type only the branch of
 * that type has something to say; the other's "must be <type>" is noise. A value of neither type keeps
 * the oneOf error itself, worded as "must be a string or an object".
 */
function withoutLosingBranches(errors: ErrorObject[]): ErrorObject[] {
  const typeErrorsAt = new Map<string, number>();
  for (const e of errors) {
    if (e.keyword === 'type') typeErrorsAt.set(e.instancePath, (typeErrorsAt.get(e.instancePath) ?? 0) + 1);
  }
  const unions = new Map(errors.filter((e) => e.keyword === 'oneOf').map((e) => [e.instancePath, e]));
  return errors.filter((e) => {
    const union = unions.get(e.instancePath);
    if (!union) return true;
    const branches = ((union.parentSchema as { oneOf: unknown[] }).oneOf ?? []).length;
    const noBranchFits = typeErrorsAt.get(e.instancePath) === branches;
    return e.keyword === 'oneOf' ? noBranchFits : e.keyword !== 'type';
  });
}

/**
 * Texts of invisible characters only (zero-width, control, Unicode spaces: src/text/invisible.ts) are as
 * empty as "", which a JSON Schema pattern cannot say for every such character; reported like minLength.
 */
function blankTexts(body: unknown): ErrorObject[] {
  const found = reviewsOf(body);
  if (!found) return [];
  const { reviews, list } = found;
  return reviews.flatMap((item: unknown, index) => {
    const text = typeof item === 'string' ? item : (item as { text?: unknown } | null)?.text;
    if (typeof text !== 'string' || text.length === 0 || !isBlank(text)) return [];
    const instancePath = `${list}/${index}${typeof item === 'string' ? '' : '/text'}`;
    return [{ keyword: 'minLength', instancePath, schemaPath: '', params: {}, data: text } as ErrorObject];
  });
}

/**
 * The configured limits, as the published schemas' maxItems and maxLength say them and where JSON Schema
 * would apply them: the list's size, and the length in code points of every text and title that is a
 * string, whatever else is wrong with its review (ajv reports every error, and so does this).
 */
function overLimits(body: unknown, limits: ReviewLimits): ErrorObject[] {
  const located = reviewsOf(body);
  if (!located) return [];
  const { reviews, list } = located;
  const found: ErrorObject[] = [];
  const failed = (keyword: string, instancePath: string, data: unknown, title: string) =>
    found.push({ keyword, instancePath, schemaPath: '', params: {}, data, parentSchema: { title } });
  if (reviews.length > limits.maxReviews) failed('maxItems', list, reviews, 'ReviewList');
  const tooLong = (value: unknown) =>
    typeof value === 'string' && charsOverLimit(value, limits.maxReviewChars) !== undefined;
  reviews.forEach((item: unknown, index) => {
    const at = `${list}/${index}`;
    if (tooLong(item)) failed('maxLength', at, item, 'ReviewText');
    if (!isJsonObject(item)) return;
    if (tooLong(item.text)) failed('maxLength', `${at}/text`, item.text, 'ReviewText');
    if (tooLong(item.title)) failed('maxLength', `${at}/title`, item.title, 'ReviewTitle');
  });
  return found;
}

/** The body's list of reviews (the body itself, or its `reviews`) and the JSON Pointer to it; null if none. */
function reviewsOf(body: unknown): { reviews: unknown[]; list: string } | null {
  if (Array.isArray(body)) return { reviews: body, list: '' };
  const reviews = isJsonObject(body) ? body.reviews : undefined;
  return Array.isArray(reviews) ? { reviews, list: '/reviews' } : null;
}

function describeError(error: ErrorObject, limits: ReviewLimits): FieldError {
  const pointer = error.instancePath;
  const schema = String((error.parentSchema as { title?: unknown } | undefined)?.title ?? '');
  const what = fieldName(pointer);
  const max = limits.maxReviewChars;
  switch (error.keyword) {
    case 'oneOf':
      return {
        pointer,
        detail: schema === 'Review' ? `${REVIEW_SHAPE}, got ${describe(error.data)}` : SHAPE,
      };
    case 'required': {
      const missing = escapePointer(String(error.params.missingProperty));
      const detail = schema === 'ReviewsObject' ? 'required: an array of reviews' : 'required';
      return { pointer: `${pointer}/${missing}`, detail };
    }
    case 'additionalProperties': {
      const detail =
        schema === 'ReviewsObject'
          ? 'unknown property; only "reviews" is accepted'
          : 'unknown property; a review has "text" and an optional "title"';
      return { pointer: `${pointer}/${escapePointer(String(error.params.additionalProperty))}`, detail };
    }
    case 'type':
      if (schema === 'ReviewList') return { pointer, detail: 'must be an array of reviews' };
      if (schema === 'ReviewTitle')
        return { pointer, detail: `title must be a string or null, got ${describe(error.data)}` };
      return { pointer, detail: `${what} must be a string, got ${describe(error.data)}` };
    case 'minLength':
    case 'pattern':
      return { pointer, detail: `${what} is empty` };
    case 'maxLength':
      if (schema === 'ReviewTitle') return { pointer, detail: `title is over ${max} characters` };
      return {
        pointer,
        detail: `${what} has ${codePoints(String(error.data))} characters; at most ${max} are allowed`,
      };
    case 'minItems':
      return { pointer, detail: 'at least one review is required' };
    case 'maxItems': {
      const count = Array.isArray(error.data) ? error.data.length : 0;
      return { pointer, detail: `${count} reviews; at most ${limits.maxReviews} are allowed per request` };
    }
    default:
      // A keyword the contract gained without a message here: ajv's own words, still located exactly.
      return { pointer, detail: error.message ?? error.keyword };
  }
}

/** "text" or "title" for a review object's fields, "review" for a review given as a string. */
function fieldName(pointer: string): string {
  const last = pointer.slice(pointer.lastIndexOf('/') + 1);
  return last === 'text' || last === 'title' ? last : 'review';
}

/**
 * Sort key: [0] the list or body itself, [1] an unknown top-level property, [2, index, part] an item,
 * where part orders a review's text (or the review) before unknown properties before its title.
 */
function readingOrder(pointer: string, list: string): number[] {
  const rest = pointer.startsWith(`${list}/`) ? pointer.slice(list.length + 1).split('/') : undefined;
  const index = rest && /^\d+$/.test(rest[0] ?? '') ? Number(rest[0]) : undefined;
  if (pointer === list || pointer === '') return [0];
  if (index === undefined) return [1];
  const part = rest?.[1];
  return [2, index, part === undefined || part === 'text' ? 0 : part === 'title' ? 2 : 1];
}

function compareRanks(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? -1) - (b[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

/** Characters are Unicode code points (as JSON Schema's maxLength counts them): an emoji counts once. */
function codePoints(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
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

/** A text field checked outside the JSON-Schema contract (POST /feedback): visible, within the limit. */
export function textProblems(text: string, pointer: string, what: string, maxChars: number): FieldError[] {
  if (isBlank(text)) return [{ pointer, detail: `${what} is empty` }];
  const chars = charsOverLimit(text, maxChars);
  if (chars === undefined) return [];
  return [{ pointer, detail: `${what} has ${chars} characters; at most ${maxChars} are allowed` }];
}

/** The text's length in code points when it is over `maxChars`, else undefined. */
export function charsOverLimit(text: string, maxChars: number): number | undefined {
  const chars = codePoints(text);
  return chars > maxChars ? chars : undefined;
}
