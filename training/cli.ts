/**
 * `npm run train -- --help`: fits, evaluates and publishes a review-sentiment bundle.
 * Exits 0 on success, 2 on a usage error, 1 on any other failure, 130/143 when stopped by SIGINT/SIGTERM.
 */
import { BadRequestError } from '../src/errors.ts';
import { helpText, parseTrainArgs } from './args.ts';
import { handleInterrupts, resumeAdvice, SIGNAL_EXIT_CODES } from './interrupt.ts';
import { TrainingInterrupted, train } from './pipeline.ts';

export async function main(argv: string[]): Promise<number> {
  let config: ReturnType<typeof parseTrainArgs>;
  try {
    config = parseTrainArgs(argv);
  } catch (error) {
    if (!(error instanceof BadRequestError)) throw error;
    process.stderr.write(`train: ${error.message}\n`);
    return 2;
  }
  if (config === 'help') {
    process.stdout.write(helpText());
    return 0;
  }
  const interrupts = handleInterrupts((message) => process.stderr.write(message));
  try {
    const result = await train(config, { signal: interrupts.signal });
    process.stdout.write(
      `${JSON.stringify({ version: result.version, published: result.published, reportDir: result.reportDir, metrics: result.metrics && { accuracy: result.metrics.accuracy, macroF1: result.metrics.macroF1, mae: result.metrics.mae } })}\n`,
    );
    return 0;
  } catch (error) {
    const stoppedBy = interrupts.received();
    if (error instanceof TrainingInterrupted && stoppedBy) {
      process.stderr.write(resumeAdvice(error.checkpointDir, argv));
      return SIGNAL_EXIT_CODES[stoppedBy];
    }
    process.stderr.write(`train: failed: ${(error as Error).stack ?? error}\n`);
    return stoppedBy ? SIGNAL_EXIT_CODES[stoppedBy] : 1;
  } finally {
    interrupts.dispose();
  }
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
