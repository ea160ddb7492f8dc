/**
 * A request's comments in the order they were written. The servicedeskapi lists them in an order its
 * spec does not promise (getRequestComments takes none; Atlassian answers oldest first today), so the
 * portal puts them in order itself: by when each was written (`created`), and those written at the
 * same millisecond (an import, a bulk reply) by their ids, which Jira gives in the order comments are
 * written; the same order whatever order the list came in (ADR 0384).
 */
import type { CommentDTO, DateDTO } from './atlassian/types.js';

/** A servicedeskapi date as milliseconds since the epoch; NaN when it carries neither form. */
export const epochMillis = (date: DateDTO | undefined): number =>
  date?.epochMillis ?? (date?.iso8601 ? Date.parse(date.iso8601) : Number.NaN);

/** Numeric ids of any length, compared as numbers (`"999" < "1000"`), else as text. */
const byId = (a: string, b: string): number => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);

/** Oldest first; a comment with no date after those with one, by id. */
export function oldestFirst<T extends Pick<CommentDTO, 'id' | 'created'>>(comments: readonly T[]): T[] {
  const at = (c: T) => {
    const millis = epochMillis(c.created);
    return Number.isNaN(millis) ? Number.POSITIVE_INFINITY : millis;
  };
  return [...comments].sort((a, b) => at(a) - at(b) || byId(a.id, b.id));
}
