/**
 * The admin activity view's data: accountId, client IP and last sign-in time — nothing else (no
 * e-mail, no name). Kept in the flow store as one bounded list (the most recent 500 customers) with
 * a 30-day TTL, so it is shared by replicas and expires on its own. Two replicas signing people in
 * at the same instant may drop one update (read-modify-write); the next sign-in corrects it, which
 * is acceptable for an activity overview and avoids needing a store with listing.
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

export function recordLogin(entries: readonly ActivityEntry[], entry: ActivityEntry): ActivityEntry[] {
  return [entry, ...entries.filter((e) => e.accountId !== entry.accountId)].slice(0, ACTIVITY_MAX_ENTRIES);
}

export class ActivityLog {
  readonly #store: FlowStore;
  constructor(store: FlowStore) {
    this.#store = store;
  }
  async list(): Promise<ActivityEntry[]> {
    const raw = await this.#store.get(KEY);
    return raw ? (JSON.parse(raw) as ActivityEntry[]) : [];
  }
  async record(entry: ActivityEntry): Promise<void> {
    await this.#store.put(KEY, JSON.stringify(recordLogin(await this.list(), entry)), ACTIVITY_TTL_SECONDS);
  }
}
