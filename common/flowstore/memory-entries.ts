import { JsmSsoError } from '../errors.js';
import { FlowStoreTenantFullError } from './flow-store.js';

/**
 * How a pool's memory store divides its room among tenants (ADR 0197): each tenant may always hold
 * `reservedPerTenant` entries, whatever the others do; beyond that it borrows from `shared`, one room
 * for all, up to `mostPerTenant` of its own. So one tenant (or whoever floods its sign-in page) runs
 * out at its own ceiling and never takes another tenant's reserve, and the pool holds at most
 * `reservedPerTenant` per tenant plus `shared`.
 */
export interface TenantShares {
  reservedPerTenant: number;
  shared: number;
  mostPerTenant: number;
}

/**
 * One store's room is used up: new keys are refused (503) rather than letting anonymous sign-in
 * starts grow the process without bound. Entries already there (sessions, flows in progress) stay.
 */
export class FlowStoreFullError extends JsmSsoError {
  constructor(maxEntries: number) {
    super('FLOW_STORE_FULL', `the in-memory flow store holds its maximum of ${maxEntries} entries`, {
      status: 503,
    });
    this.name = 'FlowStoreFullError';
  }
}

export type MemoryRefusalCode = 'FLOW_STORE_FULL' | 'FLOW_STORE_TENANT_FULL';

export interface Entry {
  value: string;
  expiresAt: number;
}

interface OwnedEntry extends Entry {
  owner: string;
  evictable: boolean;
}

/**
 * The entries of a memory store and what each owner (a pool's tenant; '' for a dedicated part's one)
 * holds of its room. Expired entries are invisible at once and swept every few seconds. A new key
 * that finds its owner's room taken first evicts that owner's evictable entries, the one written
 * longest ago first, and is refused only when the owner has none left (ADR 0357).
 */
export class MemoryEntries {
  readonly #entries = new Map<string, OwnedEntry>();
  readonly #held = new Map<string, number>();
  readonly #refusals = new Map<string, Map<MemoryRefusalCode, number>>();
  /**
   * Each owner's evictable keys in the order written (a rewrite moves a key to the end): every
   * evictable entry is a session's, all written with the one session lifetime, so the first is the
   * one nearest expiry, found without a scan.
   */
  readonly #evictable = new Map<string, Set<string>>();
  readonly #evictions = new Map<string, number>();
  /** Each owner's latest expiry among the entries evicted: until then one of them would still live. */
  readonly #evictedLiveUntil = new Map<string, number>();
  readonly #onFirstEviction: (owner: string) => void;
  readonly #sweeper: NodeJS.Timeout;
  readonly #now: () => number;
  readonly #shares: TenantShares;
  readonly #perTenant: boolean;
  /** Entries held beyond their owner's reserve: what the owners borrow from `shared`. */
  #borrowed = 0;
  #lastSweep = 0;

