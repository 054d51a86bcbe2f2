/**
 * scikit-learn's `TfidfVectorizer` with its defaults (lowercase, token_pattern `(?u)\b\w\w+\b`, smooth idf,
 * raw term counts, l2-normalised rows) plus `max_features` and `ngram_range`, so the baselines here are
 * the ones the GUIDE's reference figures were measured with, not a look-alike.
 */
import { type Csr, csrFromRows } from './sparse.ts';

export interface TfidfOptions {
  /** Keep the most frequent terms (total count over the corpus); null keeps all. */
  maxFeatures: number | null;
  /** [min, max] words per term; [1, 2] adds word pairs. */
  ngramRange: readonly [number, number];
}

export interface TfidfJson {
  format: 'tfidf-vectorizer/1';
  ngramRange: [number, number];
  /** Terms in column order (alphabetical, as sklearn's vocabulary_ indices). */
  vocabulary: string[];
  idf: number[];
}

/**
 * Python's `\w` is a letter, a number (Nd, Nl, No) or `_`, not a combining mark; `\b\w\w+\b` therefore
 * matches exactly the maximal runs of two or more such characters.
 */
const TOKEN = /[\p{L}\p{N}_]{2,}/gu;

/** sklearn's word analyzer: lower-case, tokenise, then the n-grams of each length joined by one space. */
export function analyze(text: string, ngramRange: readonly [number, number]): string[] {
  const tokens = text.toLowerCase().match(TOKEN) ?? [];
  const [minN, maxN] = ngramRange;
  const terms = minN === 1 ? [...tokens] : [];
  for (let n = Math.max(minN, 2); n <= Math.min(maxN, tokens.length); n++) {
    for (let i = 0; i + n <= tokens.length; i++) terms.push(tokens.slice(i, i + n).join(' '));
  }
  return terms;
}

/** sklearn's smooth idf: ln((1 + n) / (1 + df)) + 1, as if one extra document held every term once. */
export function smoothIdf(documentFrequency: number, documents: number): number {
  return Math.log((1 + documents) / (1 + documentFrequency)) + 1;
}

export class TfidfVectorizer {
  readonly ngramRange: readonly [number, number];
  readonly vocabulary: readonly string[];
  readonly idf: Float64Array;
  readonly #columns: Map<string, number>;

  constructor(json: TfidfJson) {
    if (json.format !== 'tfidf-vectorizer/1') throw new TypeError(`unknown format ${String(json.format)}`);
    if (json.vocabulary.length !== json.idf.length)
      throw new TypeError('vocabulary and idf differ in length');
    this.ngramRange = json.ngramRange;
    this.vocabulary = json.vocabulary;
    this.idf = Float64Array.from(json.idf);
    this.#columns = new Map(json.vocabulary.map((term, i) => [term, i]));
  }

  /** Learns vocabulary and idf from `texts` and returns them with the texts' TF-IDF rows (fit_transform). */
  static fitTransform(
    texts: readonly string[],
    options: TfidfOptions,
  ): { vectorizer: TfidfVectorizer; matrix: Csr } {
    const counted = countTerms(texts, options.ngramRange);
    const kept = limitFeatures(counted.terms, counted.totals, options.maxFeatures);
    const column = new Int32Array(counted.terms.length).fill(-1);
    kept.forEach((id, c) => {
      column[id] = c;
    });
    const documentFrequency = new Float64Array(kept.length);
    const rows = counted.docs.map((ids) => {
      const columns = remap(ids, column);
      for (const c of new Set(columns)) documentFrequency[c] = (documentFrequency[c] ?? 0) + 1;
      return columns;
    });
    const vectorizer = new TfidfVectorizer({
      format: 'tfidf-vectorizer/1',
      ngramRange: [options.ngramRange[0], options.ngramRange[1]],
      vocabulary: kept.map((id) => counted.terms[id] ?? ''),
      idf: Array.from(documentFrequency, (df) => smoothIdf(df, texts.length)),
    });
    return { vectorizer, matrix: vectorizer.#rows(rows) };
  }

  transform(texts: readonly string[]): Csr {
    return this.#rows(
      texts.map((text) => {
        const columns: number[] = [];
        for (const term of analyze(text, this.ngramRange)) {
          const c = this.#columns.get(term);
          if (c !== undefined) columns.push(c);
        }
        return columns;
      }),
    );
  }

  toJSON(): TfidfJson {
    return {
      format: 'tfidf-vectorizer/1',
      ngramRange: [this.ngramRange[0], this.ngramRange[1]],
      vocabulary: [...this.vocabulary],
      idf: Array.from(this.idf),
    };
  }

  /** Term counts × idf, each row scaled to unit length (an empty row stays empty). */
  #rows(docs: readonly number[][]): Csr {
    const rows = docs.map((columns) => {
      const row = new Map<number, number>();
      for (const c of columns) row.set(c, (row.get(c) ?? 0) + 1);
      let squares = 0;
      for (const [c, count] of row) {
        const weight = count * (this.idf[c] ?? 0);
        row.set(c, weight);
        squares += weight * weight;
      }
      const norm = Math.sqrt(squares);
      if (norm > 0) for (const [c, weight] of row) row.set(c, weight / norm);
      return row;
    });
    return csrFromRows(rows, this.vocabulary.length);
  }
}

interface Counted {
  terms: string[];
  /** Total occurrences of each term over the corpus (sklearn ranks max_features by this). */
  totals: number[];
  /** Each document's term ids, with repeats. */
  docs: Int32Array[];
}

function countTerms(texts: readonly string[], ngramRange: readonly [number, number]): Counted {
  const ids = new Map<string, number>();
  const terms: string[] = [];
  const totals: number[] = [];
  const docs = texts.map((text) => {
    const analyzed = analyze(text, ngramRange);
    const doc = new Int32Array(analyzed.length);
    analyzed.forEach((term, i) => {
      let id = ids.get(term);
      if (id === undefined) {
        id = terms.length;
        ids.set(term, id);
        terms.push(term);
        totals.push(0);
      }
      totals[id] = (totals[id] ?? 0) + 1;
      doc[i] = id;
    });
    return doc;
  });
  return { terms, totals, docs };
}

/**
 * Ids of the `maxFeatures` most frequent terms, in alphabetical order of the term. sklearn sorts the
 * vocabulary alphabetically, then stable-sorts by descending count, so ties at the cut go to the
 * alphabetically first terms; only that tie group needs a string sort. (JS compares UTF-16 code units,
 * Python code points: they differ only between astral and U+E000-U+FFFF characters.)
 */
function limitFeatures(
  terms: readonly string[],
  totals: readonly number[],
  maxFeatures: number | null,
): number[] {
  const byTerm = (a: number, b: number): number => compare(terms[a] ?? '', terms[b] ?? '');
  const all = terms.map((_, id) => id);
  if (maxFeatures === null || maxFeatures >= terms.length) return all.sort(byTerm);
  const ascending = Float64Array.from(totals).sort();
  const cut = ascending[ascending.length - maxFeatures] ?? 0;
  const above = all.filter((id) => (totals[id] ?? 0) > cut);
  const tied = all.filter((id) => totals[id] === cut).sort(byTerm);
  return [...above, ...tied.slice(0, maxFeatures - above.length)].sort(byTerm);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function remap(ids: Int32Array, column: Int32Array): number[] {
  const columns: number[] = [];
  for (const id of ids) {
    const c = column[id] ?? -1;
    if (c >= 0) columns.push(c);
  }
  return columns;
}
