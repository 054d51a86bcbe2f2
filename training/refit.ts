/**
 * Post-processing refitted for a bundle that exists: the same validation rows its training run held out
 * (the CSV it was trained on, checked by sha256, split with its recorded seed and share), scored by the
 * runtime serving would use, through the same fitting and choice as training (assess.ts assessViews).
 * `npm run convert -- --refit-postprocessing` publishes the result as a new version.
 */
import type { Manifest } from '../src/bundle/manifest.ts';
import type { LoadedBundle } from '../src/bundle/read.ts';
import { BadRequestError } from '../src/errors.ts';
import type { BackendPreference } from '../src/model/backend.ts';
import { buildScorer } from '../src/model/build.ts';
import type { DecisionRule } from '../src/model/postprocess.ts';
import type { Scorer } from '../src/model/scorer.ts';
import type { Storage } from '../src/storage/index.ts';
import { ORIGINAL_DEFAULTS, type TrainConfig } from './args.ts';
import {
  assessViews,
  VIEWS,
  type ViewName,
  type ViewScores,
  type ViewsAssessment,
  viewsOf,
} from './assess.ts';
import type { Example } from './data.ts';
import { loadData, splitValidation } from './pipeline.ts';

export interface RefitOptions {
  /** The training CSV the bundle was trained on (default: the path its manifest records). */
  data?: string;
  /** Held-out CSV to measure the result on; null: none (default: the path its manifest records). */
  test?: string | null;
  /** Rules the choice may pick (default: the training run's, else training's default). */
  decisions?: readonly DecisionRule[];
  backend?: BackendPreference;
  storage: Storage;
  log: (message: string) => void;
}

export interface Refit extends ViewsAssessment {
  data: { uri: string; sha256: string; validationRows: number };
  testUri: string | null;
}

export async function refitPostprocessing(source: LoadedBundle, options: RefitOptions): Promise<Refit> {
  const { manifest } = source;
  const recorded = trainingRecord(manifest);
  const config: TrainConfig = {
    ...recorded.settings,
    data: options.data ?? recorded.settings.data,
    test: options.test === undefined ? recorded.settings.test : options.test,
    decisions: [...(options.decisions ?? recorded.settings.decisions ?? ORIGINAL_DEFAULTS.decisions)],
  };
  const { train, test } = await loadData(config, options.storage, options.log);
  if (train.sha256 !== recorded.sha256) {
    throw new BadRequestError(
      `${config.data} is not the data ${manifest.version} was trained on (sha256 ${train.sha256.slice(0, 12)}…, the manifest records ${recorded.sha256.slice(0, 12)}…): its validation rows would differ`,
    );
  }
  if (train.labels.join('\n') !== manifest.labels.join('\n')) {
    throw new BadRequestError(
      `${config.data} has labels ${train.labels.join(', ')}, the bundle ${manifest.labels.join(', ')}`,
    );
  }
  const { validation } = splitValidation(train.examples, config.validationSplit, config.seed);
  if (recorded.validationRows !== null && validation.length !== recorded.validationRows) {
    throw new BadRequestError(
      `the split gives ${validation.length} validation rows, the manifest records ${recorded.validationRows}`,
    );
  }
  options.log(
    `${validation.length} validation rows of ${config.data} (seed ${config.seed}, share ${config.validationSplit})`,
  );
  const scorer = await buildScorer(source, options.backend ? { backend: options.backend } : {});
  try {
    const labels = manifest.labels;
    // --test none skips the test set; otherwise it is the run's (--test, or the rows --test-split-hash held out).
    const known =
      test && options.test !== null ? test.examples.filter((e) => labels.includes(e.label)) : null;
    const assessment = assessViews(
      await scores(scorer, validation, labels),
      known ? await scores(scorer, known, labels) : null,
      { names: labels, values: manifest.labelValues },
      options.log,
      config.decisions,
    );
    return {
      ...assessment,
      data: { uri: config.data, sha256: train.sha256, validationRows: validation.length },
      testUri: known ? (test?.uri ?? null) : null,
    };
  } finally {
    await scorer.dispose();
  }
}

async function scores(scorer: Scorer, rows: readonly Example[], labels: string[]) {
  const out: Partial<Record<ViewName, ViewScores>> = {};
  const truth = Int32Array.from(rows, (e) => labels.indexOf(e.label));
  for (const view of viewsOf(rows)) {
    out[view] = {
      probabilities: await scorer.probabilities(scorer.encode(rows.map(VIEWS[view]))),
      labels: truth,
    };
  }
  return out;
}

/** What the refit needs from manifest.training, checked: the settings of the run and its data's hash. */
function trainingRecord(manifest: Manifest) {
  const training = manifest.training as {
    settings?: Partial<TrainConfig>;
    data?: { sha256?: unknown; validationRows?: unknown };
  };
  const settings = training.settings;
  const sha256 = training.data?.sha256;
  if (
    typeof settings !== 'object' ||
    settings === null ||
    typeof settings.data !== 'string' ||
    typeof settings.validationSplit !== 'number' ||
    typeof settings.seed !== 'number' ||
    typeof sha256 !== 'string'
  ) {
    throw new BadRequestError(
      `${manifest.version}: manifest.training does not record the settings and data hash a refit needs (settings.data, validationSplit, seed, data.sha256)`,
    );
  }
  const validationRows = training.data?.validationRows;
  return {
    settings: { test: null, testSplitHash: 0, limit: null, ...settings } as TrainConfig,
    sha256,
    validationRows: typeof validationRows === 'number' ? validationRows : null,
  };
}
