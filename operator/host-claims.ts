import type { JsmSsoTenant } from '../common/config/load.js';
import type { KubeObject } from '../common/kube/client.js';
import { byClaim, type Claim, claimsBefore, claimTime } from '../common/pool/claims.js';
import { urlHostKey } from '../common/pool/host-routing.js';
import type { OperatorReason } from './errors.js';
import { PARTS, type Part, tenantName, tenantNamespace } from './resources/common.js';
import { placedFor, placedName } from './resources/projection.js';
import type { ConditionInput } from './status.js';

/**
 * Which pooled tenants the pool will not serve because an earlier tenant holds their host (ADR 0197).
 * The pool process decides it (POOL_TENANT_CONFLICT, ADR 0193) and says so only in its log; the
 * operator sees every tenant and its projection, so it applies the same rule (common/pool/claims.ts)
 * to the same facts: each part's host of each tenant of the pool, and when its projection was made.
 */
export const HOST_CLAIMED_REASON: OperatorReason = 'HostClaimedByEarlierTenant';

export interface HostClaimsCache {
  tenant(namespace: string, name: string): JsmSsoTenant | undefined;
  /** A Secret's cached metadata (a projection's creationTimestamp is kept). */
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
  return `${pool.namespace}/${pool.name} ${part} ${urlHostKey(url)}`;
}

/** Every host claim the tenant's spec makes in its pool, one per part. */
export function hostClaimKeys(tenant: JsmSsoTenant, pool: PoolRef): string[] {
  return PARTS.map((part) => hostClaimKey(pool, part, tenant.spec[part].url));
}

export interface HostConflict {
  part: Part;
  host: string;
  /** The tenant served there, `<namespace>/<name>`. */
  holder: string;
  /** When the holder's projection was made (ISO 8601). */
  since: string;
}

/**
 * The parts of `tenant` its pool does not serve: for each, the earliest claim at the same host if
 * it is another tenant's. A tenant whose projection is not made yet claims nothing (the pool does
 * not know it), and neither does one whose projection is another tenant's of the same name.
 */
export function hostConflicts(cache: HostClaimsCache, tenant: JsmSsoTenant, pool: PoolRef): HostConflict[] {
  const own = claimOf(cache, tenant, pool);
  if (!own) return [];
  const conflicts: HostConflict[] = [];
  for (const part of PARTS) {
    const url = tenant.spec[part].url;
    const earliest = cache
      .hostClaimants(hostClaimKey(pool, part, url))
      .flatMap((key) => {
        if (key === own.key) return [];
        const [namespace = '', name = ''] = key.split('/');
        const other = cache.tenant(namespace, name);
        const claim = other && claimOf(cache, other, pool);
        return claim ? [claim] : [];
      })
      .sort(byClaim)[0];
    if (earliest && claimsBefore(earliest, own))
      conflicts.push({
        part,
        host: urlHostKey(url),
        holder: earliest.key,
        since: new Date(earliest.claimedAt ?? 0).toISOString(),
      });
  }
  return conflicts;
}

/** PoolReady when the pool serves another tenant at this one's host (all of its parts that are so). */
export function hostClaimedCondition(conflicts: HostConflict[], pool: PoolRef): ConditionInput {
  const which = conflicts
    .map(
      (c) =>
        `its ${c.part} at ${c.host} (spec.${c.part}.url): JsmSsoTenant ${c.holder} claimed that host first (placed ${c.since})`,
    )
    .join('; ');
  return {
    status: 'False',
    reason: HOST_CLAIMED_REASON,
    message: `JsmSsoPool ${pool.namespace}/${pool.name} does not serve this tenant's ${which}; it is served once that tenant leaves the pool or changes its URL, or give this tenant a URL of its own`,
  };
}

function claimOf(cache: HostClaimsCache, tenant: JsmSsoTenant, pool: PoolRef): Required<Claim> | undefined {
  const projection = cache.secretMeta(pool.namespace, placedName(tenant));
  if (!projection || !placedFor(projection, tenant.metadata?.uid ?? '')) return undefined;
  const claimedAt = claimTime(projection.metadata.creationTimestamp);
  if (claimedAt === undefined) return undefined;
  return { key: `${tenantNamespace(tenant)}/${tenantName(tenant)}`, claimedAt };
}
