import type { JsmSsoTenant } from '../common/config/load.js';
import type { KubeObject } from '../common/kube/client.js';
import {
  byClaim,
  type Claim,
  claimsBefore,
  type HostClaims,
  hostClaimedAt,
  projectionClaimTimes,
} from '../common/pool/claims.js';
import { urlHostKey } from '../common/pool/host-routing.js';
import type { OperatorReason } from './errors.js';
import { PARTS, type Part, tenantName, tenantNamespace } from './resources/common.js';
import { heldProjectionName, POOL_LABEL, placedFor } from './resources/projection.js';
import type { ConditionInput } from './status.js';

/**
 * Which pooled tenants the pool will not serve because an earlier tenant holds their host (ADR 0197).
 * The pool process decides it (POOL_TENANT_CONFLICT, ADR 0193) and says so only in its log; the
 * operator sees every tenant and its projection, so it applies the same rule (common/pool/claims.ts)
 * to the same facts: each part's host of each tenant of the pool, and when the tenant first named
 * it, as its projection keeps it (ADR 0230).
 */
export const HOST_CLAIMED_REASON: OperatorReason = 'HostClaimedByEarlierTenant';

export interface HostClaimsCache {
  tenant(namespace: string, name: string): JsmSsoTenant | undefined;
  /** A Secret's cached metadata (a projection's creationTimestamp, labels and annotations are kept). */
  secretMeta(namespace: string, name: string): KubeObject | undefined;
  /** The tenants (`<namespace>/<name>`) whose spec claims this hostClaimKey. */
  hostClaimants(key: string): readonly string[];
}

export interface PoolRef {
  namespace: string;
  name: string;
}

/** A part's host in a pool: what two tenants must not both claim. */
export function hostClaimKey(pool: PoolRef, part: Part, url: string): string {
  return claimKey(pool, part, urlHostKey(url));
}

function claimKey(pool: PoolRef, part: Part, host: string): string {
  return `${pool.namespace}/${pool.name} ${part} ${host}`;
}

/** Every host claim the tenant's spec makes in its pool, one per part. */
export function hostClaimKeys(tenant: JsmSsoTenant, pool: PoolRef): string[] {
  return PARTS.map((part) => hostClaimKey(pool, part, tenant.spec[part].url));
}

/**
 * The host claims the tenant's projections make, as every pool replica reads them: the hosts their
 * HOST_CLAIMS_ANNOTATION names. Until the operator places the tenant's spec, the pool serves it at
 * the hosts its projection names, whatever the spec says now: an edit the operator cannot place (a
 * Secret missing) or refuses (an invalid spec) leaves the projection as it was, and the tenant holds
 * its host in the pool, so the operator counts it there too (ADR 0230).
 */
export function placedHostClaimKeys(placed: readonly KubeObject[]): string[] {
  return placed.flatMap((object) => {
    const pool = object.metadata.labels?.[POOL_LABEL];
    const { hostClaims } = projectionClaimTimes(object.metadata);
    if (!pool || !hostClaims) return [];
    const ref = { namespace: object.metadata.namespace ?? '', name: pool };
    return PARTS.flatMap((part) => {
      const host = hostClaims[part]?.host;
      return host === undefined ? [] : [claimKey(ref, part, host)];
    });
  });
}

export interface HostConflict {
  part: Part;
  host: string;
  /** The tenant served there, `<namespace>/<name>`. */
  holder: string;
  /** When the holder first named that host (ISO 8601). */
  since: string;
}

/**
 * The parts of `tenant` its pool does not serve: for each, the earliest claim at the same host if
 * it is another tenant's. A tenant claims a host once its projection names it (the pool knows it
 * then): not before its projection is made or rewritten with that host, nor with a projection that
 * is another tenant's of the same name.
 */
