/**
 * The reduce step: merge the map tasks' partials (in a fixed order, exact sums), rank, and publish.
 * A single run is exactly this over one partial, so both paths give the same files.
 */
import type { Store } from '../storage/index.ts';
import { type Published, publishRanking } from './output.ts';
import { mergePartials, type Partial } from './partial.ts';
import { type Ranking, type RankOptions, rankPartial } from './rank.ts';

export interface ReduceResult {
  ranking: Ranking;
  published: Published;
}

export async function reduce(
  partials: readonly Partial[],
  options: RankOptions & { store: Store; generatedAt?: string },
): Promise<ReduceResult> {
  const ranking = rankPartial(mergePartials(partials), options);
  const published = await publishRanking(options.store, ranking, options.generatedAt);
  return { ranking, published };
}
