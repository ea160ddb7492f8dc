import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { buildInfo } from './build-info.js';

/**
 * One registry per process part. Node's default process metrics keep their standard names
 * (`process_cpu_seconds_total`, `nodejs_heap_size_used_bytes`, ...) so that stock Node.js dashboards
 * and alerts work unchanged; jsm-sso's own metrics are prefixed `jsm_sso_`.
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const { version, revision } = buildInfo();
  new Gauge({
    name: 'jsm_sso_build_info',
    help: 'Always 1; the labels say which release and source revision this process runs.',
    labelNames: ['version', 'revision'],
    registers: [registry],
  }).set({ version, revision }, 1);
  return registry;
}

/**
 * The `tenant` label a pooled part gives its aggregated series (ADR 0101): a pool of 10,000 tenants
 * keeps per-tenant series only for sign-in outcomes, Atlassian call outcomes and signing-certificate
 * expiry; every other series is the pool's, summed over its tenants.
 */
export const POOL_AGGREGATE_TENANT = '*';

/** The two `tenant` label values one part's telemetry uses: equal for a dedicated part. */
export interface TenantLabels {
  /** For the few key metrics: always the tenant. */
  perTenant: string;
  /** For everything else: the tenant when dedicated, POOL_AGGREGATE_TENANT in a pool. */
  aggregated: string;
}

export function tenantLabels(tenantId: string, pooled = false): TenantLabels {
  return { perTenant: tenantId, aggregated: pooled ? POOL_AGGREGATE_TENANT : tenantId };
}

/**
 * Declares one part's own metrics in `registry`, each labelled first by tenant, so that the
 * portal and the broker name and label their series the same way. A metric already declared (by
 * another tenant of the same pool) is returned as it is: one set of metric objects per process.
 */
export function tenantMetrics(registry: Registry) {
  return {
    counter<L extends string>(name: string, help: string, labels: L[] = []): Counter<'tenant' | L> {
      const existing = registry.getSingleMetric(name);
      if (existing) return existing as Counter<'tenant' | L>;
      return new Counter({ name, help, labelNames: ['tenant', ...labels], registers: [registry] });
    },
    histogram<L extends string>(
      name: string,
      help: string,
      labels: L[],
      buckets: number[],
    ): Histogram<'tenant' | L> {
      const existing = registry.getSingleMetric(name);
      if (existing) return existing as Histogram<'tenant' | L>;
      return new Histogram({ name, help, labelNames: ['tenant', ...labels], buckets, registers: [registry] });
    },
  };
}
