/**
 * Why a reconcile failed, as the `reason` of the tenant's Applied condition, its Warning Event and
 * the `jsm_sso_operator_reconcile_errors_total{reason}` metric. A closed set: tests and alerts
 * match on these.
 */
export type FailureReason =
  /** The API server refused an owned object (422, quota, 5xx...). */
  | 'ApplyFailed'
  /** An object with an owned object's name exists and belongs to someone else. */
  | 'ObjectConflict'
  /** A generated signing Secret could not be created. */
  | 'SecretCreateFailed'
  /** Anything else (a lost connection, an unexpected answer). */
  | 'ReconcileFailed';

export class ReconcileError extends Error {
  readonly reason: FailureReason;

  constructor(reason: FailureReason, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ReconcileError';
    this.reason = reason;
  }
}
