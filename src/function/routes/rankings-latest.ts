/** GET /rankings/latest: the most recent published ranking.json (cached 60 s; src/function/rankings.ts). */
import { NO_RANKINGS, rankingResponse } from '../rankings.ts';
import type { RouteHandler } from './route.ts';

export const rankingsLatest: RouteHandler = async ({ deps }) =>
  rankingResponse(await (deps.rankings ?? NO_RANKINGS).latest());
