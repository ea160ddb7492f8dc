import type { Logger } from '../log.js';
import {
  assertFirstFreeArguments,
  assertTtl,
  type FlowStore,
  tenantKeyspace,
  type WriteOptions,
} from './flow-store.js';
import { MemoryEntries, type TenantShares } from './memory-entries.js';
import { TenantFlowStoreView } from './tenant-view.js';

export { FlowStoreFullError, type TenantShares } from './memory-entries.js';

/** Entries a memory store holds at most unless told otherwise: a few hundred bytes to a few KB each. */
export const DEFAULT_MEMORY_STORE_MAX_ENTRIES = 20_000;

/**
 * A pool's memory store without Redis (ADR 0197): 1,000 entries reserved for each tenant (500
 * sessions, or 1,000 sign-ins in flight), and the 20,000 a dedicated part holds shared beyond that,
 * at most a quarter of it to one tenant. A pool of N tenants holds at most 1,000 × N + 20,000.
 */
export const POOL_MEMORY_STORE_SHARES: TenantShares = {
  reservedPerTenant: 1_000,
  shared: DEFAULT_MEMORY_STORE_MAX_ENTRIES,
  mostPerTenant: 1_000 + DEFAULT_MEMORY_STORE_MAX_ENTRIES / 4,
};

export interface MemoryFlowStoreOptions {
  now?: () => number;
  sweepIntervalMs?: number;
  /** A dedicated part's store: entries it holds at most (DEFAULT_MEMORY_STORE_MAX_ENTRIES). */
  maxEntries?: number;
  /** A pool's store: each tenant's share of the room, for the tenants' view()s. */
  tenantShares?: TenantShares;
  /** Where the first eviction of each owner's sessions is told (ADR 0357). */
  logger?: Logger;
}

/**
 * Single-process flow store. It holds at most `maxEntries` (a pool's: its `tenantShares`): a new key
 * beyond that first evicts its owner's evictable entries (sessions, WriteOptions), the oldest first,
 * and with none left is refused with FlowStoreFullError or FlowStoreTenantFullError (after expired
 * entries are swept), so memory stays bounded whatever arrives and completed sign-ins never keep new
 * ones out (ADR 0357).
 */
export class MemoryFlowStore implements FlowStore {
  readonly #entries: MemoryEntries;
  /** Whose entries this store writes: '' for the store itself, a tenant for a pool's view. */
  readonly #owner: string;

  /** `viewOf` is view()'s: the pool store's entries, written as one tenant's. */
  constructor(options: MemoryFlowStoreOptions = {}, viewOf?: { entries: MemoryEntries; owner: string }) {
    this.#entries =
      viewOf?.entries ??
      new MemoryEntries({
        now: options.now ?? Date.now,
        sweepIntervalMs: options.sweepIntervalMs ?? 5000,
        maxEntries: options.maxEntries ?? DEFAULT_MEMORY_STORE_MAX_ENTRIES,
        ...(options.tenantShares ? { shares: options.tenantShares } : {}),
        onFirstEviction: (owner) =>
          options.logger?.warn(
            {
              event: 'flow_store.sessions_evicted',
              reason: 'FLOW_STORE_SESSIONS_EVICTED',
              ...(owner ? { tenant: owner } : {}),
            },
            'the memory flow store is full: the oldest sessions make room for new entries, and an IdP logout no longer reaches them',
          ),
      });
    this.#owner = viewOf?.owner ?? '';
  }

  async put(key: string, value: string, ttlSeconds: number, options?: WriteOptions): Promise<void> {
    assertTtl(ttlSeconds);
    this.#set(key, value, ttlSeconds, options?.evictable ?? false);
  }

  async putIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    assertTtl(ttlSeconds);
    if (this.#entries.live(key)) return false;
    this.#set(key, value, ttlSeconds, false);
    return true;
  }

  /** A process's memory forgets only with the process, and its sessions with it: every claim can be vouched for. */
  claim(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    return this.putIfAbsent(key, value, ttlSeconds);
  }

  async putInFirstFree(
    keys: readonly string[],
    value: string,
    ttlSeconds: number,
    whenAllTaken: number,
    options?: WriteOptions,
  ): Promise<number> {
    assertFirstFreeArguments(keys, ttlSeconds, whenAllTaken);
    const free = keys.findIndex((key) => !this.#entries.live(key));
    const index = free === -1 ? whenAllTaken : free;
    await this.put(keys[index]!, value, ttlSeconds, options);
    return index;
  }

  async get(key: string): Promise<string | undefined> {
    return this.#entries.live(key)?.value;
  }

  async take(key: string): Promise<string | undefined> {
    const entry = this.#entries.live(key);
    this.#entries.delete(key);
    return entry?.value;
  }

  async takeLeaving(key: string, marker: string, ttlSeconds: number): Promise<string | undefined> {
    assertTtl(ttlSeconds);
    const entry = this.#entries.live(key);
    // What is left behind tells a replay: never evictable, whatever the value was.
    if (entry) this.#set(key, marker, ttlSeconds, false);
    return entry?.value;
  }

  async delete(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  async deleteHolding(keys: readonly string[], value: string): Promise<void> {
    for (const key of keys) if (this.#entries.live(key)?.value === value) this.#entries.delete(key);
  }

  async ping(): Promise<void> {}

  /**
   * One tenant's keys in a pool's memory store, held within the tenant's share of its room; with a
   * uid, its incarnation's own keys (tenantKeyspace, ADR 0371), in the one share of its name.
   */
  view(tenant: string, uid?: string): FlowStore {
    return new TenantFlowStoreView(
      new MemoryFlowStore({}, { entries: this.#entries, owner: tenant }),
      tenantKeyspace(tenant, uid),
    );
  }

  /** As RedisFlowStore.purge: the incarnation `uid` of `tenant` is gone (ADR 0390). */
  async purge(tenant: string, uid: string): Promise<number> {
    return this.#entries.deleteStartingWith(`${tenantKeyspace(tenant, uid)}:`);
  }

  /** New keys refused so far, by tenant and code (a pool's metric; '' is a dedicated part's). */
  get refusals(): MemoryEntries['refusals'] {
    return this.#entries.refusals;
  }

  async close(): Promise<void> {
    this.#entries.close();
  }

  /** Evictable entries dropped to make room so far, by tenant ('' is a dedicated part's). */
  get evictions(): MemoryEntries['evictions'] {
    return this.#entries.evictions;
  }

  /** Forgets a pool tenant's refusal and eviction counts: it left the pool (ADR 0367). */
  forgetCounts(tenant: string): void {
    this.#entries.forgetCounts(tenant);
  }

  evictedEntriesLive(): boolean {
    return this.#entries.evictedEntriesLive(this.#owner);
  }

  /** Number of live entries; for memory benchmarks and tests. */
  get size(): number {
    return this.#entries.size;
  }

  #set(key: string, value: string, ttlSeconds: number, evictable: boolean): void {
    const expiresAt = this.#entries.now + ttlSeconds * 1000;
    this.#entries.set(key, this.#owner, { value, expiresAt }, evictable);
  }
}
