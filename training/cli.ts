/**
 * `npm run train -- --help`: fits, evaluates and publishes a review-sentiment bundle.
 * Exits 0 on success, 2 on a usage error, 1 on any other failure.
 */
import { BadRequestError } from '../src/errors.ts';
import { helpText, parseTrainArgs } from './args.ts';
import { train } from './pipeline.ts';

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
  try {
    const result = await train(config);
    process.stdout.write(
      `${JSON.stringify({ version: result.version, published: result.published, reportDir: result.reportDir, metrics: result.metrics && { accuracy: result.metrics.accuracy, macroF1: result.metrics.macroF1, mae: result.metrics.mae } })}\n`,
    );
    return 0;
  } catch (error) {
    process.stderr.write(`train: failed: ${(error as Error).stack ?? error}\n`);
    return 1;
  }
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
