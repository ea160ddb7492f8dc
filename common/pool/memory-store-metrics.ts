import { Counter, Gauge, type Registry } from 'prom-client';
import type { MemoryFlowStore } from '../flowstore/index.js';

/**
 * A Redis-less pool's memory flow store at each scrape (ADR 0197). Refusals are labelled by tenant:
 * a series appears only for a tenant that has been refused, at most two each (its own ceiling, the
 * shared room), so the flooded tenant is named without a series per tenant of the pool (ADR 0101).
 */
export function registerPoolMemoryStoreMetrics(registry: Registry, store: MemoryFlowStore): void {
  new Counter({
    name: 'jsm_sso_pool_flow_store_refusals_total',
    help: "New entries the pool's memory flow store refused, by tenant and reason (FLOW_STORE_TENANT_FULL: the tenant's own ceiling; FLOW_STORE_FULL: the room the tenants share).",
    labelNames: ['tenant', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [tenant, byCode] of store.refusals)
        for (const [reason, count] of byCode) this.inc({ tenant, reason }, count);
    },
  });
  new Gauge({
    name: 'jsm_sso_pool_flow_store_entries',
    help: "Live entries in the pool's memory flow store, over all its tenants.",
    registers: [registry],
    collect() {
      this.set(store.size);
    },
  });
}
