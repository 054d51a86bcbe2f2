/**
 * Word tokenizer with Keras `Tokenizer` semantics: ids by descending word count (ties in order of first
 * appearance), id 0 reserved for padding, only ids below `numWords` used, unknown words dropped unless
 * an out-of-vocabulary id is configured. Shared by training (fit) and serving (encode).
 */
import { isNormalizerName, type NormalizerName, words } from './normalize.ts';

export interface TokenizerJson {
  format: 'word-tokenizer/1';
  normalizer: NormalizerName;
  /** Keras `num_words`: ids 1..numWords-1 are usable; 0 is padding. */
  numWords: number;
  /** Id for unknown words (Keras `oov_token`, always 1), or null to drop them as Keras does without one. */
  oovIndex: number | null;
  /** Words in id order: words[i] has id i + 1 (+1 more when oovIndex is set). Only usable words are stored. */
  words: string[];
}

export class WordTokenizer {
  readonly normalizer: NormalizerName;
  readonly numWords: number;
  readonly oovIndex: number | null;
  readonly vocabulary: readonly string[];
  readonly #ids: Map<string, number>;

  constructor(json: TokenizerJson) {
    validateTokenizerJson(json);
    this.normalizer = json.normalizer;
    this.numWords = json.numWords;
    this.oovIndex = json.oovIndex;
    this.vocabulary = json.words;
    const offset = json.oovIndex === null ? 1 : 2;
    this.#ids = new Map(json.words.map((word, i) => [word, i + offset]));
    // The map doubles as the uniqueness check: hashing 50k words once more is a cold start's 5-10 ms.
    if (this.#ids.size !== json.words.length) throw new TypeError('tokenizer.json: words must be unique');
  }

  /** Fits on training texts only: counts every occurrence, keeps the `numWords - 1` most frequent. */
  static fit(
    texts: Iterable<string>,
    options: { normalizer: NormalizerName; numWords: number; oov?: boolean },
  ): WordTokenizer {
    const counts = new Map<string, number>();
    for (const text of texts) {
      for (const word of words(text, options.normalizer)) counts.set(word, (counts.get(word) ?? 0) + 1);
    }
    const oovIndex = options.oov ? 1 : null;
    const usable = options.numWords - (oovIndex === null ? 1 : 2);
    // Array.prototype.sort is stable, so equal counts keep first-appearance order, as in Keras.
    const ranked = [...counts].sort((a, b) => b[1] - a[1]).slice(0, Math.max(0, usable));
    return new WordTokenizer({
      format: 'word-tokenizer/1',
      normalizer: options.normalizer,
      numWords: options.numWords,
      oovIndex,
      words: ranked.map(([word]) => word),
    });
  }

  /** Word ids of a text, unpadded; longer texts keep their last `maxLen` ids (Keras pre-truncation). */
  encode(text: string, maxLen: number): Int32Array {
    const ids: number[] = [];
    for (const word of words(text, this.normalizer)) {
      const id = this.#ids.get(word) ?? this.oovIndex;
      if (id !== null) ids.push(id);
    }
    return Int32Array.from(ids.length > maxLen ? ids.slice(ids.length - maxLen) : ids);
  }

  toJSON(): TokenizerJson {
    return {
      format: 'word-tokenizer/1',
      normalizer: this.normalizer,
      numWords: this.numWords,
      oovIndex: this.oovIndex,
      words: [...this.vocabulary],
    };
  }
}

/** Keras `pad_sequences(padding='pre')`: left-pads each sequence with 0 to `length` into one row-major array. */
export function padPre(sequences: readonly Int32Array[], length: number): Int32Array {
  const out = new Int32Array(sequences.length * length);
  sequences.forEach((seq, row) => {
    const tail = seq.length > length ? seq.subarray(seq.length - length) : seq;
    out.set(tail, row * length + (length - tail.length));
  });
  return out;
}

function validateTokenizerJson(json: TokenizerJson): void {
  const fail = (why: string): never => {
    throw new TypeError(`tokenizer.json: ${why}`);
  };
  if (json?.format !== 'word-tokenizer/1') fail(`unknown format ${JSON.stringify(json?.format)}`);
  if (!isNormalizerName(json.normalizer)) fail(`unknown normalizer ${JSON.stringify(json.normalizer)}`);
  if (!Number.isInteger(json.numWords) || json.numWords < 2) fail('numWords must be an integer >= 2');
  if (json.oovIndex !== null && json.oovIndex !== 1) fail('oovIndex must be null or 1');
  if (!Array.isArray(json.words) || json.words.some((w) => typeof w !== 'string' || w.length === 0)) {
    fail('words must be an array of non-empty strings');
  }
  const maxWords = json.numWords - (json.oovIndex === null ? 1 : 2);
  if (json.words.length > maxWords) fail(`${json.words.length} words exceed numWords ${json.numWords}`);
}
