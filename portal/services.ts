import type { TenantSpec } from '../common/config/tenant.generated.js';
import type { Logger } from '../common/log.js';
import type { TenantSpoolShare } from '../common/pool/upload-spool-budget.js';
import type { AbuseLimits } from './abuse-limits.js';
import type { AccountGuard } from './account-guard.js';
import type { ActivityLog } from './activity.js';
import type { AtlassianClient } from './atlassian/client.js';
import type { Audit } from './audit.js';
import type { Catalogue } from './catalogue.js';
import type { Colleagues } from './colleagues.js';
import type { CookiePolicy } from './cookies.js';
import type { DeskAccess } from './desk-access.js';
import type { DownloadSlots } from './download-slots.js';
import type { UploadSpool } from './http/upload-spool.js';
import type { CustomerResolver } from './identity.js';
import type { RecentShares } from './recent-shares.js';
import type { RequestService } from './requests.js';
import type { ServiceProvider } from './saml/sp.js';
import type { SessionStore, SessionTimeouts } from './session.js';
import type { PortalTelemetry } from './telemetry.js';

/** The portal's parts, built once from the tenant in createPortalApp and shared by the routes. */
export interface PortalServices {
  spec: TenantSpec;
  logger: Logger;
  audit: Audit;
  cookies: CookiePolicy;
  client: AtlassianClient;
  catalogue: Catalogue;
  colleagues: Colleagues;
  /** The desks each signed-in customer may use now (ADR 0222). */
  desks: DeskAccess;
  requests: RequestService;
  resolver: CustomerResolver;
  /** Who may be a customer here: judged at sign-in and again on every signed-in page. */
  guard: AccountGuard;
  activity: ActivityLog;
  sessions: SessionStore;
  /** Whom requests were lately shared with or unshared from, for their lists (ADR 0419). */
  recentShares: RecentShares;
  sp: ServiceProvider;
  timeouts: SessionTimeouts;
  maxUploadBytes: number;
  uploads: UploadSpool;
  /** The files of this tenant streaming to customers now, within their bounds (ADR 0221). */
  downloads: DownloadSlots;
  /** In a pool: this tenant's share of the upload bytes every tenant of the process shares, taken after `uploads` (ADR 0165, 0211). */
  uploadSpoolShare?: TenantSpoolShare;
  limits: AbuseLimits;
  cacheTtlMs: number;
  telemetry: PortalTelemetry;
}
