import type { ConnectionOptions } from 'node:tls';
import type { JsmSsoTenant } from '../config/load.js';
import { JsmSsoError } from '../errors.js';
import { parseRedisAddress, type RedisAddress } from '../flowstore/redis-address.js';
import type { SecretReader } from '../pool/source.js';
import { caBundleFor, trustedCas } from './ca-bundle.js';
import { MIN_TLS_VERSION } from './versions.js';

/** How to reach the tenant's Redis: where, and with which TLS settings (set exactly when `address.tls`). */
export interface RedisConnection {
  address: RedisAddress;
  tls?: ConnectionOptions;
}

export interface RedisTlsInput {
  /** Extra PEM CA certificates, trusted in addition to the public roots. */
  extraCaPem?: string | undefined;
  /** Client certificate chain and key, for servers that ask for one (`tls-auth-clients`). */
  clientCert?: { cert: string; key: string } | undefined;
}

/** TLS options for Redis connections: verification always on, TLS 1.2 or higher. */
export function redisTlsOptions(input: RedisTlsInput): ConnectionOptions {
  return {
    minVersion: MIN_TLS_VERSION,
    rejectUnauthorized: true,
    ...(input.extraCaPem === undefined ? {} : { ca: trustedCas(input.extraCaPem) }),
    ...(input.clientCert ? { cert: input.clientCert.cert, key: input.clientCert.key } : {}),
  };
}

/**
 * The tenant's Redis connection from `spec.redis`: the URL Secret (redis/rediss, sentinel(s),
 * cluster(s)), `caBundleSecretRef` and `clientCertSecretRef`. Undefined when the tenant has no
 * Redis. A CA bundle or client certificate with a plain URL is refused rather than ignored: the
 * operator meant TLS.
 */
export function redisOptionsFor(tenant: JsmSsoTenant, secrets: SecretReader): RedisConnection | undefined {
  const redis = tenant.spec.redis;
  if (!redis) return undefined;
  const address = parseRedisAddress(secrets.read(redis.urlSecretRef.name, redis.urlSecretRef.key));
  const wantsTls = redis.caBundleSecretRef !== undefined || redis.clientCertSecretRef !== undefined;
  if (!address.tls) {
    if (wantsTls) {
      throw new JsmSsoError(
        'REDIS_TLS_MISMATCH',
        'spec.redis has a CA bundle or client certificate but its URL is not a TLS one (rediss://, sentinels://, clusters://)',
      );
    }
    return { address };
  }
  const client = redis.clientCertSecretRef;
  return {
    address,
    tls: redisTlsOptions({
      extraCaPem: caBundleFor(secrets, redis.caBundleSecretRef),
      clientCert: client
        ? { cert: secrets.read(client.name, 'tls.crt'), key: secrets.read(client.name, 'tls.key') }
        : undefined,
    }),
  };
}
