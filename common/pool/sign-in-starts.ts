/**
 * Sign-ins one pool tenant's portal may start within one flow lifetime (its spec.broker.flowTtlSeconds),
 * counted over every replica of the pool in the pool's Redis (ADR 0215): JsmSsoPool
 * spec.portal.signInStartsPerTenant, the portal's --sign-in-starts-per-tenant. Each start writes a
 * sign-in flow, the portal's and then the broker's, to the store all the pool's tenants share, and the
 * per-address limit does not stop a flood spread over many addresses: past this, the tenant's new
 * sign-ins wait (503 FLOW_STORE_TENANT_FULL) and the other tenants' store keeps its room. The default
 * is the ceiling a tenant has in a pool's memory store (POOL_MEMORY_STORE_SHARES.mostPerTenant): 10
 * starts a second for the default 10 minutes, far past a help center's busiest hour. The bounds are the
 * CRD's.
 */
export const POOL_SIGN_IN_STARTS_PER_TENANT = { default: 6_000, min: 100, max: 1_000_000 } as const;

/**
 * Sessions one pool tenant may hold in the pool's Redis at once (ADR 0220): JsmSsoPool
 * spec.portal.sessionsPerTenant, the portal's --sessions-per-tenant. A tenant's team writes its own
 * IdP and session lifetimes (up to 7 days), so the starts share alone still let it fill the Redis every
 * tenant shares with sessions (each about 3 KB, the portal's and the broker's): 6,000 starts every 10
 * minutes held for a week. While the tenant holds this many, its new sign-ins wait (503
 * FLOW_STORE_TENANT_FULL) and the sessions it has go on. The default, 50,000 customers signed in at once,
 * is past any help center a pool is for (about 150 MB of Redis); the bounds are the CRD's.
 */
export const POOL_SESSIONS_PER_TENANT = { default: 50_000, min: 100, max: 10_000_000 } as const;

/** A pool tenant's shares of what its sign-ins write to the store the pool's tenants share. */
export interface PoolSignInShares {
  /** Sign-ins started within one flow lifetime (ADR 0215). */
  startsPerTenant: number;
  /** Sessions held at once (ADR 0220). */
  sessionsPerTenant: number;
}

export const DEFAULT_POOL_SIGN_IN_SHARES: PoolSignInShares = {
  startsPerTenant: POOL_SIGN_IN_STARTS_PER_TENANT.default,
  sessionsPerTenant: POOL_SESSIONS_PER_TENANT.default,
};
