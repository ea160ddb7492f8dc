/**
 * Lists of issue ids a customer's searches name in Jira's `reconcileIssues` (ADR 0194): the requests
 * her session wrote (portal/session.ts), and those a share lately changed for her (portal/recent-shares.ts).
 * Stored as JSON, newest first, ids and times only: nothing personal.
 */

/**
 * How long an issue is reconciled: Jira's search shows "the majority of modifications ... within
 * seconds", some after minutes ("Search after write with search and reconcile"). Ten minutes
 * covers that with room; past it the index has the request and reconciling is not needed.
 */
export const RECENT_WRITE_SECONDS = 600;
/** Jira reconciles at most 50 issues per search: a list keeps its newest 50. */
export const RECONCILED_MAX = 50;
const ISSUE_ID = /^[1-9][0-9]{0,14}$/;

/** One remembered change: an issue id and when (ms) it was made. */
export interface RecentIssue {
  issueId: string;
  at: number;
}

/** Whether `issueId` is one Jira's `reconcileIssues` takes (an int64 as text). */
export const isIssueId = (issueId: string): boolean => ISSUE_ID.test(issueId);

/** The entries of a stored list that are still recent, newest first; nothing when unreadable. */
export function recentIssues(raw: string | undefined, now: number): RecentIssue[] {
  if (raw === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  return parsed.filter(
    (w): w is RecentIssue =>
      typeof w?.issueId === 'string' &&
      isIssueId(w.issueId) &&
      typeof w.at === 'number' &&
      now - w.at < RECENT_WRITE_SECONDS * 1000,
  );
}

/** `entry` first, then those of `kept` that are not the `same`, RECONCILED_MAX in all. */
export function withNewest<T extends RecentIssue>(
  kept: readonly T[],
  entry: T,
  same: (a: T, b: T) => boolean = (a, b) => a.issueId === b.issueId,
): T[] {
  return [entry, ...kept.filter((k) => !same(k, entry))].slice(0, RECONCILED_MAX);
}

/** The ids of `lists` in order, each once, RECONCILED_MAX in all: what one search can reconcile. */
export function reconciled(...lists: readonly (readonly string[])[]): string[] {
  return [...new Set(lists.flat())].slice(0, RECONCILED_MAX);
}
