// Audit lines for what the portal changes about a person: at Atlassian (their account, desk and
// organization memberships) and here (an admin ending their sessions). One structured line each (`event: portal.audit`, a stable `action`),
// naming the person by accountId only: never an e-mail or a display name.
import type { Logger } from '../common/log.js';

export type AuditEvent =
  /** This portal's create made the account (Atlassian answered it). */
  | { action: 'customer_created'; accountId: string }
  /** The create was refused as the account was there already: someone else (a replica, an agent) made it. */
  | { action: 'customer_existed'; accountId: string }
  /**
   * The create's answer was lost (5xx, timeout, connection) and, sent again, Atlassian said the
   * account was there: most likely made by that create, unheard (ADR 0372).
   */
  | { action: 'customer_create_unconfirmed'; accountId: string }
  | { action: 'desks_joined'; accountId: string; serviceDeskIds: string[] }
  | { action: 'organization_joined'; accountId: string; organizationId: string }
  | { action: 'organization_left'; accountId: string; organizationId: string }
  /** A portal admin (`by`) ended every portal session of `accountId`. */
  | { action: 'sessions_revoked'; accountId: string; by: string };

export type Audit = (event: AuditEvent) => void;

export function auditLog(logger: Logger): Audit {
  return (event) => logger.info({ event: 'portal.audit', ...event }, `audit: ${event.action}`);
}
