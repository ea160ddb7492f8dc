import type { PartName } from '../runtime.js';

/**
 * The rule that decides which tenant a pool serves at a host both claim (ADR 0193, 0230): the earlier
 * claim of that host. A pool process applies it as bundles arrive (tenant-pool.ts), and the operator
 * applies it to tell the later tenant in its status that it is not served (operator/host-claims.ts,
 * ADR 0197): one rule, on the same facts (the projection's), so the two never disagree.
 */
export interface Claim {
  /** `<namespace>/<name>` from the kube source, a folder name from a folder's. */
  key: string;
  /** When the claim was made (ms since the epoch), when the source knows a time every replica reads alike. */
  claimedAt?: number;
}

/**
 * The projection annotation in which the operator keeps, per part, the host the tenant names and
 * when it first named it (ADR 0230), e.g.
 * `{"broker":{"host":"sso.acme.example","since":"2026-12-05T10:00:00.000Z"},"portal":{...}}`.
 * A host's time is carried over each rewrite of the projection while the tenant keeps naming that
 * host, so a tenant that moves its URL onto a host another tenant holds claims it later than that
 * tenant, whenever the mover itself was placed.
 */
export const HOST_CLAIMS_ANNOTATION = 'jsm-sso.io/host-claims';

/** A part's host (`host-routing.ts:urlHostKey`) and when the tenant first named it (ms since the epoch). */
export interface HostClaim {
  host: string;
  claimedAt: number;
}

export type HostClaims = Partial<Record<PartName, HostClaim>>;

/** When a tenant claimed its place in a pool, as its projection tells every replica alike. */
export interface ClaimTimes {
  /** The projection's creationTimestamp: the claim on the tenant's name. */
  claimedAt?: number;
  /** HOST_CLAIMS_ANNOTATION read; absent on a projection written before it (and on a folder's bundle). */
  hostClaims?: HostClaims;
}

/** A projection's claim times, from its metadata (creationTimestamp, HOST_CLAIMS_ANNOTATION). */
export function projectionClaimTimes(metadata: {
  creationTimestamp?: unknown;
  annotations?: Record<string, string>;
}): ClaimTimes {
  const created = Date.parse(String(metadata.creationTimestamp));
  const annotation = metadata.annotations?.[HOST_CLAIMS_ANNOTATION];
  return {
    ...(Number.isFinite(created) ? { claimedAt: created } : {}),
    ...(annotation === undefined ? {} : { hostClaims: readHostClaims(annotation) }),
  };
}

/**
 * When the tenant claimed `host` for `part`: the time its host claims give when they name that
 * host. A projection written before host claims were kept counts its hosts from its creation (the
 * rank ADR 0193 gave them, until the operator writes it again). Host claims naming another host, or
 * that cannot be read, vouch for no time: such a claim ranks after every timed one.
 */
export function hostClaimedAt(times: ClaimTimes, part: PartName, host: string): number | undefined {
  if (!times.hostClaims) return times.claimedAt;
  const claim = times.hostClaims[part];
  return claim?.host === host ? claim.claimedAt : undefined;
}

/** HOST_CLAIMS_ANNOTATION's value for `claims`, parts in name order, so equal claims write equal text. */
export function hostClaimsText(claims: HostClaims): string {
  const entries = Object.entries(claims)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([part, claim]) => [part, { host: claim.host, since: new Date(claim.claimedAt).toISOString() }]);
  return JSON.stringify(Object.fromEntries(entries));
}

/** HOST_CLAIMS_ANNOTATION read; an entry that is not a host and a time claims nothing. */
function readHostClaims(text: string): HostClaims {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return {};
  }
  const claims: Record<string, HostClaim> = {};
  if (typeof parsed !== 'object' || parsed === null) return claims;
  for (const [part, entry] of Object.entries(parsed as Record<string, { host?: unknown; since?: unknown }>)) {
    const claimedAt = Date.parse(String(entry?.since));
    if (typeof entry?.host === 'string' && Number.isFinite(claimedAt))
      claims[part] = { host: entry.host, claimedAt };
  }
  return claims;
}

/**
 * Whether `a` claimed its place before `b`: by the times their source gives (ties by key, so every
 * replica ranks alike), a timed claim before an untimed one; of two untimed ones neither, so the
 * bundle served first keeps its place (a folder's bundles carry no time every replica shares).
 */
export function claimsBefore(a: Claim, b: Claim): boolean {
  if (a.claimedAt === undefined) return false;
  if (b.claimedAt === undefined) return true;
  return a.claimedAt < b.claimedAt || (a.claimedAt === b.claimedAt && a.key < b.key);
}

/** Earliest claim first (Array.sort). */
export function byClaim(a: Claim, b: Claim): number {
  return claimsBefore(a, b) ? -1 : claimsBefore(b, a) ? 1 : 0;
}

/**
 * The order of the tenants served on one TLS server name (SNI carries no port, so tenants at
 * `sso.acme.example` and `sso.acme.example:8443` share one): the earliest claim of its own host first,
 * then by key, so that claims without a time (a folder's) rank alike on every replica too. The first
 * one's certificate is the one served for the name (ADR 0230): the pool orders its served tenants by
 * it (tenant-pool.ts); the operator, which sees every claim, ranks them all by it, the first being
 * served at its host too, and tells the others (operator/server-name-claims.ts, ADR 0235).
 */
export function byServerNameClaim(a: Claim, b: Claim): number {
  return byClaim(a, b) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}
