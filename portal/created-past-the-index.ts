/**
 * Finds a request this portal raised without relying on Jira's search index (ADR 0240). The search
 * is eventually consistent: a request created a moment ago may not be found by its write key for
 * seconds to minutes, and a form sent again meanwhile was raised twice. But Jira numbers a project's
 * issues one after another (KEY-1, KEY-2, …), and reading issues by key (`/issue/bulkfetch`) reads
 * the issues themselves, not the index. So the keys from just before the newest one the index shows
 * onwards are read, 100 at a time: a request made meanwhile is among them.
 */
import { adfText } from './atlassian/adf-text.js';
import { type AtlassianClient, BULK_FETCH_MAX } from './atlassian/client.js';
import type { AdfNode, JqlIssue } from './atlassian/types.js';
import { newestIssueJql } from './visibility.js';

/** Keys before the index's newest read too: the index may take in a later issue before an earlier one. */
const KEYS_BEFORE_NEWEST = 10;
/**
 * Rounds of 100 keys one look reads at most: more than 500 requests raised on one desk while the
 * index lags behind is not expected, and each round costs a call.
 */
const MAX_ROUNDS = 5;

const numberOf = (key: string) => Number(/-([0-9]{1,15})$/.exec(key)?.[1] ?? 0);
const reporterOf = (issue: JqlIssue) =>
  (issue.fields['reporter'] as { accountId?: unknown } | null | undefined)?.accountId;

/** The request raised for `reporterAccountId` in the project under `writeKey`, read past the index. */
export async function findCreatedPastTheIndex(
  client: AtlassianClient,
  project: { projectId: string; projectKey?: string | undefined },
  reporterAccountId: string,
  writeKey: string,
): Promise<{ issueKey: string; issueId: string } | undefined> {
  const marker = `(portal reference ${writeKey})`;
  const newest = (await client.searchJql(newestIssueJql(project.projectId), ['summary'], 1)).issues[0];
  // The desk names its project's key; a project renamed since keeps numbering on (old keys still read).
  const projectKey = project.projectKey ?? /^(.+)-[0-9]+$/.exec(newest?.key ?? '')?.[1];
  if (projectKey === undefined) return undefined;
  let from = Math.max(1, numberOf(newest?.key ?? '') - KEYS_BEFORE_NEWEST);
  for (let round = 0; round < MAX_ROUNDS; round++, from += BULK_FETCH_MAX) {
    const keys = Array.from({ length: BULK_FETCH_MAX }, (_, i) => `${projectKey}-${from + i}`);
    // The reporter first (small), the description (up to 32 KB each) of the customer's alone.
    const { issues } = await client.bulkFetchIssues(keys, ['reporter']);
    const theirs = issues.filter((issue) => reporterOf(issue) === reporterAccountId);
    if (theirs.length > 0) {
      const described = await client.bulkFetchIssues(
        theirs.map((issue) => issue.id),
        ['description'],
      );
      const found = described.issues.find((issue) =>
        adfText(issue.fields['description'] as AdfNode | undefined).includes(marker),
      );
      if (found) return { issueKey: found.key, issueId: found.id };
    }
    // Nothing in the round's last keys: the project's numbering ends within the round.
    const last = from + BULK_FETCH_MAX - 1;
    const inProject = issues.filter((issue) => issue.key.startsWith(`${projectKey}-`));
    if (!inProject.some((issue) => numberOf(issue.key) > last - KEYS_BEFORE_NEWEST)) return undefined;
  }
  return undefined;
}
