/**
 * The rankings the batch job published (src/ranking/output.ts's contract: <root>/latest.json naming
 * <root>/<period>/ranking.json), read for GET /rankings/latest and GET /rankings/{period}.
 *
 * Cached per execution environment: a ranking changes once a week, and every request reading S3 would
 * add latency and cost for nothing. `latest` is kept LATEST_TTL_S (60 s), so a new week shows within a
 * minute of the job finishing; a fixed period PERIOD_TTL_S (1 h), since only a deliberate re-run of that
 * period rewrites it. Misses and failures are never cached. HTTP clients get the same lifetimes as
 * `cache-control: public, max-age=…`.
 */
import {
  BadRequestError,
  messageOf,
  NotFoundError,
  type ProblemDetails,
  UnavailableError,
} from '../errors.ts';
import { LATEST, type Latest, RANKING_JSON } from '../ranking/output.ts';
import { parsePeriodLabel } from '../ranking/period.ts';
import { defaultStorage, type Storage, type Store } from '../storage/index.ts';

import type { HttpResponse } from './http/responses.ts';

export const LATEST_TTL_S = 60;
export const PERIOD_TTL_S = 3600;

export interface StoredRanking {
  /** The period label, e.g. 2014-W05. */
  period: string;
  /** ranking.json exactly as the job wrote it. */
  body: string;
  /** How long this answer may be reused, in seconds. */
  maxAge: number;
}

export interface RankingsReader {
  latest(): Promise<StoredRanking>;
  /** A malformed label is a 400; a well-formed one with no ranking a 404. */
  period(label: string): Promise<StoredRanking>;
}

export interface RankingsReaderOptions {
  /** RANKINGS_URI: a folder or s3://bucket/prefix/; null when the deployment has none. */
  uri: string | null;
  storage?: Storage;
  /** Milliseconds; injectable for tests. */
  now?: () => number;
}

const notFound = (detail: string): NotFoundError =>
  new NotFoundError(detail, { problem: { slug: 'ranking-not-found', title: 'Ranking not found', detail } });

/** A storage hiccup is not cached, so the next read tries again at once: a short wait is enough. */
const RANKINGS_RETRY_AFTER_SECONDS = 5;

const UNAVAILABLE: ProblemDetails = {
  slug: 'rankings-unavailable',
  title: 'Rankings unavailable',
  detail: 'the rankings could not be read; retry later',
  headers: { 'retry-after': String(RANKINGS_RETRY_AFTER_SECONDS) },
};

export function createRankingsReader(options: RankingsReaderOptions): RankingsReader {
  const now = options.now ?? Date.now;
  const cache = new Map<string, { expires: number; value: Promise<StoredRanking> }>();
  let opened: Store | undefined;
  const root = (): Store => {
    if (options.uri === null) {
      throw notFound('no rankings are published on this deployment (RANKINGS_URI is not set)');
    }
    opened ??= (options.storage ?? defaultStorage()).store(options.uri);
    return opened;
  };

  /** One read per key and lifetime; concurrent requests share it, a failed one is forgotten. */
  const cached = (key: string, ttlS: number, read: () => Promise<Omit<StoredRanking, 'maxAge'>>) => {
    const hit = cache.get(key);
    if (hit && hit.expires > now()) return hit.value;
    const value = read().then((found) => ({ ...found, maxAge: ttlS }));
    cache.set(key, { expires: now() + ttlS * 1000, value });
    value.catch(() => {
      if (cache.get(key)?.value === value) cache.delete(key);
    });
    return value;
  };

  const readText = async (key: string, missing: string): Promise<string> => {
    const store = root();
    try {
      return new TextDecoder().decode(await store.get(key));
    } catch (error) {
      if (error instanceof NotFoundError) throw notFound(missing);
      throw new UnavailableError(`reading ${key} of the rankings: ${messageOf(error)}`, {
        cause: error,
        problem: UNAVAILABLE,
      });
    }
  };

  return {
    latest: () =>
      cached(LATEST, LATEST_TTL_S, async () => {
        const text = await readText(LATEST, 'no ranking has been published yet');
        let latest: Latest;
        try {
          latest = JSON.parse(text) as Latest;
          parsePeriodLabel(latest.period);
        } catch (error) {
          throw new UnavailableError(`${LATEST} is not a valid pointer: ${messageOf(error)}`, {
            cause: error,
            problem: UNAVAILABLE,
          });
        }
        const body = await readText(
          `${latest.period}/${RANKING_JSON}`,
          `${LATEST} names ${latest.period}, which has no ranking`,
        );
        return { period: latest.period, body };
      }),
    period: async (label) => {
      let canonical: string;
      try {
        canonical = parsePeriodLabel(label).label;
      } catch (error) {
        const detail = `${messageOf(error)}; periods are ISO weeks (2014-W05) or day ranges (2014-01-01_2014-06-30)`;
        throw new BadRequestError(detail, {
          cause: error,
          problem: { slug: 'invalid-period', title: 'Invalid period', detail },
        });
      }
      return cached(`period:${canonical}`, PERIOD_TTL_S, async () => ({
        period: canonical,
        body: await readText(`${canonical}/${RANKING_JSON}`, `no ranking for ${canonical}`),
      }));
    },
  };
}

/** Without a reader (RANKINGS_URI unset in Lambda) the routes answer 404 saying so. */
export const NO_RANKINGS: RankingsReader = createRankingsReader({ uri: null });

/** The stored bytes as they are, with the cache lifetime they were read under. */
export function rankingResponse(ranking: StoredRanking): HttpResponse {
  return {
    statusCode: 200,
    headers: {
      'content-type': 'application/json',
      'cache-control': `public, max-age=${ranking.maxAge}`,
      'content-location': `/rankings/${ranking.period}`,
    },
    body: ranking.body,
    isBase64Encoded: false,
  };
}
