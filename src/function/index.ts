/**
 * The Lambda entry. Everything here runs once per execution environment (init): configuration, logger,
 * storage and model service are created outside the handler and shared by every request.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { defaultStorage } from '../storage/index.ts';
import { loadConfig } from './config.ts';
import { createHandler } from './handler.ts';
import { createLogger, plainLogger } from './logger.ts';
import { createModelService } from './service.ts';

/** Lambda allows init 10 s before restarting it; past this the load simply continues into the first request. */
const INIT_WAIT_MS = 8000;

const config = loadConfig();
const logger = createLogger({ level: config.logLevel });
const service = createModelService({
  modelUri: config.modelUri,
  storage: defaultStorage(),
  backend: config.backend,
  logger: plainLogger(logger),
});

// Load during init so the first request finds the model ready. A failure is logged, not thrown: the
// environment stays up and the service retries the load on the next request (which answers 503 meanwhile).
const initLoad = service.get().then(
  () => undefined,
  (error: unknown) => logger.error('model load during init failed; the next request retries', { error }),
);
await Promise.race([initLoad, sleep(INIT_WAIT_MS, undefined, { ref: false })]);

// A malformed FEEDBACK_URI fails here, at init, like every other bad setting.
const feedback = config.feedbackUri === null ? null : defaultStorage().store(config.feedbackUri);

export const handler = createHandler({ service, config, logger, feedback });
