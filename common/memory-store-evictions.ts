import { Counter, type Registry } from 'prom-client';
import type { MemoryFlowStore } from './flowstore/index.js';

/**
 * Sessions' entries a memory flow store (no spec.redis) dropped to make room for new ones (ADR
 * 0357), by tenant: `tenantOf` names the tenant of a store's owner (a pool's tenant; a dedicated
 * part's one). A series appears only for a tenant whose sessions were evicted.
 */
export function registerMemoryStoreEvictions(
  registry: Registry,
  store: MemoryFlowStore,
  tenantOf: (owner: string) => string,
): void {
  new Counter({
    name: 'jsm_sso_flow_store_sessions_evicted_total',
    help: "Entries of sessions (a session's record and its logout indexes) the memory flow store dropped, the oldest first, to make room when full, by tenant: an IdP logout no longer reaches those sessions.",
    labelNames: ['tenant'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [owner, count] of store.evictions) this.inc({ tenant: tenantOf(owner) }, count);
    },
  });
}
