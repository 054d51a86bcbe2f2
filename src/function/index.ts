/**
 * The Lambda entry. Everything here runs once per execution environment (init): configuration, logger,
 * storage and model service are created outside the handler and shared by every request.
 *
 * Only what loading the default model needs is imported statically; the request side (middy, the
 * request validator, routes, the page) is imported after the model's download has started, so its
 * evaluation overlaps the download instead of delaying it (esbuild splits it into its own chunk).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { defaultStorage } from '../storage/index.ts';
import { loadConfig } from './config.ts';
import { createLogger, plainLogger } from './logger.ts';
import { createMetrics } from './metrics.ts';
import { createModelRegistry } from './models.ts';

/** Lambda allows init 10 s before restarting it; past this the load simply continues into the first request. */
const INIT_WAIT_MS = 8000;

const config = loadConfig();
const logger = createLogger({ level: config.logLevel });
const metrics = createMetrics({ namespace: config.metricsNamespace });
const models = createModelRegistry(config.models, config.defaultModel, {
  storage: defaultStorage(),
  runtime: config.runtime,
  backend: config.backend,
  logger: plainLogger(logger),
  onLoad: metrics.modelLoad,
});

// Load the default model during init so the first request finds it ready; the others load on first use.
// A failure is logged, not thrown: the environment stays up and the service retries the load after its
// back-off, on a request or a health probe (503 with Retry-After meanwhile).
const initLoad = models
  .default()
  .get()
  .then(
    () => undefined,
    (error: unknown) =>
      logger.error('model load during init failed; it is retried after a back-off', { error }),
  );
const [{ createHandler }, { createRankingsReader }] = await Promise.all([
  import('./handler.ts'),
  import('./rankings.ts'),
]);
const rankings = createRankingsReader({ uri: config.rankingsUri, storage: defaultStorage() });
// A malformed FEEDBACK_URI fails here, at init, like every other bad setting.
const feedback = config.feedbackUri === null ? null : defaultStorage().store(config.feedbackUri);
// Built while the model may still be downloading.
export const handler = createHandler({ models, config, logger, metrics, rankings, feedback });

await Promise.race([initLoad, sleep(INIT_WAIT_MS, undefined, { ref: false })]);
