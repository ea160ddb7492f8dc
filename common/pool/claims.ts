/**
 * The rule that decides which tenant a pool serves at a host both claim (ADR 0193): the earlier
 * claim. A pool process applies it as bundles arrive (tenant-pool.ts), and the operator applies it
 * to tell the later tenant in its status that it is not served (operator/host-claims.ts, ADR 0197):
 * one rule, so the two never disagree.
 */
export interface Claim {
  /** `<namespace>/<name>` from the kube source, a folder name from a folder's. */
  key: string;
  /** When the claim was made (ms since the epoch): the projection's creationTimestamp, when known. */
  claimedAt?: number;
}

/** A projection's creationTimestamp as a claim time: whole seconds, as the API server keeps it. */
export function claimTime(creationTimestamp: unknown): number | undefined {
  const time = Date.parse(String(creationTimestamp));
  return Number.isFinite(time) ? time : undefined;
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
