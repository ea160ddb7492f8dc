import type { ConnectionOptions } from 'node:tls';
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { assertTtl, type FlowStore, FlowStoreUnavailableError } from './flow-store.js';
import type { RedisAddress } from './redis-address.js';

/**
 * Flow store on Redis, shared by all replicas of a tenant. Every key gets a TTL and the tenant's
 * prefix. Every command has a deadline, so callers answer 503 within about a second instead of
 * hanging: commands fail at once while Redis is disconnected (no offline queue), within
 * READY_WAIT_MS while a connection is being made, and within COMMAND_TIMEOUT_MS when Redis is
 * connected but answers nothing (a stalled or SIGSTOPped server). A connection silent for
 * SOCKET_TIMEOUT_MS with commands pending is dropped and made again (half-open TCP). ioredis
 * reconnects by itself and the store recovers when Redis returns.
 */
const READY_WAIT_MS = 500;
const COMMAND_TIMEOUT_MS = 500;
const SOCKET_TIMEOUT_MS = 2000;
const CONNECT_TIMEOUT_MS = 1000;
const retryStrategy = (attempt: number) => Math.min(attempt * 200, 2000);

/** The deadlines every connection gets: data nodes, sentinels and cluster nodes alike. */
const DEADLINES = {
  connectTimeout: CONNECT_TIMEOUT_MS,
  commandTimeout: COMMAND_TIMEOUT_MS,
  socketTimeout: SOCKET_TIMEOUT_MS,
  maxRetriesPerRequest: 1,
} satisfies RedisOptions;

export class RedisFlowStore implements FlowStore {
  readonly #redis: Redis | Cluster;
  /** Why the last connection attempt failed (e.g. a certificate error), as the cause of "not connected". */
  #lastError: Error | undefined;

  constructor(redis: Redis | Cluster) {
    this.#redis = redis;
    // Connection errors are reported through ping()/readiness; ioredis would otherwise print them.
    redis.on('error', (err: Error) => {
      this.#lastError = err;
    });
    redis.on('ready', () => {
      this.#lastError = undefined;
    });
  }

  static connect(url: string, tenant: string, options: RedisOptions = {}): RedisFlowStore {
    const redis = new Redis(url, {
      keyPrefix: `jsm-sso:${tenant}:`,
      enableOfflineQueue: false,
      ...DEADLINES,
      retryStrategy,
      lazyConnect: false,
      ...options,
    });
    return new RedisFlowStore(redis);
  }

  /**
   * Connects to a standalone, Sentinel-managed or Cluster Redis. `tls` (required when the address
   * says TLS) applies to every connection: data nodes, and sentinels too.
   */
  static open(address: RedisAddress, tenant: string, tls?: ConnectionOptions): RedisFlowStore {
    if (address.tls && !tls) throw new Error('a TLS Redis address needs TLS options');
    const auth = {
      ...(address.username === undefined ? {} : { username: address.username }),
      ...(address.password === undefined ? {} : { password: address.password }),
    };
    const tlsOption = address.tls && tls ? { tls } : {};
    if (address.mode === 'cluster') {
      const options: ClusterOptions = {
        keyPrefix: `jsm-sso:${tenant}:`,
        enableOfflineQueue: false,
        clusterRetryStrategy: retryStrategy,
        slotsRefreshTimeout: COMMAND_TIMEOUT_MS,
        redisOptions: { ...auth, ...tlsOption, ...DEADLINES },
      };
      return new RedisFlowStore(new Cluster(address.nodes, options));
    }
    const [first] = address.nodes;
    const where: RedisOptions =
      address.mode === 'sentinel'
        ? {
            sentinels: address.nodes,
            ...(address.name === undefined ? {} : { name: address.name }),
            ...(address.tls && tls ? { enableTLSForSentinelMode: true, sentinelTLS: tls } : {}),
            sentinelRetryStrategy: retryStrategy,
            // Asking a stalled sentinel for the master must not hold up a reconnect either.
            sentinelCommandTimeout: COMMAND_TIMEOUT_MS,
          }
        : { host: first?.host ?? '127.0.0.1', port: first?.port ?? 6379 };
    const redis = new Redis({
      keyPrefix: `jsm-sso:${tenant}:`,
      enableOfflineQueue: false,
      ...DEADLINES,
      retryStrategy,
      ...where,
      ...auth,
      ...tlsOption,
      ...(address.db === undefined ? {} : { db: address.db }),
    });
    return new RedisFlowStore(redis);
  }

  /** The connection, for counters that live beside the flows (the portal's rate limits). */
  get client(): Redis | Cluster {
    return this.#redis;
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
        const cause = this.#lastError;
        reject(new Error(`not connected (${this.#redis.status})`, cause ? { cause } : undefined));
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
