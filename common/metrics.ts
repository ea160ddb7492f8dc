import { collectDefaultMetrics, Registry } from 'prom-client';

/** One registry per process part, with Node's default process metrics under the `jsm_sso_` prefix. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'jsm_sso_' });
  return registry;
}
