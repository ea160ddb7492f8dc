import type { NextFunction, Request, Response } from 'express';
import type { Registry } from 'prom-client';
import { type TenantLabels, tenantLabels, tenantMetrics } from '../common/metrics.js';

/**
 * Portal metrics: refusals by reason code, Atlassian calls by outcome and latency, and page
 * latency by route. Labels stay bounded: the route is Express's pattern (`/requests/:key`), never
 * the address asked for, and an Atlassian call is labelled by method only (its path holds ids).
 */
export interface PortalTelemetry {
  refused(reason: string): void;
  /** An HTTP attempt to Atlassian, or (`busy`) a call the tenant's bulkhead did not send. */
  atlassianCall(method: string, status: number | 'timeout' | 'network' | 'busy', seconds: number): void;
  /** Express middleware: observes each response's time under its matched route. */
  timePages(req: Request, res: Response, next: NextFunction): void;
  /** A call repeated: `read` by the transport, `write` under its write key (portal/write-once.ts). */
  atlassianRetry(kind: 'read' | 'write', reason: string): void;
  /** A file or thumbnail whose download the client abandoned mid-way (not an error). */
  clientAborted(): void;
}

/** Page times from a cached page (~1 ms) to one waiting on several slow Atlassian calls. */
const PAGE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Atlassian answers in tens to hundreds of ms; the transport gives up at its timeout (10 s). */
const ATLASSIAN_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** `tenant`: a dedicated part's tenant id, or both label values (a pooled tenant's, see common/metrics.ts). */
export function createPortalTelemetry(registry: Registry, tenant: string | TenantLabels): PortalTelemetry {
  const { perTenant, aggregated } = typeof tenant === 'string' ? tenantLabels(tenant) : tenant;
  const metrics = tenantMetrics(registry);
  const refusals = metrics.counter(
    'jsm_sso_portal_refusals_total',
    'Requests the portal refused, by reason code.',
    ['reason'],
  );
  const calls = metrics.counter(
    'jsm_sso_portal_atlassian_calls_total',
    "HTTP attempts to Atlassian, by status (or timeout/network); busy: a call not sent because the tenant's bulkhead had no slot in time.",
    ['status'],
  );
  const retries = metrics.counter(
    'jsm_sso_portal_atlassian_retries_total',
    'Atlassian calls repeated after 429, 503, a timeout or a lost connection: reads by the transport, writes under their write key.',
    ['kind', 'reason'],
  );
  const clientAborts = metrics.counter(
    'jsm_sso_portal_client_aborts_total',
    'Downloads (files, thumbnails) the client closed before their end; no error: the browser moved on.',
  );
  const callDuration = metrics.histogram(
    'jsm_sso_portal_atlassian_call_duration_seconds',
    'Time from sending one HTTP attempt to Atlassian to its answer (or giving up), by method.',
    ['method'],
    ATLASSIAN_BUCKETS,
  );
  const pageDuration = metrics.histogram(
    'jsm_sso_portal_page_duration_seconds',
    'Time the portal takes to answer one request, by method and route pattern.',
    ['method', 'route'],
    PAGE_BUCKETS,
  );
  return {
    atlassianRetry: (kind, reason) => retries.inc({ tenant: aggregated, kind, reason }),
    refused: (reason) => refusals.inc({ tenant: aggregated, reason }),
    clientAborted: () => clientAborts.inc({ tenant: aggregated }),
    atlassianCall: (method, status, seconds) => {
      calls.inc({ tenant: perTenant, status: String(status) });
      // A busy call never reached Atlassian: its wait is no answer time.
      if (status !== 'busy') callDuration.observe({ tenant: aggregated, method }, seconds);
    },
    timePages: (req, res, next) => {
      const started = process.hrtime.bigint();
      res.once('finish', () => {
        // req.route is set once a route matched; everything else (404s, assets) is one series.
        const route = typeof req.route?.path === 'string' ? req.route.path : 'other';
        pageDuration.observe(
          { tenant: aggregated, method: req.method, route },
          Number(process.hrtime.bigint() - started) / 1e9,
        );
      });
      next();
    },
  };
}
