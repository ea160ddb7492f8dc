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
