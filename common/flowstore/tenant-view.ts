import type { FlowStore, WriteOptions } from './flow-store.js';

/**
 * One tenant's keys inside a store a pool shares: every key gets `<tenant>:` in front, and closing
 * the view leaves the shared store open (the pool closes it once). Used over the pool's memory
 * store; a Redis store makes its own views (RedisFlowStore.view) so the rate limiter sees the prefix.
 */
export class TenantFlowStoreView implements FlowStore {
  readonly #store: FlowStore;
  readonly #prefix: string;

  /** `keyspace`: the tenant's (flow-store.ts:tenantKeyspace). */
  constructor(store: FlowStore, keyspace: string) {
    this.#store = store;
    this.#prefix = `${keyspace}:`;
  }

  put(key: string, value: string, ttlSeconds: number, options?: WriteOptions): Promise<void> {
    return this.#store.put(this.#prefix + key, value, ttlSeconds, options);
  }

  putIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    return this.#store.putIfAbsent(this.#prefix + key, value, ttlSeconds);
  }

  claim(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    return this.#store.claim(this.#prefix + key, value, ttlSeconds);
  }

  putInFirstFree(
    keys: readonly string[],
    value: string,
    ttlSeconds: number,
    whenAllTaken: number,
    options?: WriteOptions,
  ): Promise<number> {
    return this.#store.putInFirstFree(
      keys.map((key) => this.#prefix + key),
      value,
      ttlSeconds,
      whenAllTaken,
      options,
    );
  }

  get(key: string): Promise<string | undefined> {
    return this.#store.get(this.#prefix + key);
  }

  take(key: string): Promise<string | undefined> {
    return this.#store.take(this.#prefix + key);
  }

  takeLeaving(key: string, marker: string, ttlSeconds: number): Promise<string | undefined> {
    return this.#store.takeLeaving(this.#prefix + key, marker, ttlSeconds);
  }

  delete(key: string): Promise<void> {
    return this.#store.delete(this.#prefix + key);
  }

  deleteHolding(keys: readonly string[], value: string): Promise<void> {
    return this.#store.deleteHolding(
      keys.map((key) => this.#prefix + key),
      value,
    );
  }

  ping(): Promise<void> {
    return this.#store.ping();
  }

  /** The tenant's own evictions only: a pool's memory store evicts a tenant's sessions for its own keys. */
  evictedEntriesLive(): boolean {
    return this.#store.evictedEntriesLive?.() ?? false;
  }

  async close(): Promise<void> {}
}
