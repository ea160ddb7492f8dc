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
}

/**
 * The entries of a memory store and what each owner (a pool's tenant; '' for a dedicated part's one)
 * holds of its room. Expired entries are invisible at once and swept every few seconds.
 */
export class MemoryEntries {
  readonly #entries = new Map<string, OwnedEntry>();
  readonly #held = new Map<string, number>();
  readonly #refusals = new Map<string, Map<MemoryRefusalCode, number>>();
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
  }) {
    this.#now = options.now;
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

  /** Stores `entry` under `key` for `owner`; a new key needs room in the owner's share. */
  set(key: string, owner: string, entry: Entry): void {
    if (!this.#entries.has(key)) {
      this.#makeRoomFor(owner);
      this.#count(owner, +1);
    }
    this.#entries.set(key, { ...entry, owner });
  }

  delete(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    this.#count(entry.owner, -1);
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

  close(): void {
    clearInterval(this.#sweeper);
    this.#entries.clear();
    this.#held.clear();
    this.#borrowed = 0;
  }

  #makeRoomFor(owner: string): void {
    if (this.#refusalFor(owner) === undefined) return;
    // At most one full sweep a second: a flood of refused puts must not cost a scan each.
    if (this.#now() - this.#lastSweep >= 1000) this.#sweep();
    const code = this.#refusalFor(owner);
    if (code === undefined) return;
    const byCode = this.#refusals.get(owner) ?? new Map<MemoryRefusalCode, number>();
    byCode.set(code, (byCode.get(code) ?? 0) + 1);
    this.#refusals.set(owner, byCode);
    throw code === 'FLOW_STORE_TENANT_FULL'
      ? new FlowStoreTenantFullError(`${this.#shares.mostPerTenant} entries held in memory`)
      : new FlowStoreFullError(this.#shares.shared);
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
