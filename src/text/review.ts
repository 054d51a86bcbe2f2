/**
 * A review as callers and data files have it: a text and an optional title. Training, the API and the
 * ranking job all turn it into one string here, so the model always reads the same join.
 */
export interface Review {
  text: string;
  title?: string | null;
}

/**
 * A plain space, because keras-original-v1 splits words on ' ' only and deletes punctuation without
 * leaving a break: with '. ' the title's last word would still be separate, but with '.' it would fuse
 * with the text's first word ("greatworks"). The Amazon Review Full files are used the same way.
 */
export const TITLE_JOINER = ' ';

export function reviewText(review: Review): string {
  const title = review.title?.trim() ?? '';
  return title.length > 0 ? `${title}${TITLE_JOINER}${review.text}` : review.text;
}
