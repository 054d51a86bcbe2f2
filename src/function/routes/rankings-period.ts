/**
 * GET /rankings/{period}: the ranking.json of one period, `2014-W05` or `2014-01-01_2014-06-30` (cached
 * 1 h). A malformed label is 400 (invalid-period); a well-formed one that was never ranked is 404.
 */
import { NO_RANKINGS, rankingResponse } from '../rankings.ts';
import type { RouteHandler } from './route.ts';

export const rankingsPeriod: RouteHandler = async ({ params, deps }) =>
  rankingResponse(await (deps.rankings ?? NO_RANKINGS).period(params.period ?? ''));
