import { Counter, type Registry } from 'prom-client';

/** Portal metrics: refusals by reason code and Atlassian calls by outcome. */
export interface PortalTelemetry {
  refused(reason: string): void;
  atlassianCall(status: number | 'timeout' | 'network'): void;
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
  return {
    refused: (reason) => refusals.inc({ tenant, reason }),
    atlassianCall: (status) => calls.inc({ tenant, status: String(status) }),
  };
}
