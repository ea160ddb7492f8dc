import type { JsmSsoTenant } from '../config/load.js';
import { tenantId } from '../config/load.js';
import { JsmSsoError } from '../errors.js';
import type { Logger } from '../log.js';
import type { SecretReader } from '../pool/source.js';
import { isLoopbackHost, type RedisConnection, redisOptionsFor, redisTlsOptions } from '../tls/index.js';
import { MemoryFlowStore } from './memory-store.js';
import { parseRedisAddress } from './redis-address.js';
import { RedisFlowStore } from './redis-store.js';

/** A dedicated part's flow store: the tenant's spec.redis, else memory. */
export function createFlowStore(
  tenant: JsmSsoTenant,
  secrets: SecretReader,
  logger?: Logger,
): RedisFlowStore | MemoryFlowStore {
  const connection = redisOptionsFor(tenant, secrets);
  return connection ? openRedis(connection, tenantId(tenant), logger) : new MemoryFlowStore();
}

/** A pool's Redis, from its own settings (never a tenant's). */
export interface PoolRedis {
  url: string;
  /** Extra PEM CA certificates for a TLS URL. */
  caPem?: string;
}

/** A pool's one flow store (memory without Redis); each tenant gets a view() of it. */
export function createPoolFlowStore(
  redis: PoolRedis | undefined,
  logger?: Logger,
): RedisFlowStore | MemoryFlowStore {
  if (!redis) return new MemoryFlowStore();
  const address = parseRedisAddress(redis.url);
  if (redis.caPem !== undefined && !address.tls)
    throw new JsmSsoError(
      'REDIS_TLS_MISMATCH',
      "a CA bundle for the pool's Redis, whose URL is not a TLS one",
    );
  return openRedis(
    { address, ...(address.tls ? { tls: redisTlsOptions({ extraCaPem: redis.caPem }) } : {}) },
    undefined,
    logger,
  );
}

/** `tenant` undefined: a pool's connection, whose tenants are views. */
function openRedis(connection: RedisConnection, tenant: string | undefined, logger?: Logger): RedisFlowStore {
  const { address } = connection;
  if (!address.tls && !address.nodes.every((node) => isLoopbackHost(node.host))) {
    // Allowed for meshes that encrypt pod traffic themselves, but worth a line at every start.
    logger?.warn(
      { event: 'redis.plaintext', reason: 'REDIS_PLAINTEXT', mode: address.mode },
      'Redis is reached without TLS; use rediss://, sentinels:// or clusters:// unless the network encrypts it',
    );
  }
  return RedisFlowStore.open(address, tenant, connection.tls);
}
