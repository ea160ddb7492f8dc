import { Counter, type Registry } from 'prom-client';

/** Portal metrics: refusals by reason code and Atlassian calls by outcome. */
export interface PortalTelemetry {
  refused(reason: string): void;
  atlassianCall(status: number | 'timeout' | 'network'): void;
  /** A call repeated: `read` by the transport, `write` under its write key (portal/write-once.ts). */
  atlassianRetry(kind: 'read' | 'write', reason: string): void;
}

export function createPortalTelemetry(registry: Registry, tenant: string): PortalTelemetry {
  const refusals = new Counter({
    name: 'jsm_sso_portal_refusals_total',
    help: 'Requests the portal refused, by reason code.',
    labelNames: ['tenant', 'reason'],
    registers: [registry],
  });
  const calls = new Counter({
    name: 'jsm_sso_portal_atlassian_calls_total',
    help: 'HTTP attempts to Atlassian, by status (or timeout/network).',
    labelNames: ['tenant', 'status'],
    registers: [registry],
  });
  const retries = new Counter({
    name: 'jsm_sso_portal_atlassian_retries_total',
    help: 'Atlassian calls repeated after 429, 503, a timeout or a lost connection: reads by the transport, writes under their write key.',
    labelNames: ['tenant', 'kind', 'reason'],
    registers: [registry],
  });
  return {
    atlassianRetry: (kind, reason) => retries.inc({ tenant, kind, reason }),
    refused: (reason) => refusals.inc({ tenant, reason }),
    atlassianCall: (status) => calls.inc({ tenant, status: String(status) }),
  };
}
