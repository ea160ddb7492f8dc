import { Gauge, type Registry } from 'prom-client';

/** Why a form got no room: the pool's spool is full, or its tenant holds its share of it already. */
export type SpoolRefusal = 'PORTAL_POOL_UPLOADS_BUSY' | 'PORTAL_POOL_SHARE_UPLOADS_BUSY';

/** Room reserved for one form, or why there is none. */
export type SpoolReservation = { release(): void } | { refused: SpoolRefusal };

/** One tenant's way into the pool's spool: what its part's upload forms reserve through (ADR 0211). */
export interface TenantSpoolShare {
  tryReserve(bytes: number): SpoolReservation;
}

/**
 * The part of the spool one tenant may hold while it holds anything: a quarter, as a pool's memory
 * store lets a tenant borrow a quarter of its shared room (ADR 0197). Four tenants at their share
 * fill it; one tenant, whose Atlassian site stalls or whose customers send slowly, leaves the others
 * three quarters.
 */
const TENANT_SHARE_DIVISOR = 4;

/**
 * The bytes of uploads that every tenant of a pool's portal process may have spooled to /tmp at once
 * (ADR 0165). Each tenant's own limits bound its uploads (spec.portal.limits: maxConcurrentUploads
 * forms of maxUploadBytes files); this bounds their sum. The operator sizes the pool pod's /tmp
 * emptyDir from the same number: past its sizeLimit the kubelet evicts the pod, and with it every
 * tenant of the pool, so one busy tenant must be refused before the volume is full, not evict the rest.
 *
 * A form reserves what it may write before a byte of it is read, and gives it back when its response
 * ends; a form that does not fit is refused at once. Every form fits an empty budget: the capacity is
 * at least one form at the largest limits a tenant may set (POOL_UPLOAD_SPOOL_MIN_MIB).
 *
 * Each tenant's forms together hold at most its share (ADR 0211): a tenant's limits are its own team's
 * to set (up to 64 forms of 500 MiB), so without it one tenant's stalled site or slow customers held
 * the whole spool and every other tenant's uploads were refused. A tenant holding nothing may always
 * reserve a form the pool has room for, however large, so no form its limits allow is refused for ever.
 */
export class UploadSpoolBudget {
  readonly capacityBytes: number;
  readonly tenantShareBytes: number;
  #reserved = 0;
  /** Bytes held by each tenant holding any; a tenant is forgotten when it holds none. */
  readonly #byTenant = new Map<string, number>();

  constructor(capacityBytes: number) {
    if (!(Number.isSafeInteger(capacityBytes) && capacityBytes > 0))
      throw new RangeError(
        `an upload spool budget needs a positive whole number of bytes (got ${capacityBytes})`,
      );
    this.capacityBytes = capacityBytes;
    this.tenantShareBytes = Math.floor(capacityBytes / TENANT_SHARE_DIVISOR);
  }

  /** Bytes reserved by the forms being read or sent on now. */
  get reservedBytes(): number {
    return this.#reserved;
  }

  /** Bytes reserved by tenant `tenant`'s forms now. */
  heldBy(tenant: string): number {
    return this.#byTenant.get(tenant) ?? 0;
  }

  /** Tenant `tenant`'s share: built per part, keyed by the tenant, so a rebuilt part counts what its predecessor holds. */
  shareOf(tenant: string): TenantSpoolShare {
    return { tryReserve: (bytes) => this.#tryReserve(tenant, bytes) };
  }

  /**
   * Reserves `bytes` for `tenant` and returns how to give them back (safe to call twice), or why they
   * do not fit: the tenant's share first, so a tenant over it is told so whatever the pool holds.
   */
  #tryReserve(tenant: string, bytes: number): SpoolReservation {
    const held = this.heldBy(tenant);
    if (held > 0 && held + bytes > this.tenantShareBytes)
      return { refused: 'PORTAL_POOL_SHARE_UPLOADS_BUSY' };
    if (this.#reserved + bytes > this.capacityBytes) return { refused: 'PORTAL_POOL_UPLOADS_BUSY' };
    this.#reserved += bytes;
    this.#byTenant.set(tenant, held + bytes);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.#reserved -= bytes;
        const left = this.heldBy(tenant) - bytes;
        if (left > 0) this.#byTenant.set(tenant, left);
        else this.#byTenant.delete(tenant);
      },
    };
  }
}

/**
 * The budget and its use at each scrape: `reserved / capacity` near 1 for long is a pool whose tenants
 * upload more at once than its spec.portal.uploadSpool.maxMiB (their forms answered 503
 * PORTAL_POOL_UPLOADS_BUSY meanwhile). The pool's, not a tenant's: no tenant label (a tenant over its
 * share is in the log's `tenant` and `reason`).
 */
export function registerUploadSpoolMetrics(registry: Registry, budget: UploadSpoolBudget): void {
  new Gauge({
    name: 'jsm_sso_portal_pool_upload_spool_capacity_bytes',
    help: "Bytes of uploads a pool's portal process may have spooled at once, over all its tenants (--upload-spool-mib).",
    registers: [registry],
  }).set(budget.capacityBytes);
  new Gauge({
    name: 'jsm_sso_portal_pool_upload_spool_reserved_bytes',
    help: "Bytes of the pool's upload spool reserved by the forms being read or sent on now.",
    registers: [registry],
    collect() {
      this.set(budget.reservedBytes);
    },
  });
}
