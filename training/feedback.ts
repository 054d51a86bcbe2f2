/**
 * `--feedback <uri>`: the corrections clients sent through POST /feedback, as extra training rows.
 *
 * - Only records for this model (`<name>/` under the URI, `model` equal to --name).
 * - Only labels the data has (a label the model cannot output cannot be learnt from one row).
 * - A text the data already holds (in training, validation or test, compared lower-cased) is dropped:
 *   the curated label stands, a feedback cannot relabel a validation or test row, and no test text can
 *   leak into training through feedback.
 * - Several records for one text: the label most of them give wins; a tie is dropped as conflicting.
 * - At most `maxShare` of the rows the model is fitted on come from feedback, newest first: feedback is
 *   unverified and self-selected (clients correct what they disagree with), so a flood of it, honest or
 *   not, can shift the model only so far; the curated data stays the majority.
 * Feedback rows join the fit rows only, after the validation split: never validation, never test.
 */
import { type FeedbackRecord, parseFeedbackRecord } from '../src/feedback/record.ts';
import type { Storage } from '../src/storage/index.ts';
import { reviewText } from '../src/text/review.ts';
import type { Example } from './data.ts';

export interface FeedbackUse {
  uri: string;
  /** Records stored for this model. */
  records: number;
  /** Distinct texts added to the fit rows. */
  used: number;
  /** Records skipped: unreadable, a label the data lacks, a text already in the data, conflicting, over the cap. */
  dropped: { malformed: number; unknownLabel: number; inData: number; conflicting: number; overCap: number };
  /** The most feedback rows this run could take (maxShare of the fit rows). */
  cap: number;
}

const READ_CONCURRENCY = 16;

/** Every record stored for `model` under `uri`; unreadable ones are counted, not fatal. */
export async function readFeedback(
  storage: Storage,
  uri: string,
  model: string,
): Promise<{ records: FeedbackRecord[]; malformed: number }> {
  const store = storage.store(uri);
  const keys = (await store.list(`${model}/`)).filter((key) => key.endsWith('.json'));
  const records: FeedbackRecord[] = [];
  let malformed = 0;
  for (let i = 0; i < keys.length; i += READ_CONCURRENCY) {
    const batch = keys.slice(i, i + READ_CONCURRENCY);
    const read = await Promise.all(batch.map(async (key) => [key, await store.get(key)] as const));
    for (const [key, bytes] of read) {
      try {
        const record = parseFeedbackRecord(bytes, store.uriOf(key));
        if (record.model === model) records.push(record);
        else malformed++;
      } catch {
        malformed++;
      }
    }
  }
  return { records, malformed };
}

const textKey = (review: { text: string; title?: string | null }) => reviewText(review).trim().toLowerCase();

/** Turns records into fit rows under the rules above. `dataRows` is every row of the data, test included. */
export function feedbackRows(
  records: readonly FeedbackRecord[],
  o: {
    uri: string;
    malformed: number;
    labels: readonly string[];
    dataRows: readonly Example[];
    fitRows: number;
    maxShare: number;
    includeTitle: boolean;
  },
): { rows: Example[]; use: FeedbackUse } {
  const dropped = { malformed: o.malformed, unknownLabel: 0, inData: 0, conflicting: 0, overCap: 0 };
  const inData = new Set(o.dataRows.map(textKey));
  const groups = new Map<string, FeedbackRecord[]>();
  for (const record of records) {
    const review = { text: record.text, title: o.includeTitle ? record.title : null };
    if (!o.labels.includes(record.label)) dropped.unknownLabel++;
    else if (inData.has(textKey(review))) dropped.inData++;
    else {
      const key = textKey(review);
      groups.set(key, [...(groups.get(key) ?? []), { ...record, title: review.title }]);
    }
  }
  const candidates: { example: Example; newest: string }[] = [];
  for (const group of groups.values()) {
    const votes = new Map<string, number>();
    for (const r of group) votes.set(r.label, (votes.get(r.label) ?? 0) + 1);
    const ranked = [...votes.entries()].sort((a, b) => b[1] - a[1]);
    const [top, second] = ranked;
    if (!top || (second && second[1] === top[1])) {
      dropped.conflicting += group.length;
      continue;
    }
    const winner = group.filter((r) => r.label === top[0]).sort(newestFirst)[0] as FeedbackRecord;
    dropped.conflicting += group.length - top[1];
    candidates.push({
      example: { label: winner.label, text: winner.text, title: winner.title, line: 0 },
      newest: winner.receivedAt,
    });
    // The other records agreeing with the winner are the same row, counted as used below.
  }
  const cap =
    o.maxShare >= 1 ? Number.POSITIVE_INFINITY : Math.floor((o.maxShare * o.fitRows) / (1 - o.maxShare));
  candidates.sort((a, b) => (a.newest < b.newest ? 1 : a.newest > b.newest ? -1 : 0));
  const kept = candidates.slice(0, cap);
  dropped.overCap = candidates.length - kept.length;
  return {
    rows: kept.map((c) => c.example),
    use: {
      uri: o.uri,
      records: records.length + o.malformed,
      used: kept.length,
      dropped,
      cap: Number.isFinite(cap) ? cap : records.length,
    },
  };
}

function newestFirst(a: FeedbackRecord, b: FeedbackRecord): number {
  return a.receivedAt < b.receivedAt ? 1 : a.receivedAt > b.receivedAt ? -1 : a.id < b.id ? -1 : 1;
}
