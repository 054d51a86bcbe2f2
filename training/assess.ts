/**
 * Evaluation the way callers use the service: in every input view (title + text, as the data has it;
 * text only, as most API requests come), after the post-processing serving applies (temperature and
 * decision rule, both chosen on validation, never on test), with calibration error beside the usual
 * metrics.
 */

import { round } from '../src/common/round.ts';
import { type DecisionRule, IDENTITY_POSTPROCESSING, type Postprocessing } from '../src/model/postprocess.ts';
import {
  applyTemperature,
  chooseOrdinalRule,
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
  /** Validation MAE of each decision rule, and the standard error of their paired difference (ordinal only). */
  maeByRule: Record<DecisionRule, number> | null;
  maeGainStandardError: number | null;
}

/**
 * Fits the temperature on validation rows of every view at once (the API serves all of them with one
 * bundle), then picks the decision rule on the tempered probabilities: the median only where it lowers
 * validation MAE beyond noise (chooseOrdinalRule).
 */
export function fitPostprocessing(
  probabilities: readonly Float32Array[],
  labels: Int32Array,
  labelValues: number[] | null,
): CalibrationReport {
  const fit = fitTemperature(logProbabilities(probabilities), labels);
  const temperature = round(fit.temperature, 4);
  if (!labelValues) {
    return {
      temperature,
      decision: 'argmax',
      nllBefore: fit.nllBefore,
      nllAfter: fit.nllAfter,
      maeByRule: null,
      maeGainStandardError: null,
    };
  }
  const choice = chooseOrdinalRule(applyTemperature(probabilities, temperature), labels, labelValues);
  return {
    temperature,
    decision: choice.rule,
    nllBefore: fit.nllBefore,
    nllAfter: fit.nllAfter,
    maeByRule: choice.mae,
    maeGainStandardError: choice.standardError,
  };
}

/** Metrics of raw model probabilities once post-processed as serving does. */
export function assess(
  raw: readonly Float32Array[],
  labels: Int32Array,
  names: string[],
  labelValues: number[] | null,
  trainCounts: number[],
  post: Postprocessing = IDENTITY_POSTPROCESSING,
): ViewMetrics {
  const tempered = applyTemperature(raw, post.temperature);
  const predicted = decide(tempered, post.decision);
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
