/**
 * Shared settings and arbitraries of the property-based (fast-check) suites. Runs are seeded so a failure
 * repeats: fast-check's message names the seed and the shrunk counterexample; FUZZ_SEED=<n> replays another.
 */
import fc from 'fast-check';

export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20_261_125);

/** fc.assert settings: fixed seed, bounded runs, the seed printed with any failure. */
export function fuzzParameters(numRuns: number): fc.Parameters<unknown> {
  return { seed: FUZZ_SEED, numRuns, endOnFailure: false };
}

/** Characters the text path must survive: invisible ones, surrogate halves, marks, RTL, emoji, ASCII. */
const AWKWARD = [
  '\u0000',
  '\u0007',
  '\u007f',
  '\u0085',
  '\u00a0',
  '\u00ad',
  '\u200b',
  '\u200c',
  '\u200d',
  '\u2060',
  '\ufeff',
  '\u2028',
  '\u3000',
  '\ud800',
  '\udbff',
  '\udc00',
  '\udfff',
  '\u0301',
  '\u0130',
  'ß',
  'ﬁ',
  'Å',
  'ǅ',
  'ا',
  '\u202e',
  '👍',
  '👩‍👩‍👧',
  '\ufffd',
  '[',
  '\\',
  '`',
  '_',
  "'",
  '\u2019',
  '"',
  '\t',
  '\n',
];

/** One code point of any kind (lone surrogates included), biased toward the awkward and to letters. */
export const anyChar: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz ABC.,!?0123456789'.split('')) },
  { weight: 2, arbitrary: fc.constantFrom(...AWKWARD) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 0x10ffff }).map((cp) => String.fromCodePoint(cp)) },
);

/** Strings of arbitrary code points, including lone surrogates. */
export const anyText = (maxLength = 60): fc.Arbitrary<string> => fc.string({ unit: anyChar, maxLength });
