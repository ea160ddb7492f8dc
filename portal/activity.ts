/**
 * The admin activity view's data: accountId, client IP and last sign-in time — nothing else (no
 * e-mail, no name). Kept in the flow store as one bounded list (the most recent 500 customers) with
 * a 30-day TTL, so it is shared by replicas and expires on its own; an entry is shown for 30 days
 * after its sign-in and dropped from the store at the next sign-in after that (ADR 0340). Two
 * replicas signing people in at the same instant may drop one update (read-modify-write); the next
 * sign-in corrects it, which is acceptable for an activity overview and avoids needing a store with
 * listing.
 */
import type { FlowStore } from '../common/flowstore/index.js';

export interface ActivityEntry {
  accountId: string;
  ip: string;
  lastLoginAt: string;
}

const KEY = 'portal:activity';
export const ACTIVITY_MAX_ENTRIES = 500;
export const ACTIVITY_TTL_SECONDS = 30 * 86_400;

/**
 * Whether `entry`'s sign-in is within the 30 days an entry is kept, at `now`. The list's key expires
 * 30 days after its last write, but every sign-in writes it: without this, a customer's address and
 * time stayed for as long as anyone else signed in within 30 days (among the last 500 people).
 */
function withinRetention(entry: ActivityEntry, now: number): boolean {
  return now - Date.parse(entry.lastLoginAt) < ACTIVITY_TTL_SECONDS * 1000;
}

export function recordLogin(entries: readonly ActivityEntry[], entry: ActivityEntry): ActivityEntry[] {
  return [entry, ...entries.filter((e) => e.accountId !== entry.accountId)].slice(0, ACTIVITY_MAX_ENTRIES);
}

export class ActivityLog {
  readonly #store: FlowStore;
  constructor(store: FlowStore) {
    this.#store = store;
  }
  /** The entries of sign-ins within the last 30 days (what `record` writes back, too). */
  async list(): Promise<ActivityEntry[]> {
    const raw = await this.#store.get(KEY);
    const now = Date.now();
    return raw ? (JSON.parse(raw) as ActivityEntry[]).filter((e) => withinRetention(e, now)) : [];
  }
  async record(entry: ActivityEntry): Promise<void> {
    await this.#store.put(KEY, JSON.stringify(recordLogin(await this.list(), entry)), ACTIVITY_TTL_SECONDS);
  }
}

/** How far back the activity page looks. */
export const ACTIVITY_PERIODS = { all: undefined, day: 86_400_000, week: 7 * 86_400_000 } as const;
export type ActivityPeriod = keyof typeof ACTIVITY_PERIODS;
export const ACTIVITY_PAGE_SIZE = 50;

export interface ActivityFilter {
  /** Free text: part of an accountId or client IP, or a name or e-mail Atlassian finds. */
  query: string;
  period: ActivityPeriod;
  page: number;
}

/** The filter from the page's query string; anything unexpected falls back to "everything". */
export function parseActivityFilter(query: Record<string, unknown>): ActivityFilter {
  const text = typeof query['q'] === 'string' ? query['q'].trim().slice(0, 100) : '';
  const period = query['since'];
  const page =
    typeof query['page'] === 'string' && /^[1-9]\d{0,3}$/.test(query['page']) ? Number(query['page']) : 1;
  return {
    query: text,
    period:
      typeof period === 'string' && Object.hasOwn(ACTIVITY_PERIODS, period)
        ? (period as ActivityPeriod)
        : 'all',
    page,
  };
}

/**
 * The entries the filter keeps: signed in within the period and, with a query, whose accountId or
 * client IP contains it or whose account Atlassian found by name or e-mail (`foundAccountIds`).
 */
export function filterActivity(
  entries: readonly ActivityEntry[],
  filter: ActivityFilter,
  foundAccountIds: ReadonlySet<string>,
  now = Date.now(),
): ActivityEntry[] {
  const window = ACTIVITY_PERIODS[filter.period];
  const needle = filter.query.toLowerCase();
  return entries.filter(
    (e) =>
      (window === undefined || now - Date.parse(e.lastLoginAt) <= window) &&
      (needle === '' ||
        e.accountId.toLowerCase().includes(needle) ||
        e.ip.includes(needle) ||
        foundAccountIds.has(e.accountId)),
  );
}
