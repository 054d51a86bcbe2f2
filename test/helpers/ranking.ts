/** Shared fixtures of the ranking tests: synthetic review files and the ranking.json comparison. */

import type { RankConfig } from '../../src/ranking/job.ts';
import { DEFAULT_COLUMNS } from '../../src/ranking/rows.ts';

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
