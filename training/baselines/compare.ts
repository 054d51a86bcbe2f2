/**
 * The linear baselines a trained model is reported beside: TF-IDF + logistic regression fitted by the
 * project itself on the same fit rows (title + text, as the scikit-learn references were) and measured on
 * the same test rows in every view, so "better than the baseline" is a like-for-like claim.
 */
import { reviewText } from '../../src/text/review.ts';
import { assess, headline, VIEWS, type ViewName } from '../assess.ts';
import type { Example } from '../data.ts';
import { BASELINE_SETUPS, fitTfidfLogreg } from './tfidf-logreg.ts';

export type BaselineFigures = Record<
  string,
  Partial<Record<ViewName, ReturnType<typeof headline>>> & { fitSeconds: number }
>;

export function compareBaselines(
  setups: readonly string[],
  fitRows: readonly Example[],
  test: { views: readonly ViewName[]; examples: readonly Example[]; labels: Int32Array },
  classes: { names: string[]; values: number[] | null; counts: number[] },
  log: (message: string) => void,
): BaselineFigures {
  const index = new Map(classes.names.map((name, k) => [name, k]));
  const fitLabels = Int32Array.from(fitRows, (e) => index.get(e.label) ?? 0);
  const figures: BaselineFigures = {};
  for (const name of setups) {
    const options = BASELINE_SETUPS[name];
    if (!options) throw new RangeError(`unknown baseline ${JSON.stringify(name)}`);
    const start = performance.now();
    const model = fitTfidfLogreg(fitRows.map(reviewText), fitLabels, classes.names, options);
    const entry: BaselineFigures[string] = { fitSeconds: Math.round((performance.now() - start) / 100) / 10 };
    for (const view of test.views) {
      const probabilities = model.predictProba(test.examples.map((e) => reviewText(VIEWS[view](e))));
      entry[view] = headline(
        assess(probabilities, test.labels, classes.names, classes.values, classes.counts),
      );
    }
    log(`baseline ${name}: fitted in ${entry.fitSeconds} s`);
    figures[name] = entry;
  }
  return figures;
}
