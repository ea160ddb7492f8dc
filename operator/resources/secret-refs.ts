import type { JsmSsoTenant } from '../../common/config/load.js';
import { signingSecretName } from '../../common/config/signing-secrets.js';
import type { RedisSpec } from '../../common/config/tenant.generated.js';

export { signingSecretName } from '../../common/config/signing-secrets.js';

import type { Part } from './common.js';

/**
 * Which Secret keys each part reads. This is the least-privilege rule in one place: the broker
 * never sees the Atlassian credentials, the portal never sees the IdP client secrets, and neither
 * sees the other's private key.
 */
export interface SecretKeyUse {
  secret: string;
  key: string;
  /** Optional keys (next.crt/next.key) are mounted only when present. */
  optional?: boolean;
  /** The other half of an optional pair: this key is missing when that one is there (ADR 0346). */
  pairedWith?: string;
}

/** The two keys of a kubernetes.io/tls Secret. */
export function tlsPair(secret: string): SecretKeyUse[] {
  return [
    { secret, key: 'tls.crt' },
    { secret, key: 'tls.key' },
  ];
}

/** The keys of a Redis connection (a tenant's spec.redis, or a pool's). */
export function redisKeys(redis: RedisSpec | undefined): SecretKeyUse[] {
  if (!redis) return [];
  const uses: SecretKeyUse[] = [{ secret: redis.urlSecretRef.name, key: redis.urlSecretRef.key }];
  if (redis.caBundleSecretRef)
    uses.push({ secret: redis.caBundleSecretRef.name, key: redis.caBundleSecretRef.key });
  if (redis.clientCertSecretRef) uses.push(...tlsPair(redis.clientCertSecretRef.name));
  return uses;
}

/**
 * Every Secret an IdP's protocol block names (`clientSecretRef`, `privateKeySecretRef`,
 * `caBundleSecretRef`...), found by the schema's naming rule for Secret references, so that an IdP
 * kind added to the schema needs no change here (issue 10 item 1).
 */
function identityProviderKeys(tenant: JsmSsoTenant): SecretKeyUse[] {
  return tenant.spec.identityProviders.flatMap((idp) =>
    Object.values(idp)
      .filter((block): block is Record<string, unknown> => typeof block === 'object' && block !== null)
      .flatMap((block) =>
        Object.entries(block)
          .filter(([field, ref]) => field.endsWith('SecretRef') && isSecretKeyRef(ref))
          .map(([, ref]) => {
            const { name, key } = ref as { name: string; key: string };
            return { secret: name, key };
          }),
      ),
  );
}

function isSecretKeyRef(value: unknown): boolean {
  const ref = value as { name?: unknown; key?: unknown } | null;
  return typeof ref?.name === 'string' && typeof ref.key === 'string';
}

/**
 * Every Secret key the part's pods mount, deduplicated, in a stable order. `listenerTls: false`
 * leaves out the part's own listener certificate (spec.<part>.tlsSecretRef), for a pool part that
 * does not serve TLS and so must not be given the key (ADR 0125).
 */
export function secretKeysFor(
  tenant: JsmSsoTenant,
  part: Part,
  { listenerTls = true }: { listenerTls?: boolean } = {},
): SecretKeyUse[] {
  const signing = signingSecretName(tenant, part);
  const uses: SecretKeyUse[] = [
    ...tlsPair(signing),
    // The broker publishes its next certificate in its metadata. Each part opens with its next key
    // what it sealed under the key held beside its signing key during a rotation (ADR 0298).
    ...(part === 'broker' ? [{ secret: signing, key: 'next.crt', optional: true }] : []),
    { secret: signing, key: 'next.key', optional: true },
    ...(part === 'broker'
      ? [...identityProviderKeys(tenant), ...encryptionKeys(tenant)]
      : atlassianKeys(tenant)),
    ...redisKeys(tenant.spec.redis),
  ];
  const tls = part === 'broker' ? tenant.spec.broker.tlsSecretRef : tenant.spec.portal.tlsSecretRef;
  if (tls && listenerTls) uses.push(...tlsPair(tls.name));
  const seen = new Set<string>();
  return uses
    .filter((u) => {
      const id = `${u.secret}/${u.key}`;
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    })
    .sort((a, b) => (a.secret === b.secret ? cmp(a.key, b.key) : cmp(a.secret, b.secret)));
}

/** The broker's decryption key pair and, during a rollover, the next one (ADR 0338). */
function encryptionKeys(tenant: JsmSsoTenant): SecretKeyUse[] {
  const secret = tenant.spec.broker.encryptionSecretRef?.name;
  if (!secret) return [];
  return [
    ...tlsPair(secret),
    { secret, key: 'next.crt', optional: true, pairedWith: 'next.key' },
    { secret, key: 'next.key', optional: true, pairedWith: 'next.crt' },
  ];
}

function atlassianKeys(tenant: JsmSsoTenant): SecretKeyUse[] {
  const { credentialsSecretRef, caBundleSecretRef } = tenant.spec.atlassian;
  const uses: SecretKeyUse[] = [
    { secret: credentialsSecretRef.name, key: 'email' },
    { secret: credentialsSecretRef.name, key: 'apiToken' },
  ];
  if (caBundleSecretRef) uses.push({ secret: caBundleSecretRef.name, key: caBundleSecretRef.key });
  return uses;
}

/** All Secret keys the tenant needs, for the ConfigValid check and the Secret-to-tenant index. */
export function allSecretKeys(tenant: JsmSsoTenant): SecretKeyUse[] {
  return [...secretKeysFor(tenant, 'broker'), ...secretKeysFor(tenant, 'portal')];
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
