/**
 * The feedback contract between the API (POST /feedback writes) and training (`--feedback` reads): one
 * JSON object per distinct feedback at `<model>/<id>.json` under FEEDBACK_URI, where the id is the sha256
 * of the feedback's canonical content. The same content always gets the same key, so a retried request
 * finds its own record instead of adding a second one, and the write is conditional (create-only), so
 * two concurrent writers cannot clobber each other.
 */
import { sha256Hex } from '../common/hash.ts';
import { BadRequestError, ConflictError } from '../errors.ts';
import type { Store } from '../storage/index.ts';

/** What a client says: the model's text was (or should have been) `label`. */
export interface Feedback {
  model: string;
  text: string;
  /** null when absent or blank. */
  title: string | null;
  label: string;
  /** The label the client was shown, when it says; null otherwise. */
  prediction: string | null;
}

/** A stored feedback: the content, its id, and facts about its arrival (not part of the id). */
export interface FeedbackRecord extends Feedback {
  format: 'feedback/1';
  id: string;
  /** The model version serving when the first copy arrived. */
  modelVersion: string | null;
  receivedAt: string;
}

/** sha256 of the content in a fixed field order: equal content, equal id, whatever the JSON key order. */
export function feedbackId(f: Feedback): string {
  return sha256Hex(JSON.stringify([f.model, f.text, f.title, f.label, f.prediction]));
}

/** The store key of a feedback (or of its id): one folder per model, so training lists only its own. */
export function feedbackKey(model: string, id: string): string {
  return `${model}/${id}.json`;
}

export interface Stored {
  id: string;
  /** True when this exact feedback was already stored (nothing was written). */
  duplicate: boolean;
}

/**
 * Writes the feedback once. Create-only: a folder store links the finished file into place (link(2)
 * fails on an existing name), S3 sends `If-None-Match: *`; either way the loser of a race, or a retry,
 * meets a ConflictError and reports the existing record's id.
 */
export async function storeFeedback(
  store: Store,
  feedback: Feedback,
  facts: { modelVersion: string | null; receivedAt: Date },
): Promise<Stored> {
  const id = feedbackId(feedback);
  const record: FeedbackRecord = {
    format: 'feedback/1',
    id,
    ...feedback,
    modelVersion: facts.modelVersion,
    receivedAt: facts.receivedAt.toISOString(),
  };
  const bytes = new TextEncoder().encode(`${JSON.stringify(record)}\n`);
  try {
    await store.putNew(feedbackKey(feedback.model, id), bytes, 'application/json');
    return { id, duplicate: false };
  } catch (error) {
    if (error instanceof ConflictError) return { id, duplicate: true };
    throw error;
  }
}

/** Parses one stored record; anything malformed is a BadRequestError naming the field (and never the text). */
export function parseFeedbackRecord(bytes: Uint8Array, where: string): FeedbackRecord {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new BadRequestError(`${where}: not JSON`, { cause: error });
  }
  const r = value as Partial<FeedbackRecord> | null;
  const fail = (what: string): never => {
    throw new BadRequestError(`${where}: ${what}`);
  };
  if (typeof r !== 'object' || r === null) return fail('not an object');
  if (r.format !== 'feedback/1') fail(`unknown format ${JSON.stringify(r.format)}`);
  for (const field of ['id', 'model', 'text', 'label'] as const) {
    if (typeof r[field] !== 'string' || r[field].length === 0) fail(`${field} must be a non-empty string`);
  }
  for (const field of ['title', 'prediction'] as const) {
    if (r[field] !== null && typeof r[field] !== 'string') fail(`${field} must be a string or null`);
  }
  const record = r as FeedbackRecord;
  if (feedbackId(record) !== record.id) fail('id does not match the content');
  return record;
}
