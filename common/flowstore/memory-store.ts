import { JsmSsoError } from '../errors.js';
import { assertFirstFreeArguments, assertTtl, type FlowStore } from './flow-store.js';
import { TenantFlowStoreView } from './tenant-view.js';

/** Entries a memory store holds at most unless told otherwise: a few hundred bytes to a few KB each. */
export const DEFAULT_MEMORY_STORE_MAX_ENTRIES = 20_000;

/**
 * The memory store is full: new flows are refused (503) rather than letting anonymous sign-in
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

interface Entry {
  value: string;
  expiresAt: number;
}

/**
 * Single-process flow store. Expired entries are invisible at once and swept every few seconds. It
 * holds at most `maxEntries`: a new key beyond that is refused with FlowStoreFullError (after expired
 * entries are swept), so memory stays bounded whatever arrives.
 */
export class MemoryFlowStore implements FlowStore {
  readonly #entries = new Map<string, Entry>();
  readonly #sweeper: NodeJS.Timeout;
  readonly #now: () => number;
  readonly #maxEntries: number;
  #lastSweep = 0;

  constructor(options: { now?: () => number; sweepIntervalMs?: number; maxEntries?: number } = {}) {
    this.#now = options.now ?? Date.now;
    this.#maxEntries = options.maxEntries ?? DEFAULT_MEMORY_STORE_MAX_ENTRIES;
    this.#sweeper = setInterval(() => this.#sweep(), options.sweepIntervalMs ?? 5000);
    this.#sweeper.unref();
  }

  async put(key: string, value: string, ttlSeconds: number): Promise<void> {
    assertTtl(ttlSeconds);
    this.#makeRoomFor(key);
    this.#entries.set(key, { value, expiresAt: this.#now() + ttlSeconds * 1000 });
  }

  async putIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    assertTtl(ttlSeconds);
    if (this.#live(key)) return false;
    this.#makeRoomFor(key);
    this.#entries.set(key, { value, expiresAt: this.#now() + ttlSeconds * 1000 });
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
  ): Promise<number> {
    assertFirstFreeArguments(keys, ttlSeconds, whenAllTaken);
    const free = keys.findIndex((key) => !this.#live(key));
    const index = free === -1 ? whenAllTaken : free;
    await this.put(keys[index]!, value, ttlSeconds);
    return index;
  }

  async get(key: string): Promise<string | undefined> {
    return this.#live(key)?.value;
  }

  async take(key: string): Promise<string | undefined> {
    const entry = this.#live(key);
    this.#entries.delete(key);
    return entry?.value;
  }

  async takeLeaving(key: string, marker: string, ttlSeconds: number): Promise<string | undefined> {
    assertTtl(ttlSeconds);
    const entry = this.#live(key);
    if (entry) this.#entries.set(key, { value: marker, expiresAt: this.#now() + ttlSeconds * 1000 });
    return entry?.value;
  }

  async delete(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  async deleteHolding(keys: readonly string[], value: string): Promise<void> {
    for (const key of keys) if (this.#live(key)?.value === value) this.#entries.delete(key);
  }

  async ping(): Promise<void> {}

  /** One tenant's keys in a pool's memory store (the cap is the pool's, shared). */
  view(tenant: string): FlowStore {
    return new TenantFlowStoreView(this, tenant);
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#entries.clear();
  }

  /** Number of live entries; for memory benchmarks and tests. */
  get size(): number {
    this.#sweep();
    return this.#entries.size;
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry && entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Replacing a key never needs room; a new one does, once the expired entries are gone. */
  #makeRoomFor(key: string): void {
    if (this.#entries.has(key) || this.#entries.size < this.#maxEntries) return;
    // At most one full sweep a second: a flood of refused puts must not cost a scan each.
    if (this.#now() - this.#lastSweep >= 1000) this.#sweep();
    if (this.#entries.size >= this.#maxEntries) throw new FlowStoreFullError(this.#maxEntries);
  }

  #sweep(): void {
    const now = this.#now();
    this.#lastSweep = now;
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(key);
  }
}
