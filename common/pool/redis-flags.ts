// The pool's own Redis, from its command-line flags: `broker|portal --pool-dir|--pool` serve over it, and
// `jsm-sso purge` deletes a pooled tenant's keys from it (ADR 0418). Its own module so that the purge (a Job's
// one command) loads no part of the serving runtime.
import { readFileSync } from 'node:fs';
import { type OptionSpec, type ParsedOptions, UsageError } from '../args.js';
import { JsmSsoError } from '../errors.js';
import type { PoolRedis } from '../flowstore/open.js';

/** The flags naming the pool's own Redis (never a tenant's spec.redis). */
export const POOL_REDIS_OPTIONS: Record<string, OptionSpec> = {
  'redis-url-file': {
    type: 'string',
    value: 'FILE',
    description:
      "Pool only: a file holding the pool's Redis URL (redis[s]://, sentinel[s]://, cluster[s]://); default $REDIS_URL, else memory. Tenants' spec.redis is ignored in a pool.",
  },
  'redis-ca-file': {
    type: 'string',
    value: 'FILE',
    description: "Pool only: PEM CA certificates trusted for the pool's Redis, besides the public roots.",
  },
  'redis-client-cert-file': {
    type: 'string',
    value: 'FILE',
    description:
      "Pool only: PEM client certificate chain for the pool's Redis over TLS (a server with tls-auth-clients); with --redis-client-key-file.",
  },
  'redis-client-key-file': {
    type: 'string',
    value: 'FILE',
    description: 'Pool only: PEM private key for --redis-client-cert-file.',
  },
};

/** The pool's Redis: --redis-url-file, else $REDIS_URL (local runs), else none (memory). */
export function poolRedisFrom(values: ParsedOptions): PoolRedis | undefined {
  const flag = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  const file = flag('redis-url-file');
  const caFile = flag('redis-ca-file');
  const certFile = flag('redis-client-cert-file');
  const keyFile = flag('redis-client-key-file');
  if ((certFile === undefined) !== (keyFile === undefined))
    throw new UsageError('--redis-client-cert-file and --redis-client-key-file go together');
  const url = file === undefined ? process.env['REDIS_URL'] : readSettingFile(file, 'Redis URL').trim();
  if (url === undefined || url === '') {
    const tlsFlag =
      caFile !== undefined ? 'redis-ca-file' : certFile !== undefined ? 'redis-client-cert-file' : '';
    if (tlsFlag !== '') throw new UsageError(`--${tlsFlag} needs a Redis URL`);
    return undefined;
  }
  return {
    url,
    ...(caFile === undefined ? {} : { caPem: readSettingFile(caFile, 'Redis CA bundle') }),
    ...(certFile === undefined || keyFile === undefined
      ? {}
      : {
          clientCert: {
            cert: readSettingFile(certFile, 'Redis client certificate'),
            key: readSettingFile(keyFile, 'Redis client key'),
          },
        }),
  };
}

function readSettingFile(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new JsmSsoError(
      'SECRET_MISSING',
      `cannot read the ${what} file ${file} (${(err as NodeJS.ErrnoException).code})`,
      { cause: err },
    );
  }
}
