/**
 * TF-IDF + multinomial logistic regression, the scikit-learn baseline the GUIDE's reference figures come
 * from, in TypeScript so every comparison in this project runs on the same data path with no Python.
 * Setups: `SKLEARN_2000_WORDS` = TfidfVectorizer(max_features=2000) + LogisticRegression(max_iter=1000);
 * `SKLEARN_BIGRAMS_200K` = the same with ngram_range=(1, 2), max_features=200_000; `SKLEARN_ALL_WORDS` =
 * TfidfVectorizer() with no max_features.
 */
import {
  fitLogreg,
  LOGREG_DEFAULTS,
  type LogregFit,
  type LogregModel,
  type LogregOptions,
  predictProba,
} from './logreg.ts';
import { type TfidfJson, type TfidfOptions, TfidfVectorizer } from './tfidf.ts';

export type TfidfLogregOptions = TfidfOptions & LogregOptions;

export const SKLEARN_2000_WORDS: TfidfLogregOptions = Object.freeze({
  ...LOGREG_DEFAULTS,
  maxFeatures: 2000,
  ngramRange: [1, 1] as const,
});

/** TfidfVectorizer() with no limit: every word of two or more characters. */
export const SKLEARN_ALL_WORDS: TfidfLogregOptions = Object.freeze({
  ...LOGREG_DEFAULTS,
  maxFeatures: null,
  ngramRange: [1, 1] as const,
});

export const SKLEARN_BIGRAMS_200K: TfidfLogregOptions = Object.freeze({
  ...LOGREG_DEFAULTS,
  maxFeatures: 200_000,
  ngramRange: [1, 2] as const,
});

/** The setups by name (`--baselines` in training, `--setups` in the baselines CLI). */
export const BASELINE_SETUPS: Readonly<Record<string, TfidfLogregOptions>> = {
  'words-2000': SKLEARN_2000_WORDS,
  'bigrams-200k': SKLEARN_BIGRAMS_200K,
  'words-all': SKLEARN_ALL_WORDS,
};

export interface TfidfLogregJson {
  format: 'tfidf-logreg/1';
  classes: string[];
  vectorizer: TfidfJson;
  /** features × classes, feature-major (the transpose of sklearn's coef_). */
  weights: number[];
  intercept: number[];
}

export interface TfidfLogreg {
  readonly classes: readonly string[];
  readonly vectorizer: TfidfVectorizer;
  /** One probability per class (in `classes` order) for each text. */
  predictProba(texts: readonly string[]): Float32Array[];
  toJSON(): TfidfLogregJson;
}

export interface FittedTfidfLogreg extends TfidfLogreg {
  /** How the solver ended: iterations, final objective and max |gradient|, whether it converged. */
  readonly solver: LogregFit['solver'];
}

/** Fits the vectorizer and the classifier on `texts` with `labels` as indexes into `classes`. */
export function fitTfidfLogreg(
  texts: readonly string[],
  labels: ArrayLike<number>,
  classes: readonly string[],
  options: Partial<TfidfLogregOptions> = {},
): FittedTfidfLogreg {
  const o = { ...SKLEARN_2000_WORDS, ...options };
  if (texts.length !== labels.length)
    throw new RangeError(`${texts.length} texts but ${labels.length} labels`);
  if (classes.length < 2) throw new RangeError(`needs at least two classes, got ${classes.length}`);
  const { vectorizer, matrix } = TfidfVectorizer.fitTransform(texts, o);
  const { model, solver } = fitLogreg(matrix, labels, classes.length, o);
  return { ...wrap([...classes], vectorizer, model), solver };
}

/** Rebuilds a model from `toJSON()` output. */
export function loadTfidfLogreg(json: TfidfLogregJson): TfidfLogreg {
  if (json.format !== 'tfidf-logreg/1') throw new TypeError(`unknown format ${String(json.format)}`);
  const vectorizer = new TfidfVectorizer(json.vectorizer);
  const classes = json.classes.length;
  const features = vectorizer.vocabulary.length;
  if (json.weights.length !== features * classes || json.intercept.length !== classes) {
    throw new TypeError(`weights/intercept do not fit ${features} features × ${classes} classes`);
  }
  const model: LogregModel = {
    classes,
    features,
    weights: Float64Array.from(json.weights),
    intercept: Float64Array.from(json.intercept),
  };
  return wrap([...json.classes], vectorizer, model);
}

function wrap(classes: string[], vectorizer: TfidfVectorizer, model: LogregModel): TfidfLogreg {
  return {
    classes,
    vectorizer,
    predictProba: (texts) => predictProba(model, vectorizer.transform(texts)),
    toJSON: () => ({
      format: 'tfidf-logreg/1',
      classes: [...classes],
      vectorizer: vectorizer.toJSON(),
      weights: Array.from(model.weights),
      intercept: Array.from(model.intercept),
    }),
  };
}
