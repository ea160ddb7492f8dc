import type { JsmSsoTenant } from '../common/config/load.js';
import type { KubeObject } from '../common/kube/client.js';
import {
  byClaim,
  type Claim,
  claimsBefore,
  HOST_CLAIMS_ANNOTATION,
  type HostClaims,
  hostClaimedAt,
  projectionClaimTimes,
} from '../common/pool/claims.js';
import { hostServerName, urlHostKey } from '../common/pool/host-routing.js';
import { bundleKey } from '../common/pool/kube-source.js';
import type { OperatorReason } from './errors.js';
import { PARTS, type Part, tenantName, tenantNamespace } from './resources/common.js';
import { heldProjectionName, POOL_LABEL, placedFor } from './resources/projection.js';
import type { ConditionInput } from './status.js';

/**
 * Which pooled tenants the pool will not serve because an earlier tenant holds their host (ADR 0197).
 * The pool process decides it (POOL_TENANT_CONFLICT, ADR 0193) and says so only in its log; the
 * operator sees every projection the pool serves, so it applies the same rule (common/pool/claims.ts)
 * to the same facts: each part's host each projection of the pool names, and since when, as the
 * projection keeps it (ADR 0230), whether its tenant is still there or not (ADR 0235).
 */
export const HOST_CLAIMED_REASON: OperatorReason = 'HostClaimedByEarlierTenant';

export interface HostClaimsCache {
  tenant(namespace: string, name: string): JsmSsoTenant | undefined;
  /** A Secret's cached metadata (a projection's creationTimestamp, labels and annotations are kept). */
  secretMeta(namespace: string, name: string): KubeObject | undefined;
  /** The tenants (`<namespace>/<name>`) whose spec names this claim key (hostClaimKeys). */
  hostClaimants(key: string): readonly string[];
  /**
   * The projections whose HOST_CLAIMS_ANNOTATION names this claim key (projectionClaimKeys), whoever
   * placed them: the pool serves every projection labelled with it, a former tenant's left behind too.
   */
  projectionsClaiming(key: string): readonly KubeObject[];
}

export interface PoolRef {
  namespace: string;
  name: string;
}

/**
 * The key of a part's host name in a pool (its host without the port): the claims on each of its hosts
 * are found under it, and those on its other ports too, which share its TLS server name (SNI). Two
 * tenants must not both be served at one host; one certificate is served for one host name.
 */
function claimKey(pool: PoolRef, part: Part, host: string): string {
  return `${pool.namespace}/${pool.name} ${part} ${hostServerName(host)}`;
}

/**
 * The claim keys the tenant's spec names in its pool, each part's host under both parts: whom a claim
 * made or given up there concerns (Controller.indexHostClaims requeues them). The other part's too,
 * since a host name one tenant claims for either part is the others' for neither (ADR 0247).
 */
export function hostClaimKeys(tenant: JsmSsoTenant, pool: PoolRef): string[] {
  const keys = PARTS.flatMap((part) =>
    PARTS.map((under) => claimKey(pool, under, urlHostKey(tenant.spec[part].url))),
  );
  return [...new Set(keys)];
}

/** The pool's other part: its hosts share the tenants' Ingresses' host names with this one's. */
function otherPart(part: Part): Part {
  return part === 'portal' ? 'broker' : 'portal';
}

/**
 * The claim keys a projection makes, as every pool replica reads them: the hosts its
 * HOST_CLAIMS_ANNOTATION names (none without it). The pool serves the projection at those hosts
 * whatever its tenant's spec says now (an edit the operator cannot place or refuses leaves it), and
 * whether or not its tenant still exists (one whose finalizer was removed by hand leaves it until the
 * pool's reconcile collects it), so the operator counts each there too (ADR 0230, 0235).
 */
export function projectionClaimKeys(projection: KubeObject): string[] {
  const pool = projection.metadata.labels?.[POOL_LABEL];
  const { hostClaims } = projectionClaimTimes(projection.metadata);
  if (!pool || !hostClaims) return [];
  const ref = { namespace: projection.metadata.namespace ?? '', name: pool };
  return PARTS.flatMap((part) => {
    const host = hostClaims[part]?.host;
    return host === undefined ? [] : [claimKey(ref, part, host)];
  });
}

