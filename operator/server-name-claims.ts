import type { JsmSsoTenant } from '../common/config/load.js';
import type { JsmSsoPool } from '../common/config/pool.generated.js';
import { byServerNameClaim } from '../common/pool/claims.js';
import { hostServerName } from '../common/pool/host-routing.js';
import type { OperatorReason } from './errors.js';
import {
  claimedText,
  type HostClaimsCache,
  type HostConflict,
  othersClaims,
  ownClaim,
  type PlacedClaim,
  type PoolRef,
} from './host-claims.js';
import { PARTS, type Part } from './resources/common.js';
import { servesTls } from './resources/projection.js';
import type { ConditionInput } from './status.js';

/**
 * Whose certificate a pool's TLS listener serves for a pooled tenant's host name (ADR 0235). SNI
 * carries no port, so tenants at `sso.acme.example` and `sso.acme.example:8443` share one server name,
 * and the pool serves one certificate for it: the one of the tenant whose claim on its own host is
 * earliest (ADR 0230, `TenantPool.bundleForServerName`). The others are served at their own hosts, with
 * that tenant's certificate. The operator applies the same rule (common/pool/claims.ts:byServerNameClaim)
 * to the same facts (every projection of the pool, as host-claims.ts reads them) and tells them, in a
 * condition of its own, TLSCertificateServed: they are served, so neither PoolReady nor Ready turns
 * False for it.
 */
const CERTIFICATE_SERVED_REASON: OperatorReason = 'CertificateServed';
const SERVER_NAME_CLAIMED_REASON: OperatorReason = 'ServerNameClaimedByEarlierTenant';

/** A part whose certificate the pool would serve, and the claim whose tenant's certificate it serves. */
interface Judged {
  part: Part;
  own: PlacedClaim;
  holder: PlacedClaim;
}

/**
 * TLSCertificateServed for a tenant of `pool`: only for the parts whose certificate the pool would
 * serve (the tenant's spec.<part>.tlsSecretRef, the pool's spec.<part>.tls) at a host the pool serves
 * the tenant at (its projection's claim, and none of `conflicts`: those PoolReady tells); undefined
 * when there is none. Its message names only hosts, parts and claims, so an unchanged pool writes
 * nothing on a resync.
 */
export function tlsCertificateCondition(
  cache: HostClaimsCache,
  tenant: JsmSsoTenant,
  pool: JsmSsoPool,
  ref: PoolRef,
  conflicts: readonly HostConflict[],
): ConditionInput | undefined {
  const served = PARTS.filter(
    (part) =>
      tenant.spec[part].tlsSecretRef && servesTls(pool, part) && !conflicts.some((c) => c.part === part),
  );
  const judged = served.flatMap((part): Judged[] => {
    const own = ownClaim(cache, tenant, ref, part);
    if (!own) return [];
    const others = othersClaims(cache, tenant, ref, part);
    return [{ part, own, holder: [own, ...others].sort(byServerNameClaim)[0] ?? own }];
  });
  if (judged.length === 0) return undefined;
  const poolName = `JsmSsoPool ${ref.namespace}/${ref.name}`;
  const passedOver = judged.filter(({ own, holder }) => holder.key !== own.key);
  if (passedOver.length === 0)
    return {
      status: 'True',
      reason: CERTIFICATE_SERVED_REASON,
      message: `${poolName} serves this tenant's ${judged
        .map(({ part, own }) => `spec.${part}.tlsSecretRef to clients naming ${hostServerName(own.host)}`)
        .join(' and its ')}`,
    };
  const which = passedOver
    .map(
      ({ part, own, holder }) =>
        `its ${part} at ${own.host} (spec.${part}.tlsSecretRef): clients naming ${hostServerName(own.host)} get the certificate of JsmSsoTenant ${holder.key}, or the pool's default if that tenant has none, since that tenant named its host ${holder.host} first (${claimedText(holder, ref)})`,
    )
    .join('; ');
  return {
    status: 'False',
    reason: SERVER_NAME_CLAIMED_REASON,
    message: `${poolName} does not serve this tenant's own certificate for ${which}. A TLS client names a host without its port, so tenants on one host name share one certificate; this tenant's requests are served all the same. Its certificate is served once that tenant leaves the pool or changes its host name, or give this tenant a host name of its own`,
  };
}
