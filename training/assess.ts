/**
 * Evaluation the way callers use the service: in every input view (title + text, as the data has it;
 * text only, as most API requests come), after the post-processing serving applies (temperature and
 * decision rule, both fitted and chosen on validation, never on test), with calibration error beside the
 * usual metrics.
 */

import { round } from '../src/common/round.ts';
import { type DecisionRule, IDENTITY_POSTPROCESSING, type Postprocessing } from '../src/model/postprocess.ts';
import {
  applyTemperature,
  chooseDecision,
  DECISION_SELECTION,
  type DecisionCandidate,
  decide,
  expectedCalibrationError,
  fitTemperature,
  logProbabilities,
} from './calibration.ts';
import type { Example } from './data.ts';
import { evaluate, type Metrics } from './evaluate.ts';

/** The input views a review can arrive in; a new view is one entry. */
export const VIEWS = {
  'title+text': (e: Example): Example => e,
  'text-only': (e: Example): Example => (e.title === null ? e : { ...e, title: null }),
} as const;

export type ViewName = keyof typeof VIEWS;

/** The views worth reporting: text only always; title + text only when some row has a title. */
export function viewsOf(examples: readonly Example[]): ViewName[] {
  return examples.some((e) => e.title !== null) ? ['title+text', 'text-only'] : ['text-only'];
}

export interface ViewMetrics extends Metrics {
  /** ECE (10 bins) of the answered probabilities, and of the raw ones before the temperature. */
  ece: number;
  eceUncalibrated: number;
}

export interface CalibrationReport extends Postprocessing {
  nllBefore: number;
  nllAfter: number;
  /** How the decision rule was chosen (calibration.ts DECISION_SELECTION). */
  selection: string;
  /** Validation figures of every rule considered (all views pooled), the chosen one included. */
  candidates: DecisionCandidate[];
  /** Folds of the offsets' cross-fitting; 0 when offsets were not tried (too few rows). */
  folds: number;
}

/**
 * Fits the temperature on validation rows of every view at once (the API serves all of them with one
 * bundle), then chooses the decision rule on the tempered probabilities (calibration.ts chooseDecision):
 * argmax, the median (ordinal labels) or per-class offsets, by macro-F1 with MAE as a guard. `groups`
 * names the review of each row (its views share it) so cross-fitting keeps a review's views together.
 */
export function fitPostprocessing(
  probabilities: readonly Float32Array[],
  labels: Int32Array,
  labelValues: number[] | null,
  groups?: Int32Array,
  rules?: readonly DecisionRule[],
): CalibrationReport {
  const fit = fitTemperature(logProbabilities(probabilities), labels);
  const temperature = round(fit.temperature, 4);
  const choice = chooseDecision(applyTemperature(probabilities, temperature), labels, labelValues, {
    ...(groups ? { groups } : {}),
    ...(rules ? { rules } : {}),
  });
  return {
    temperature,
    ...choice.decision,
    nllBefore: fit.nllBefore,
    nllAfter: fit.nllAfter,
    selection: DECISION_SELECTION,
    candidates: choice.candidates,
    folds: choice.folds,
  };
}

/** The post-processing a report describes, as a manifest stores it (no offsets unless they are the rule). */
export function postprocessingOf(c: CalibrationReport): Postprocessing {
  return { temperature: c.temperature, decision: c.decision, ...(c.offsets ? { offsets: c.offsets } : {}) };
}

/** Probabilities of one view's rows and their true class indexes. */
export interface ViewScores {
  probabilities: Float32Array[];
  labels: Int32Array;
}

export interface ViewsAssessment {
  postprocessing: Postprocessing;
  calibration: CalibrationReport;
  validation: Partial<Record<ViewName, ViewMetrics>>;
  test: Partial<Record<ViewName, ViewMetrics>> | null;
}

/**
 * Post-processing fitted on the validation views (the same rows in each, in the same order), then every
 * view of validation and test measured under it. Training and `npm run convert -- --refit-postprocessing`
 * both go through here, whichever runtime gave the probabilities.
 */
export function assessViews(
  validation: Partial<Record<ViewName, ViewScores>>,
  test: Partial<Record<ViewName, ViewScores>> | null,
  classes: { names: string[]; values: number[] | null; trainCounts?: number[] },
  log: (message: string) => void = () => undefined,
  rules?: readonly DecisionRule[],
): ViewsAssessment {
  const valViews = Object.values(validation);
  const calibration = fitPostprocessing(
    valViews.flatMap((v) => v.probabilities),
    Int32Array.from(valViews.flatMap((v) => Array.from(v.labels))),
    classes.values,
    Int32Array.from(valViews.flatMap((v) => Array.from(v.labels, (_, i) => i))),
    rules,
  );
  const post = postprocessingOf(calibration);
  const offsets = post.offsets ? ` [${post.offsets.join(', ')}]` : '';
  log(
    `calibration: temperature ${post.temperature}, decision ${post.decision}${offsets} (chosen on validation)`,
  );
  for (const c of calibration.candidates) {
    log(
      `  ${c.decision}${c.crossFitted ? ' (cross-fitted)' : ''}: validation macro-F1 ${c.macroF1.toFixed(4)} MAE ${c.mae?.toFixed(4)}${c.eligible ? '' : ' (MAE worse beyond noise)'}`,
    );
  }
  const measure = (views: Partial<Record<ViewName, ViewScores>>) =>
    Object.fromEntries(
      Object.entries(views).map(([view, v]) => {
        const m = assess(v.probabilities, v.labels, classes.names, classes.values, classes.trainCounts, post);
        log(
          `${view}: accuracy ${m.accuracy.toFixed(3)} macro-F1 ${m.macroF1.toFixed(3)} MAE ${m.mae?.toFixed(3)} ECE ${m.ece.toFixed(3)}`,
        );
        return [view, m];
      }),
    ) as Partial<Record<ViewName, ViewMetrics>>;
  log('validation:');
  const validationMetrics = measure(validation);
  if (test) log('test:');
  return {
    postprocessing: post,
    calibration,
    validation: validationMetrics,
    test: test ? measure(test) : null,
  };
}

/** Metrics of raw model probabilities once post-processed as serving does. */
export function assess(
  raw: readonly Float32Array[],
  labels: Int32Array,
  names: string[],
  labelValues: number[] | null,
  trainCounts: number[] | undefined,
  post: Postprocessing = IDENTITY_POSTPROCESSING,
): ViewMetrics {
  const tempered = applyTemperature(raw, post.temperature);
  const predicted = decide(tempered, post);
  return {
    ...evaluate(labels, tempered, names, labelValues, trainCounts, predicted),
    ece: expectedCalibrationError(tempered, labels),
    eceUncalibrated: expectedCalibrationError(raw, labels),
  };
}

/** The headline figures of a ViewMetrics, for manifests, logs and tables. */
export function headline(m: ViewMetrics) {
  return { n: m.n, accuracy: m.accuracy, macroF1: m.macroF1, mae: m.mae, withinOne: m.withinOne, ece: m.ece };
}