/** Whether two versions of a projection make the same host claims (its claim keys may hide a port). */
export function sameHostClaims(a: KubeObject, b: KubeObject): boolean {
  return (
    a.metadata.annotations?.[HOST_CLAIMS_ANNOTATION] === b.metadata.annotations?.[HOST_CLAIMS_ANNOTATION]
  );
}

/** A claim on a part's host as the pool ranks it: its tenant (the bundle key), the host, and since when. */
export interface PlacedClaim extends Required<Claim> {
  host: string;
  /** The projection's name when no tenant of the operator's holds it (left behind, until it is collected). */
  leftover?: string;
}

export interface HostConflict {
  part: Part;
  host: string;
  /** The claim served there. */
  holder: PlacedClaim;
  /** The part the holder claims the host for: the other one when its claim is on the host name (ADR 0247). */
  holderPart: Part;
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
    const own = ownClaim(cache, tenant, pool, part);
    if (!own) continue;
    const earliest = [
      ...othersClaims(cache, tenant, pool, part)
        .filter((claim) => claim.host === own.host)
        .map((holder) => ({ holder, holderPart: part })),
      ...otherPartClaims(cache, tenant, pool, part).map((holder) => ({
        holder,
        holderPart: otherPart(part),
      })),
    ].sort((a, b) => byClaim(a.holder, b.holder))[0];
    if (earliest && claimsBefore(earliest.holder, own)) conflicts.push({ part, host: own.host, ...earliest });
  }
  return conflicts;
}

/**
 * The claims others' projections make for the other part on the host name `tenant`'s spec names for
 * `part`, on any port. The two parts are two processes, each routing by its own tenants' hosts, but
 * the tenants' Ingresses share the pool's namespace and route by host name and path: a tenant's rule
 * on a path of another tenant's host (its broker at `help.acme.example/requests`, where acme's portal
 * is) takes that tenant's requests there to the part that serves the newcomer at that host (ADR 0247).
 */
function otherPartClaims(
  cache: HostClaimsCache,
  tenant: JsmSsoTenant,
  pool: PoolRef,
  part: Part,
): PlacedClaim[] {
  return projectionClaimsAt(cache, tenant, pool, part, otherPart(part));
}

/**
 * The claims for part `under` that other tenants' projections in `pool` make on the host name
 * `tenant`'s spec names for `part` (claim keys carry the host name, so any port).
 */
function projectionClaimsAt(
  cache: HostClaimsCache,
  tenant: JsmSsoTenant,
  pool: PoolRef,
  part: Part,
  under: Part,
): PlacedClaim[] {
  const own = `${tenantNamespace(tenant)}/${tenantName(tenant)}`;
  const key = claimKey(pool, under, urlHostKey(tenant.spec[part].url));
  return cache.projectionsClaiming(key).flatMap((projection) => {
    const claim = projectionClaim(cache, projection, under);
    return claim && claim.key !== own ? [claim] : [];
  });
}

/**
 * When a claim was made, in words, and, for a projection left behind by a tenant the operator no
 * longer knows, which Secret it is: it is served until it is removed.
 */
export function claimedText(claim: PlacedClaim, pool: PoolRef): string {
  const named = `named it ${new Date(claim.claimedAt).toISOString()}`;
  return claim.leftover
    ? `${named}; the operator knows no such tenant now: the projection it left behind, Secret ${pool.namespace}/${claim.leftover}, is served until it is removed`
    : named;
}

