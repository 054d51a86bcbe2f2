/**
 * Text normalisation: turns a review into word tokens. Training and serving both call this module,
 * and the bundle manifest names the normaliser it was trained with, so old bundles keep working when
 * a better normaliser is added.
 */

/** Characters Python's `re` treats as `\s` in a str pattern (str.isspace()); JS `\s` differs (\ufeff, \x1c-\x1f, \x85). */
const PY_WHITESPACE =
  '\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

/** The original service's `re.sub('[^a-zA-z0-9\s]', '', text)`; note `A-z` also keeps [ \ ] ^ _ and backtick. */
const KERAS_ORIGINAL_DELETE = new RegExp(`[^a-zA-z0-9${PY_WHITESPACE}]`, 'gu');
/** Keras `Tokenizer` default `filters`, each replaced by the split character (a space). */
const KERAS_FILTERS = /[!"#$%&()*+,\-./:;<=>?@[\\\]^_`{|}~\t\n]/g;

/**
 * `keras-original-v1`: the original Python service's path, reproduced exactly: lower-case, delete
 * characters outside its regex (punctuation vanishes without a space, non-ASCII letters are dropped),
 * Keras default filters to spaces, split on ' ' only (other whitespace stays inside tokens, as in Keras).
 */
function kerasOriginal(text: string): string[] {
  const kept = text.toLowerCase().replace(KERAS_ORIGINAL_DELETE, '').replace(KERAS_FILTERS, ' ');
  return kept.split(' ').filter((word) => word.length > 0);
}

const COMBINING_MARKS = /\p{M}+/gu;
const APOSTROPHES = /['\u2019\u02bc]/gu;
const NON_WORD = /[^\p{L}\p{N}]+/gu;

/**
 * `unicode-words-v1`: compatibility-decompose and strip accents (café → cafe), lower-case, drop
 * apostrophes inside words (don't → dont, as the original does), and turn every other run of
 * non-letters/digits into a word break, so "great!love" is two words instead of "greatlove".
 * Letters of every script are kept.
 */
function unicodeWords(text: string): string[] {
  const folded = text.normalize('NFKD').replace(COMBINING_MARKS, '').toLowerCase();
  return folded
    .replace(APOSTROPHES, '')
    .split(NON_WORD)
    .filter((word) => word.length > 0);
}

export const NORMALIZERS = {
  'keras-original-v1': kerasOriginal,
  'unicode-words-v1': unicodeWords,
} as const satisfies Record<string, (text: string) => string[]>;

export type NormalizerName = keyof typeof NORMALIZERS;
export const DEFAULT_NORMALIZER: NormalizerName = 'keras-original-v1';

export function isNormalizerName(name: unknown): name is NormalizerName {
  return typeof name === 'string' && Object.hasOwn(NORMALIZERS, name);
}

/** Splits a text into normalised word tokens with the named normaliser. */
export function words(text: string, normalizer: NormalizerName): string[] {
  return NORMALIZERS[normalizer](text);
}
