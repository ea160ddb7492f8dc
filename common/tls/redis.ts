import { type ConnectionOptions, createSecureContext } from 'node:tls';
import type { TenantStoreFields } from '../config/load.js';
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
  if (input.clientCert) checkClientCertificate(input.clientCert);
  return {
    minVersion: MIN_TLS_VERSION,
    rejectUnauthorized: true,
    ...(input.extraCaPem === undefined ? {} : { ca: trustedCas(input.extraCaPem) }),
    ...(input.clientCert ? { cert: input.clientCert.cert, key: input.clientCert.key } : {}),
  };
}

/**
 * A client certificate whose chain or key does not load, or whose key is not the certificate's, is
 * refused at start: otherwise every connection attempt would fail later as an unexplained outage.
 */
function checkClientCertificate(pair: { cert: string; key: string }): void {
  try {
    createSecureContext({ cert: pair.cert, key: pair.key });
  } catch (err) {
    // OpenSSL's code only (e.g. ERR_OSSL_X509_KEY_VALUES_MISMATCH): never the PEM.
    const code = (err as { code?: string }).code ?? 'unknown';
    throw new JsmSsoError(
      'REDIS_CLIENT_CERT_INVALID',
      `the Redis client certificate and key cannot be used together (${code})`,
      { cause: err },
    );
  }
}

/**
 * A Redis URL and the TLS material meant for it, checked together: a CA bundle or client
 * certificate with a plain URL is refused rather than ignored, since the operator meant TLS.
 * `whose` names the setting in the message (`spec.redis`, "the pool's Redis").
 */
export function redisConnection(url: string, input: RedisTlsInput, whose: string): RedisConnection {
  const address = parseRedisAddress(url);
  if (address.tls) return { address, tls: redisTlsOptions(input) };
  if (input.extraCaPem !== undefined || input.clientCert !== undefined) {
    throw new JsmSsoError(
      'REDIS_TLS_MISMATCH',
      `${whose} has a CA bundle or client certificate but its URL is not a TLS one (rediss://, sentinels://, clusters://)`,
    );
  }
  return { address };
}

/**
 * The tenant's Redis connection from `spec.redis`: the URL Secret (redis/rediss, sentinel(s),
 * cluster(s)), `caBundleSecretRef` and `clientCertSecretRef`. Undefined when the tenant has no Redis.
 */
export function redisOptionsFor(
  tenant: TenantStoreFields,
  secrets: SecretReader,
): RedisConnection | undefined {
  const redis = tenant.spec.redis;
  if (!redis) return undefined;
  const client = redis.clientCertSecretRef;
  return redisConnection(
    secrets.read(redis.urlSecretRef.name, redis.urlSecretRef.key),
    {
      extraCaPem: caBundleFor(secrets, redis.caBundleSecretRef),
      clientCert: client
        ? { cert: secrets.read(client.name, 'tls.crt'), key: secrets.read(client.name, 'tls.key') }
        : undefined,
    },
    'spec.redis',
  );
}
