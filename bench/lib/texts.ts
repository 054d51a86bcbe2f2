/**
 * Benchmark inputs: real texts of a chosen length picked deterministically from a corpus, or, when the
 * corpus is absent, deterministic generated texts of the same length.
 */
import { Rng } from '../../training/random.ts';

/** Whitespace-separated words: the length a reader would count, independent of any tokenizer. */
export function wordCount(text: string): number {
  const trimmed = text.trim();
  return trimmed === '' ? 0 : trimmed.split(/\s+/).length;
}

/** `count` items spread evenly over `items` (first included), so a sorted corpus yields a mix. */
export function pickSpread<T>(items: readonly T[], count: number): T[] {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer`);
  if (count > items.length) throw new RangeError(`cannot pick ${count} of ${items.length} items`);
  return Array.from({ length: count }, (_, i) => items[Math.floor((i * items.length) / count)] as T);
}

export interface LengthRange {
  count: number;
  minWords: number;
  maxWords: number;
}

/** `count` texts with minWords..maxWords words, spread over the corpus; null when too few qualify. */
export function textsOfLength(texts: Iterable<string>, range: LengthRange): string[] | null {
  const fitting: string[] = [];
  for (const text of texts) {
    const n = wordCount(text);
    if (n >= range.minWords && n <= range.maxWords) fitting.push(text);
  }
  return fitting.length < range.count ? null : pickSpread(fitting, range.count);
}

/** The same texts for the same arguments on every machine: words drawn from `vocabulary` by a seeded PRNG. */
export function generateTexts(options: {
  count: number;
  words: number;
  vocabulary: readonly string[];
  seed: number;
}): string[] {
  const { count, words, vocabulary, seed } = options;
  if (vocabulary.length === 0) throw new RangeError('generateTexts: the vocabulary is empty');
  const rng = new Rng(seed);
  return Array.from({ length: count }, () =>
    Array.from({ length: words }, () => vocabulary[rng.int(vocabulary.length)]).join(' '),
  );
}
