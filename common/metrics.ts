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
 * Declares one part's own metrics in `registry`, each labelled first by tenant, so that the
 * portal and the broker name and label their series the same way.
 */
export function tenantMetrics(registry: Registry) {
  return {
    counter<L extends string>(name: string, help: string, labels: L[] = []): Counter<'tenant' | L> {
      return new Counter({ name, help, labelNames: ['tenant', ...labels], registers: [registry] });
    },
    histogram<L extends string>(
      name: string,
      help: string,
      labels: L[],
      buckets: number[],
    ): Histogram<'tenant' | L> {
      return new Histogram({ name, help, labelNames: ['tenant', ...labels], buckets, registers: [registry] });
    },
  };
}
