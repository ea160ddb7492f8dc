import type { NextFunction, Request, Response } from 'express';
import type { Registry } from 'prom-client';
import { type TenantLabels, tenantLabels, tenantMetrics } from '../common/metrics.js';
import type { AttemptStatus } from './atlassian/http.js';

/**
 * Portal metrics: refusals by reason code, Atlassian calls by outcome and latency, and page
 * latency by route. Labels stay bounded: the route is Express's pattern (`/requests/:key`), never
 * the address asked for, and an Atlassian call is labelled by method only (its path holds ids).
 */
export interface PortalTelemetry {
  refused(reason: string): void;
  /** A request the portal could not serve (5xx of its own, not Atlassian's): its flow store, a bug. */
  failed(reason: string): void;
  /** An HTTP attempt to Atlassian, or (`busy`) a call the tenant's bulkhead did not send. */
  atlassianCall(method: string, status: number | AttemptStatus, seconds: number): void;
  /** Express middleware: observes each response's time under its matched route. */
  timePages(req: Request, res: Response, next: NextFunction): void;
  /** A call repeated: `read` by the transport, `write` under its write key (portal/write-once.ts). */
  atlassianRetry(kind: 'read' | 'write', reason: string): void;
  /** A file or thumbnail whose download the client abandoned mid-way (not an error). */
  clientAborted(): void;
}

/** What a pool refuses a tenant that has used its own share of what the tenants share (ADRs 0197, 0211, 0215). */
const POOL_SHARE_REASONS = new Set(['FLOW_STORE_TENANT_FULL', 'PORTAL_POOL_SHARE_UPLOADS_BUSY']);

/** `tenant`: a dedicated part's tenant id, or both label values (a pooled tenant's, see common/metrics.ts). */
export function createPortalTelemetry(registry: Registry, tenant: string | TenantLabels): PortalTelemetry {
  const { perTenant, aggregated } = typeof tenant === 'string' ? tenantLabels(tenant) : tenant;
  const metrics = tenantMetrics(registry, 'portal');
  // A pool's refusals for a tenant's own share name that tenant (a series only for a tenant refused,
  // as ADR 0101 bounds them): the tenant being flooded or stalled is the one the operator must find.
  const noteShare = (reason: string) => {
    if (POOL_SHARE_REASONS.has(reason))
      metrics.counter('jsm_sso_portal_pool_share_refusals_total').inc({ tenant: perTenant, reason });
  };
  return {
    atlassianRetry: (kind, reason) =>
      metrics.counter('jsm_sso_portal_atlassian_retries_total').inc({ tenant: aggregated, kind, reason }),
    refused: (reason) => {
      metrics.counter('jsm_sso_portal_refusals_total').inc({ tenant: aggregated, reason });
      noteShare(reason);
    },
    failed: (reason) => {
      metrics.counter('jsm_sso_portal_errors_total').inc({ tenant: aggregated, reason });
      noteShare(reason);
    },
    clientAborted: () => metrics.counter('jsm_sso_portal_client_aborts_total').inc({ tenant: aggregated }),
    atlassianCall: (method, status, seconds) => {
      metrics
        .counter('jsm_sso_portal_atlassian_calls_total')
        .inc({ tenant: perTenant, status: String(status) });
      // A busy call never reached Atlassian: its wait is no answer time.
      if (status !== 'busy')
        metrics
          .histogram('jsm_sso_portal_atlassian_call_duration_seconds')
          .observe({ tenant: aggregated, method }, seconds);
    },
    timePages: (req, res, next) => {
      const started = process.hrtime.bigint();
      res.once('finish', () => {
        // req.route is set once a route matched; everything else (404s, assets) is one series.
        const route = typeof req.route?.path === 'string' ? req.route.path : 'other';
        metrics
          .histogram('jsm_sso_portal_page_duration_seconds')
          .observe(
            { tenant: aggregated, method: req.method, route },
            Number(process.hrtime.bigint() - started) / 1e9,
          );
      });
      next();
    },
  };
}
