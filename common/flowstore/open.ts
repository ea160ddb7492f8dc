import type { TenantStoreFields } from '../config/load.js';
import { tenantId } from '../config/load.js';
import type { Logger } from '../log.js';
import type { SecretReader } from '../pool/source.js';
import { isLoopbackHost, type RedisConnection, redisConnection, redisOptionsFor } from '../tls/index.js';
import { tenantKeyspace } from './flow-store.js';
import { MemoryFlowStore, POOL_MEMORY_STORE_SHARES } from './memory-store.js';
import { RedisFlowStore, type RedisFlowStoreOptions } from './redis-store.js';

/**
 * A dedicated part's flow store: the tenant's spec.redis, else memory. In Redis, the keys of the
 * tenant's incarnation when its document carries its uid (the operator writes it): a tenant re-created
 * under its name, on a Redis another tenant may share, inherits nothing (ADR 0379). `options`: tests'
 * only (RedisFlowStore.open).
 */
export function createFlowStore(
  tenant: TenantStoreFields,
  secrets: SecretReader,
  logger?: Logger,
  options?: RedisFlowStoreOptions,
): RedisFlowStore | MemoryFlowStore {
  const connection = redisOptionsFor(tenant, secrets);
  return connection
    ? openRedis(connection, tenantKeyspace(tenantId(tenant), tenant.metadata?.uid), logger, options)
    : new MemoryFlowStore(logger ? { logger } : {});
}

/** A pool's Redis, from its own settings (never a tenant's). */
export interface PoolRedis {
  url: string;
  /** Extra PEM CA certificates for a TLS URL. */
  caPem?: string;
  /** Client certificate chain and key, for a Redis that requires one (`tls-auth-clients yes`). */
  clientCert?: { cert: string; key: string };
}

/**
 * A pool's one flow store; each tenant gets a view() of it. Without Redis, memory with a share of it
 * reserved for each tenant (POOL_MEMORY_STORE_SHARES, ADR 0197).
 */
export function createPoolFlowStore(
  redis: PoolRedis | undefined,
  logger?: Logger,
): RedisFlowStore | MemoryFlowStore {
  if (!redis)
    return new MemoryFlowStore({ tenantShares: POOL_MEMORY_STORE_SHARES, ...(logger ? { logger } : {}) });
  const connection = redisConnection(
    redis.url,
    { extraCaPem: redis.caPem, clientCert: redis.clientCert },
    "the pool's Redis",
  );
  return openRedis(connection, undefined, logger);
}

/** `keyspace` (flow-store.ts:tenantKeyspace) undefined: a pool's connection, whose tenants are views. */
function openRedis(
  connection: RedisConnection,
  keyspace: string | undefined,
  logger?: Logger,
  options?: RedisFlowStoreOptions,
): RedisFlowStore {
  const { address } = connection;
  if (!address.tls && !address.nodes.every((node) => isLoopbackHost(node.host))) {
    // Allowed for meshes that encrypt pod traffic themselves, but worth a line at every start.
    logger?.warn(
      { event: 'redis.plaintext', reason: 'REDIS_PLAINTEXT', mode: address.mode },
      'Redis is reached without TLS; use rediss://, sentinels:// or clusters:// unless the network encrypts it',
    );
  }
  return RedisFlowStore.open(address, keyspace, connection.tls, options);
}
