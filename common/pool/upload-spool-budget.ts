import { Gauge, type Registry } from 'prom-client';

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
 */
export class UploadSpoolBudget {
  readonly capacityBytes: number;
  #reserved = 0;

  constructor(capacityBytes: number) {
    if (!(Number.isSafeInteger(capacityBytes) && capacityBytes > 0))
      throw new RangeError(
        `an upload spool budget needs a positive whole number of bytes (got ${capacityBytes})`,
      );
    this.capacityBytes = capacityBytes;
  }

  /** Bytes reserved by the forms being read or sent on now. */
  get reservedBytes(): number {
    return this.#reserved;
  }

  /**
   * Reserves `bytes` and returns the function that gives them back (safe to call twice), or
   * undefined when they do not fit beside what is reserved already.
   */
  tryReserve(bytes: number): (() => void) | undefined {
    if (this.#reserved + bytes > this.capacityBytes) return undefined;
    this.#reserved += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#reserved -= bytes;
    };
  }
}

/**
 * The budget and its use at each scrape: `reserved / capacity` near 1 for long is a pool whose tenants
 * upload more at once than its spec.portal.uploadSpool.maxMiB (their forms answered 503
 * PORTAL_POOL_UPLOADS_BUSY meanwhile). The pool's, not a tenant's: no tenant label.
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
