/**
 * The OpenAPI document's examples. Request examples are bodies the API accepts; each error example
 * carries the body it answers in `x-request-body` (an OpenAPI extension: a refused body cannot be a
 * request example, which must match the schema). The tests send every one of them through the real
 * handler and expect the documented problem, or a 200 that fits the response schema.
 */
import { problemType } from '../http/problems.ts';

export interface Example {
  summary: string;
  value: unknown;
  'x-request-body'?: unknown;
}

export const FOUR_REVIEWS = [
  'The book was very poor',
  'Very nice!',
  'The author could have done more',
  'Amazing product!',
];

/** Bodies the API accepts (200). */
export const REQUEST_EXAMPLES: Record<string, Example> = {
  'four-reviews': { summary: 'A JSON array of review texts', value: FOUR_REVIEWS },
  'with-titles': {
    summary: 'An object {"reviews": [...]}; reviews with a title, mixed with plain texts',
    value: {
      reviews: [
        { title: 'Great value', text: 'Works as described and arrived early.' },
        'Broke after two days.',
        { text: 'Does the job.', title: null },
      ],
    },
  },
};

function invalid(errors: { pointer: string; detail: string }[]) {
  const count = errors.length === 1 ? '1 problem' : `${errors.length} problems`;
  return {
    type: problemType('invalid-reviews'),
    title: 'Invalid reviews',
    status: 422,
    detail: `the request body has ${count}; see errors`,
    instance: 'JKJaXmPLvHcESHA=',
    errors,
  };
}

export const PROBLEM_EXAMPLES: Record<string, Example> = {
  'invalid-reviews': {
    summary: 'Refused: every offending item is named by its JSON pointer',
    'x-request-body': {
      reviews: ['Very nice!', '   ', { title: 'No text here' }, { text: 'ok', stars: 5 }, 42],
    },
    value: invalid([
      { pointer: '/reviews/1', detail: 'review is empty' },
      { pointer: '/reviews/2/text', detail: 'required' },
      {
        pointer: '/reviews/3/stars',
        detail: 'unknown property; a review has "text" and an optional "title"',
      },
      { pointer: '/reviews/4', detail: 'review must be a string or an object {"text", "title"}, got number' },
    ]),
  },
  'empty-list': {
    summary: 'Refused: no reviews',
    'x-request-body': [],
    value: invalid([{ pointer: '', detail: 'at least one review is required' }]),
  },
};

/** The default model's real answer to the four reviews (as in the README). */
export const PREDICTION_EXAMPLES: Record<string, Example> = {
  'four-reviews': {
    summary: 'The default model on the "four-reviews" request',
    value: {
      model: { name: 'review-sentiment', version: '20261125T210653Z-43eb3d8f-int8' },
      predictions: [
        {
          rating: 2,
          score: 1.621,
          probabilities: { 1: 0.4909, 2: 0.4125, 3: 0.0833, 4: 0.0113, 5: 0.0021 },
          tokens: 5,
        },
        {
          rating: 5,
          score: 4.786,
          probabilities: { 1: 0.0007, 2: 0.0015, 3: 0.0058, 4: 0.1955, 5: 0.7966 },
          tokens: 2,
        },
        {
          rating: 4,
          score: 3.526,
          probabilities: { 1: 0.0991, 2: 0.1245, 3: 0.1862, 4: 0.3314, 5: 0.2588 },
          tokens: 6,
        },
        {
          rating: 5,
          score: 4.972,
          probabilities: { 1: 0.001, 2: 0.0006, 3: 0.0013, 4: 0.0201, 5: 0.9771 },
          tokens: 2,
        },
      ],
    },
  },
};
