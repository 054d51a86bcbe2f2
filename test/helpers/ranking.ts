/** Shared fixtures of the ranking tests: synthetic review files and the ranking.json comparison. */

import type { RankConfig } from '../../src/ranking/job.ts';
import { type Published, publishRanking } from '../../src/ranking/output.ts';
import { PARTIAL_FORMAT } from '../../src/ranking/partial.ts';
import { parsePeriodLabel } from '../../src/ranking/period.ts';
import { rankPartial } from '../../src/ranking/rank.ts';
import { DEFAULT_COLUMNS } from '../../src/ranking/rows.ts';
import type { Store } from '../../src/storage/index.ts';

export const PRODUCT_REVIEWS = new URL('../../../shared/data/product_reviews.csv', import.meta.url).pathname;

const WORDS = ['great', 'value', 'love', 'terrible', 'broke', 'okay', 'nice', 'poor', 'amazing', 'waste'];

/** `rows` reviews of `products` products over January 2014, deterministic, in product_reviews.csv's shape. */
export function syntheticCsv(rows: number, products = 12): string {
  const lines = ['product_id,date,rating,title,text'];
  for (let i = 0; i < rows; i++) {
    const product = `P${String((i * 7) % products).padStart(3, '0')}`;
    const day = String(1 + ((i * 5) % 31)).padStart(2, '0');
    const text = Array.from({ length: 1 + (i % 9) }, (_, k) => WORDS[(i * 3 + k * k) % WORDS.length]).join(
      ' ',
    );
    lines.push(`${product},2014-01-${day},${1 + (i % 5)},${i % 4 ? 'Nice' : ''},"${text}, really."`);
  }
  return `${lines.join('\n')}\n`;
}

/** ranking.json without the one field allowed to differ between runs. */
export const withoutGeneratedAt = (json: string): string =>
  json.replace(/\n {2}"generated_at": "[^"]*",/, '');

export function rankConfig(overrides: Partial<RankConfig> & Pick<RankConfig, 'reviews' | 'out'>): RankConfig {
  return {
    period: null,
    model: 'unused: a scorer is injected',
    top: 5,
    minReviews: 3,
    priorM: 15,
    columns: DEFAULT_COLUMNS,
    format: null,
    strict: false,
    batchSize: 256,
    backend: 'cpu',
    endpointUrl: null,
    region: null,
    ...overrides,
  };
}

/** Publishes a small ranking of `label` into `store` through the real output path (for the read side's tests). */
export function publishTestRanking(
  store: Store,
  label: string,
  generatedAt = '2014-02-03T03:00:00.000Z',
): Promise<Published> {
  const products = ['A', 'B', 'C', 'D', 'E', 'F'].map((product_id, i) => ({
    product_id,
    n: 3 + i,
    sum_score: (3 + i) * (3 + (i % 3) / 2),
    sum_rating: 0,
    n_rating: 0,
  }));
  const scored = products.reduce((sum, p) => sum + p.n, 0);
  const ranking = rankPartial(
    {
      format: PARTIAL_FORMAT,
      input: { uri: 'fixture.csv', range: null },
      period: parsePeriodLabel(label),
      model: { name: 'tiny-test-model', version: 'v1' },
      counts: { rows: scored, scored, outside_period: 0, bad: 0 },
      bad_rows: [],
      products,
    },
    { top: 5, minReviews: 3, priorM: 15 },
  );
  return publishRanking(store, ranking, generatedAt);
}