  /** `shares` undefined: one owner with `maxEntries` (a dedicated part's store). */
  constructor(options: {
    now: () => number;
    sweepIntervalMs: number;
    maxEntries: number;
    shares?: TenantShares;
    /** Told once per owner, at its first eviction: the log line an operator sizes the store by. */
    onFirstEviction?: (owner: string) => void;
  }) {
    this.#now = options.now;
    this.#onFirstEviction = options.onFirstEviction ?? (() => {});
    this.#perTenant = options.shares !== undefined;
    this.#shares = options.shares ?? {
      reservedPerTenant: 0,
      shared: options.maxEntries,
      mostPerTenant: options.maxEntries,
    };
    this.#sweeper = setInterval(() => this.#sweep(), options.sweepIntervalMs);
    this.#sweeper.unref();
  }

  get now(): number {
    return this.#now();
  }

  live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry && entry.expiresAt <= this.#now()) {
      this.delete(key);
      return undefined;
    }
    return entry;
  }

  /**
   * Stores `entry` under `key` for `owner`; a new key needs room in the owner's share, made by
   * evicting the owner's oldest evictable entries when it is taken.
   */
  set(key: string, owner: string, entry: Entry, evictable: boolean): void {
    const before = this.#entries.get(key);
    if (before) this.#evictable.get(before.owner)?.delete(key);
    else {
      this.#makeRoomFor(owner);
      this.#count(owner, +1);
    }
    this.#entries.set(key, { ...entry, owner, evictable });
    if (evictable) this.#evictableOf(owner).add(key);
  }

  delete(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    if (entry.evictable) this.#evictable.get(entry.owner)?.delete(key);
    this.#count(entry.owner, -1);
  }

  /** Deletes every entry whose key starts with `prefix` (a removed tenant's); how many there were. */
  deleteStartingWith(prefix: string): number {
    const keys = [...this.#entries.keys()].filter((key) => key.startsWith(prefix));
    for (const key of keys) this.delete(key);
    return keys.length;
  }

  /** Live entries in all. */
  get size(): number {
    this.#sweep();
    return this.#entries.size;
  }

  /** New keys refused so far, by owner and code: what the pool's metric reports (never swept). */
  get refusals(): ReadonlyMap<string, ReadonlyMap<MemoryRefusalCode, number>> {
    return this.#refusals;
  }

  /** Evictable entries dropped so far to make room, by owner: what the eviction metric reports. */
  get evictions(): ReadonlyMap<string, number> {
    return this.#evictions;
  }

  /**
   * Forgets `owner`'s refusal and eviction counts, which the metrics are made of at each scrape: a pool
   * tenant that left is reported no more (ADR 0367). Its entries, and what ADR 0363 asks of them, stay.
   */
  forgetCounts(owner: string): void {
    this.#refusals.delete(owner);
    this.#evictions.delete(owner);
  }

  /** Whether an entry of `owner` evicted to make room would still be live now (ADR 0363). */
  evictedEntriesLive(owner: string): boolean {
    return (this.#evictedLiveUntil.get(owner) ?? 0) > this.#now();
  }

  close(): void {
    clearInterval(this.#sweeper);
    this.#entries.clear();
    this.#held.clear();
    this.#evictable.clear();
    this.#borrowed = 0;
  }

  #makeRoomFor(owner: string): void {
    if (this.#refusalFor(owner) === undefined) return;
    // At most one full sweep a second: a flood of refused puts must not cost a scan each.
    if (this.#now() - this.#lastSweep >= 1000) this.#sweep();
    let code = this.#refusalFor(owner);
    // Only the owner's own: a tenant of a pool never makes room out of another's sessions.
    while (code !== undefined && this.#evictOldestOf(owner)) code = this.#refusalFor(owner);
    if (code === undefined) return;
    const byCode = this.#refusals.get(owner) ?? new Map<MemoryRefusalCode, number>();
    byCode.set(code, (byCode.get(code) ?? 0) + 1);
    this.#refusals.set(owner, byCode);
    throw code === 'FLOW_STORE_TENANT_FULL'
      ? new FlowStoreTenantFullError(`${this.#shares.mostPerTenant} entries held in memory`)
      : new FlowStoreFullError(this.#shares.shared);
  }

  /**
   * Drops `owner`'s evictable entry written longest ago; false when it has none. One already expired
   * (sweeps run at most once a second) is dropped as the sweep would, not counted as an eviction.
   */
  #evictOldestOf(owner: string): boolean {
    const keys = this.#evictable.get(owner);
    const oldest = keys?.values().next();
    if (keys === undefined || oldest === undefined || oldest.done) return false;
    // Out of the set before anything else, so that #makeRoomFor's loop ends whatever the set names.
    keys.delete(oldest.value);
    const entry = this.#entries.get(oldest.value);
    if (entry === undefined) return true;
    this.delete(oldest.value);
    if (entry.expiresAt <= this.#now()) return true;
    this.#evictedLiveUntil.set(owner, Math.max(this.#evictedLiveUntil.get(owner) ?? 0, entry.expiresAt));
    const evicted = (this.#evictions.get(owner) ?? 0) + 1;
    this.#evictions.set(owner, evicted);
    if (evicted === 1) this.#onFirstEviction(owner);
    return true;
  }

  #evictableOf(owner: string): Set<string> {
    const keys = this.#evictable.get(owner) ?? new Set<string>();
    this.#evictable.set(owner, keys);
    return keys;
  }

  /** Why a new key of `owner` would not fit now, or undefined when it fits. */
  #refusalFor(owner: string): MemoryRefusalCode | undefined {
    const held = this.#held.get(owner) ?? 0;
    const { reservedPerTenant, shared, mostPerTenant } = this.#shares;
    if (held < reservedPerTenant) return undefined;
    if (this.#perTenant && held >= mostPerTenant) return 'FLOW_STORE_TENANT_FULL';
    return this.#borrowed >= shared ? 'FLOW_STORE_FULL' : undefined;
  }

  #count(owner: string, change: 1 | -1): void {
    const before = this.#held.get(owner) ?? 0;
    const after = before + change;
    if (Math.max(before, after) > this.#shares.reservedPerTenant) this.#borrowed += change;
    if (after === 0) this.#held.delete(owner);
    else this.#held.set(owner, after);
  }

  #sweep(): void {
    const now = this.#now();
    this.#lastSweep = now;
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.delete(key);
  }
}
