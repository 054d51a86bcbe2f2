/**
 * The request schema of POST /feedback: {"model", "text", "title"?, "label", "prediction"?}. Text and title
 * have the limits of POST /predictions. Whether `model` is served and `label`/`prediction` are among its
 * labels needs the model, so the route checks that after this shape check. Details never quote the text.
 */
import type { FieldError } from '../../errors.ts';
import type { Feedback } from '../../feedback/record.ts';
import type { Limits } from '../config.ts';
import { invalidFeedback } from './problems.ts';
import { charsOverLimit, describe, escapePointer, textProblems } from './validate.ts';

const KEYS = ['model', 'text', 'title', 'label', 'prediction'];
const SHAPE = 'the body must be an object {"model", "text", "title"?, "label", "prediction"?}';

export function validateFeedback(body: unknown, limits: Pick<Limits, 'maxReviewChars'>): Feedback {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidFeedback([{ pointer: '', detail: SHAPE }]);
  }
  const fields = body as Record<string, unknown>;
  const errors: FieldError[] = [];
  const name = (key: string, what: string) => {
    const value = fields[key];
    if (value === undefined) errors.push({ pointer: `/${key}`, detail: `required: ${what}` });
    else if (typeof value !== 'string' || value.trim().length === 0)
      errors.push({
        pointer: `/${key}`,
        detail: `must be a non-empty string (${what}), got ${describe(value)}`,
      });
  };
  name('model', 'the model name');
  if (typeof fields.text === 'string') {
    errors.push(...textProblems(fields.text, '/text', 'text', limits.maxReviewChars));
  } else {
    const detail =
      fields.text === undefined ? 'required' : `text must be a string, got ${describe(fields.text)}`;
    errors.push({ pointer: '/text', detail });
  }
  const title = fields.title;
  if (title !== undefined && title !== null && typeof title !== 'string') {
    errors.push({ pointer: '/title', detail: `title must be a string or null, got ${describe(title)}` });
  } else if (typeof title === 'string' && charsOverLimit(title, limits.maxReviewChars) !== undefined) {
    errors.push({ pointer: '/title', detail: `title is over ${limits.maxReviewChars} characters` });
  }
  name('label', "one of the model's labels");
  const prediction = fields.prediction;
  if (prediction !== undefined && prediction !== null && typeof prediction !== 'string') {
    errors.push({
      pointer: '/prediction',
      detail: `prediction must be a label or null, got ${describe(prediction)}`,
    });
  }
  for (const key of Object.keys(fields).filter((k) => !KEYS.includes(k))) {
    errors.push({ pointer: `/${escapePointer(key)}`, detail: `unknown property; use ${KEYS.join(', ')}` });
  }
  if (errors.length > 0) throw invalidFeedback(errors);
  const blankToNull = (value: unknown): string | null =>
    typeof value === 'string' && value.trim().length > 0 ? value : null;
  return {
    model: fields.model as string,
    text: fields.text as string,
    title: blankToNull(title),
    label: fields.label as string,
    prediction: blankToNull(prediction),
  };
}
