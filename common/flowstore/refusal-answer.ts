// What the broker and the portal tell a customer when the flow store refuses a command, and whether
// a retry can help (ADR 0212). Both parts answer these the same way; only their words differ.
import { JsmSsoError } from '../errors.js';

/**
 * When a full store is worth asking again. Every jsm-sso key expires (sign-in flows within
 * minutes), so room comes back by itself; a minute lets some of it come back without leaving a
 * customer waiting longer than they would on their own.
 */
export const STORE_FULL_RETRY_AFTER_SECONDS = 60;

/**
 * - `full`: no room for a new entry (FLOW_STORE_FULL, FLOW_STORE_TENANT_FULL, PORTAL_SIGN_IN_STARTS_FULL):
 *   it comes back as entries expire, so the answer carries Retry-After.
 * - `refused`: Redis refuses the command itself (FLOW_STORE_REFUSED): nothing changes until an
 *   operator acts, so the answer says so and carries no Retry-After, which would promise otherwise.
 * - undefined: any other error, answered as the part answers a fault.
 */
export type StoreRefusal = 'full' | 'refused';

export function storeRefusalOf(err: unknown): StoreRefusal | undefined {
  switch (err instanceof JsmSsoError ? err.code : undefined) {
    case 'FLOW_STORE_FULL':
    case 'FLOW_STORE_TENANT_FULL':
    // The portal's ceiling on a tenant's sign-in starts (ADR 0256), there so the store does not fill.
    case 'PORTAL_SIGN_IN_STARTS_FULL':
      return 'full';
    case 'FLOW_STORE_REFUSED':
      return 'refused';
    default:
      return undefined;
  }
}
