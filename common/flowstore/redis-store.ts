import { Redis, type RedisOptions } from 'ioredis';
import { type FlowStore, FlowStoreUnavailableError, assertTtl } from './flow-store.js';

/**
 * Flow store on Redis, shared by all replicas of a tenant. Every key gets a TTL and the tenant's
 * prefix. Commands fail fast while Redis is down (no offline queue), so callers answer 503 at once
 * instead of hanging; ioredis reconnects by itself and the store recovers when Redis returns.
 */
export class RedisFlowStore implements FlowStore {
  readonly #redis: Redis;

  constructor(redis: Redis) {
    this.#redis = redis;
  }

  static connect(url: string, tenant: string, options: RedisOptions = {}): RedisFlowStore {
    const redis = new Redis(url, {
      keyPrefix: `jsm-sso:${tenant}:`,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
      lazyConnect: false,
      ...options,
    });
    // Connection errors are reported through ping()/readiness; ioredis would otherwise print them.
    redis.on('error', () => {});
    return new RedisFlowStore(redis);
  }

  async put(key: string, value: string, ttlSeconds: number): Promise<void> {
    assertTtl(ttlSeconds);
    await this.#call(() => this.#redis.set(key, value, 'EX', ttlSeconds));
  }

  async putIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    assertTtl(ttlSeconds);
    return (await this.#call(() => this.#redis.set(key, value, 'EX', ttlSeconds, 'NX'))) === 'OK';
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.#call(() => this.#redis.get(key))) ?? undefined;
  }

  async take(key: string): Promise<string | undefined> {
    return (await this.#call(() => this.#redis.getdel(key))) ?? undefined;
  }

  async delete(key: string): Promise<void> {
    await this.#call(() => this.#redis.del(key));
  }

  async ping(): Promise<void> {
    await this.#call(() => this.#redis.ping());
  }

  async close(): Promise<void> {
    this.#redis.disconnect();
  }

  async #call<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (err) {
      throw new FlowStoreUnavailableError(err);
    }
  }
}