/** PoolReady when the pool serves another tenant at this one's host (all of its parts that are so). */
export function hostClaimedCondition(conflicts: HostConflict[], pool: PoolRef): ConditionInput {
  const which = conflicts
    .map(
      (c) =>
        `its ${c.part} at ${c.host} (spec.${c.part}.url): JsmSsoTenant ${c.holder.key} claimed that host first${c.holderPart === c.part ? '' : ` for its ${c.holderPart}`} (${claimedText(c.holder, pool)})`,
    )
    .join('; ');
  return {
    status: 'False',
    reason: HOST_CLAIMED_REASON,
    message: `JsmSsoPool ${pool.namespace}/${pool.name} serves another tenant where this one asks to be served: ${which}; it is served once that tenant leaves the pool or changes its URL, or give this tenant a URL of its own`,
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
      Math.max(
        now.getTime(),
        ...[
          ...othersClaims(cache, tenant, pool, part).filter((claim) => claim.host === host),
          ...otherPartClaims(cache, tenant, pool, part),
        ].map((claim) => claim.claimedAt + 1),
      );
    claims[part] = { host, claimedAt };
  }
  return claims;
}

/**
 * The claims others make in `pool` on the host name `tenant`'s spec names for `part`, on any port, as
 * the pool ranks them: every projection that names a host of it (whichever tenant placed it, a former
 * one's too), and a projection written before host claims were kept, at its tenant's spec host from
 * its creation (ADR 0230's upgrade).
 */
export function othersClaims(
  cache: HostClaimsCache,
  tenant: JsmSsoTenant,
  pool: PoolRef,
  part: Part,
): PlacedClaim[] {
  const own = `${tenantNamespace(tenant)}/${tenantName(tenant)}`;
  const key = claimKey(pool, part, urlHostKey(tenant.spec[part].url));
  const named = projectionClaimsAt(cache, tenant, pool, part, part);
  const unannotated = cache.hostClaimants(key).flatMap((claimant) => {
    const [namespace = '', name = ''] = claimant.split('/');
    const other = claimant === own ? undefined : cache.tenant(namespace, name);
    const projection = other && placedProjection(cache, other, pool);
    if (!other || !projection || projection.metadata.annotations?.[HOST_CLAIMS_ANNOTATION] !== undefined)
      return [];
    const host = urlHostKey(other.spec[part].url);
    const claimedAt = hostClaimedAt(projectionClaimTimes(projection.metadata), part, host);
    return claimedAt === undefined ? [] : [{ key: claimant, host, claimedAt }];
  });
  return [...named, ...unannotated];
}

/** A projection's claim on its `part`'s host, keyed as the pool keys its bundle (its tenant labels). */
function projectionClaim(
  cache: HostClaimsCache,
  projection: KubeObject,
  part: Part,
): PlacedClaim | undefined {
  const key = bundleKey(projection);
  const claim = projectionClaimTimes(projection.metadata).hostClaims?.[part];
  if (!key || !claim) return undefined;
  const [namespace = '', name = ''] = key.split('/');
  const known = placedFor(projection, cache.tenant(namespace, name)?.metadata?.uid ?? '');
  return {
    key,
    host: claim.host,
    claimedAt: claim.claimedAt,
    ...(known ? {} : { leftover: projection.metadata.name }),
  };
}

/** The projection placed for `tenant` in `pool`, if its (not another tenant's of that name, nor one of another pool). */
function placedProjection(
  cache: HostClaimsCache,
  tenant: JsmSsoTenant,
  pool: PoolRef,
): KubeObject | undefined {
  const projection = cache.secretMeta(pool.namespace, heldProjectionName(cache, tenant, pool.namespace));
  if (!projection || !placedFor(projection, tenant.metadata?.uid ?? '')) return undefined;
  return projection.metadata.labels?.[POOL_LABEL] === pool.name ? projection : undefined;
}

/**
 * The tenant's claim on the host its spec names for `part`, as the projection placed for it in `pool`
 * says (the pool reads the projection, not the spec: they differ while an edit is not placed).
 */
export function ownClaim(
  cache: HostClaimsCache,
  tenant: JsmSsoTenant,
  pool: PoolRef,
  part: Part,
): PlacedClaim | undefined {
  const projection = placedProjection(cache, tenant, pool);
  const host = urlHostKey(tenant.spec[part].url);
  const claimedAt = projection && hostClaimedAt(projectionClaimTimes(projection.metadata), part, host);
  if (claimedAt === undefined) return undefined;
  return { key: `${tenantNamespace(tenant)}/${tenantName(tenant)}`, host, claimedAt };
}