export function hostConflicts(cache: HostClaimsCache, tenant: JsmSsoTenant, pool: PoolRef): HostConflict[] {
  const conflicts: HostConflict[] = [];
  for (const part of PARTS) {
    const own = claimOf(cache, tenant, pool, part, urlHostKey(tenant.spec[part].url));
    if (!own) continue;
    const earliest = othersClaims(cache, tenant, pool, part).sort(byClaim)[0];
    if (earliest && claimsBefore(earliest, own))
      conflicts.push({
        part,
        host: urlHostKey(tenant.spec[part].url),
        holder: earliest.key,
        since: new Date(earliest.claimedAt).toISOString(),
      });
  }
  return conflicts;
}

/** PoolReady when the pool serves another tenant at this one's host (all of its parts that are so). */
export function hostClaimedCondition(conflicts: HostConflict[], pool: PoolRef): ConditionInput {
  const which = conflicts
    .map(
      (c) =>
        `its ${c.part} at ${c.host} (spec.${c.part}.url): JsmSsoTenant ${c.holder} claimed that host first (named it ${c.since})`,
    )
    .join('; ');
  return {
    status: 'False',
    reason: HOST_CLAIMED_REASON,
    message: `JsmSsoPool ${pool.namespace}/${pool.name} does not serve this tenant's ${which}; it is served once that tenant leaves the pool or changes its URL, or give this tenant a URL of its own`,
  };
}

/**
 * The host claims a tenant's projection is written with over `previous`, the version the write
 * replaces (none: it is made now). A part's host keeps the time it was first named while the
 * projection, in this pool, keeps naming it; a host newly named, or a projection new to the pool, is
 * claimed now, and after every claim the operator knows on that host, so that a leader whose clock
 * runs behind its predecessor's never ranks a newcomer first. A projection written before host
 * claims were kept has its hosts counted from its creation, as the pool ranked them then (ADR 0230).
 */
export function hostClaimsToWrite(
  cache: HostClaimsCache,
  tenant: JsmSsoTenant,
  pool: PoolRef,
  previous: KubeObject | undefined,
  now: Date,
): HostClaims {
  const kept =
    previous?.metadata.labels?.[POOL_LABEL] === pool.name ? projectionClaimTimes(previous.metadata) : {};
  const claims: HostClaims = {};
  for (const part of PARTS) {
    const host = urlHostKey(tenant.spec[part].url);
    const claimedAt =
      hostClaimedAt(kept, part, host) ??
      Math.max(now.getTime(), ...othersClaims(cache, tenant, pool, part).map((c) => c.claimedAt + 1));
    claims[part] = { host, claimedAt };
  }
  return claims;
}

/** The claims other tenants of `pool` make on the host `tenant`'s `part` names, as their projections say. */
function othersClaims(
  cache: HostClaimsCache,
  tenant: JsmSsoTenant,
  pool: PoolRef,
  part: Part,
): Required<Claim>[] {
  const own = `${tenantNamespace(tenant)}/${tenantName(tenant)}`;
  const host = urlHostKey(tenant.spec[part].url);
  return cache.hostClaimants(claimKey(pool, part, host)).flatMap((key) => {
    if (key === own) return [];
    const [namespace = '', name = ''] = key.split('/');
    const other = cache.tenant(namespace, name);
    const claim = other && claimOf(cache, other, pool, part, host);
    return claim ? [claim] : [];
  });
}

/**
 * The tenant's claim on `host` for its `part`, as the projection placed for it in `pool` says (the
 * pool reads the projection, not the spec: they differ while an edit is not placed).
 */
function claimOf(
  cache: HostClaimsCache,
  tenant: JsmSsoTenant,
  pool: PoolRef,
  part: Part,
  host: string,
): Required<Claim> | undefined {
  const projection = cache.secretMeta(pool.namespace, heldProjectionName(cache, tenant, pool.namespace));
  if (!projection || !placedFor(projection, tenant.metadata?.uid ?? '')) return undefined;
  if (projection.metadata.labels?.[POOL_LABEL] !== pool.name) return undefined;
  const claimedAt = hostClaimedAt(projectionClaimTimes(projection.metadata), part, host);
  if (claimedAt === undefined) return undefined;
  return { key: `${tenantNamespace(tenant)}/${tenantName(tenant)}`, claimedAt };
}
