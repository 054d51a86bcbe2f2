/**
 * `npm run rank -- --help`: ranks products by how positively they are reviewed in a period.
 * Exits 0 on success, 2 on a usage error, 1 on any other failure. Progress goes to stderr; the summary
 * (period, where the files are, the top products) is one JSON line on stdout.
 */
import { BadRequestError } from '../errors.ts';
import { helpText, parseRankArgs } from './args.ts';
import { runRanking } from './job.ts';

export async function main(argv: string[]): Promise<number> {
  let config: ReturnType<typeof parseRankArgs>;
  try {
    config = parseRankArgs(argv);
  } catch (error) {
    if (!(error instanceof BadRequestError)) throw error;
    process.stderr.write(`rank: ${error.message}\n(see --help)\n`);
    return 2;
  }
  if (config === 'help') {
    process.stdout.write(helpText());
    return 0;
  }
  try {
    const log = (message: string): void => {
      process.stderr.write(`rank: ${message}\n`);
    };
    const { ranking, published } = await runRanking(config, { log });
    for (const bad of ranking.bad_rows) log(`bad row: ${bad.input} line ${bad.line}: ${bad.reason}`);
    if (ranking.counts.bad > ranking.bad_rows.length) {
      log(`… ${ranking.counts.bad - ranking.bad_rows.length} more bad rows (counted, not listed)`);
    }
    const summary = {
      period: ranking.period.label,
      counts: ranking.counts,
      prior: ranking.prior,
      ...(ranking.check ? { check: ranking.check } : {}),
      top: ranking.top,
      published,
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`rank: failed: ${(error as Error).stack ?? error}\n`);
    return 1;
  }
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
