import { Redis, type RedisOptions } from 'ioredis';
import { assertTtl, type FlowStore, FlowStoreUnavailableError } from './flow-store.js';

/**
 * Flow store on Redis, shared by all replicas of a tenant. Every key gets a TTL and the tenant's
 * prefix. Commands fail fast while Redis is down (no offline queue), so callers answer 503 at once
 * instead of hanging; ioredis reconnects by itself and the store recovers when Redis returns.
 */
const READY_WAIT_MS = 1500;

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

  /** Waits briefly for a connection that is being (re)established; a down Redis fails within this bound. */
  async #ready(): Promise<void> {
    if (this.#redis.status === 'ready') return;
    if (this.#redis.status === 'end') throw new Error('connection closed');
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#redis.off('ready', onReady);
        reject(new Error(`not connected (${this.#redis.status})`));
      }, READY_WAIT_MS);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#redis.once('ready', onReady);
    });
  }

  async #call<T>(command: () => Promise<T>): Promise<T> {
    try {
      await this.#ready();
      return await command();
    } catch (err) {
      throw new FlowStoreUnavailableError(err);
    }
  }
}
