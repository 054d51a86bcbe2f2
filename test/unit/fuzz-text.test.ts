/**
 * Property-based: the text module is total on arbitrary text (lone surrogates included), and training and
 * serving turn the same review into the same word ids.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseJsonBody } from '../../src/function/http/json-body.ts';
import { validateReviews } from '../../src/function/http/validate.ts';
import { isBlank } from '../../src/text/invisible.ts';
import { NORMALIZERS, type NormalizerName, words } from '../../src/text/normalize.ts';
import { reviewText } from '../../src/text/review.ts';
import { WordTokenizer } from '../../src/text/tokenizer.ts';
import { encodeExamples } from '../../training/pipeline.ts';
import { anyText, FUZZ_SEED, fuzzParameters } from '../helpers/fuzz.ts';
import { TINY_TEXTS } from '../helpers/tiny-bundle.ts';

const NAMES = Object.keys(NORMALIZERS) as NormalizerName[];
const MAX_LEN = 12;

describe(`text module on arbitrary text (fast-check, seed ${FUZZ_SEED})`, () => {
  for (const normalizer of NAMES) {
    test(`${normalizer}: total, non-empty words without spaces, a fixed point`, () => {
      fc.assert(
        fc.property(anyText(200), (text) => {
          const out = words(text, normalizer);
          assert.ok(Array.isArray(out));
          for (const word of out) assert.ok(word.length > 0 && !word.includes(' '), JSON.stringify(word));
          // Normalising the words again changes nothing: one pass is the whole transformation.
          assert.deepEqual(words(out.join(' '), normalizer), out);
        }),
        fuzzParameters(1000),
      );
    });

    test(`${normalizer}: encode is total, ids in the vocabulary, at most maxLen, deterministic`, () => {
      fc.assert(
        fc.property(
          fc.array(anyText(40), { maxLength: 8 }),
          anyText(200),
          fc.boolean(),
          (corpus, text, oov) => {
            const tokenizer = WordTokenizer.fit([...TINY_TEXTS, ...corpus], {
              normalizer,
              numWords: 30,
              oov,
            });
            const ids = tokenizer.encode(text, MAX_LEN);
            assert.ok(ids instanceof Int32Array && ids.length <= MAX_LEN);
            for (const id of ids) assert.ok(id >= 1 && id < tokenizer.numWords, `id ${id}`);
            assert.deepEqual(tokenizer.encode(text, MAX_LEN), ids);
            // The JSON form (what a bundle carries) encodes the same.
            assert.deepEqual(new WordTokenizer(tokenizer.toJSON()).encode(text, MAX_LEN), ids);
          },
        ),
        fuzzParameters(500),
      );
    });
  }

  test('training (Example → reviewText) and the API (JSON body → validation → reviewText) give identical ids', () => {
    const tokenizers = NAMES.map((normalizer) =>
      WordTokenizer.fit(TINY_TEXTS, { normalizer, numWords: 40, oov: normalizer === 'unicode-words-v1' }),
    );
    const review = fc.record({ text: anyText(120), title: fc.option(anyText(30), { nil: null }) });
    fc.assert(
      fc.property(review, fc.boolean(), ({ text, title }, asString) => {
        fc.pre(!isBlank(text));
        const sent = asString && title === null ? text : { text, title };
        const body = new TextEncoder().encode(JSON.stringify({ reviews: [sent] }));
        const request = { headers: { 'content-type': 'application/json' }, body } as const;
        const limits = { maxReviews: 1, maxReviewChars: 10_000 };
        const [api] = validateReviews(parseJsonBody({ ...request, ...HTTP_DEFAULTS }), limits);
        assert.ok(api);
        const example = { label: '1', text, title, line: 1 };
        for (const tokenizer of tokenizers) {
          const trained = encodeExamples([example], tokenizer, ['1'], MAX_LEN).sequences[0];
          assert.deepEqual(tokenizer.encode(reviewText(api), MAX_LEN), trained);
        }
      }),
      fuzzParameters(1000),
    );
  });
});

const HTTP_DEFAULTS = {
  payloadVersion: '2.0',
  method: 'POST',
  path: '/predictions',
  requestId: 'fuzz',
} as const;
