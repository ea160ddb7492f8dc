/**
 * Why a reconcile failed, as the `reason` of the tenant's Applied condition, its Warning Event and
 * the `jsm_sso_operator_reconcile_errors_total{reason}` metric. A closed set: tests and alerts
 * match on these. Each reason's meaning and remedy are the operator README's table (`npm run gen`).
 */
export const FAILURE_REASONS = {
  ObjectConflict: {
    meaning:
      "An object with the name of one the tenant owns (`<tenant>-config`, `<tenant>-broker`...) exists and is not controlled by this tenant (its controller ownerReference is missing or names another uid). The message names each such object and its owner (controller, or the field managers that wrote it). Nothing is applied: the other team's object is left untouched, and the tenant's pods are not started next to a ConfigMap or Service that is not theirs.",
    action: 'Delete or rename the other object, or rename the tenant.',
  },
  ApplyFailed: {
    meaning:
      "The API server refused an owned object (422 invalid, quota, `failed to allocate a serviceIP`, 5xx...). The message names the object (`Service acme-broker`) and repeats the API server's answer. The objects applied before it stay applied, the ones after it wait.",
    action: 'Fix what the message names.',
  },
  SecretCreateFailed: {
    meaning:
      'A generated signing Secret could not be created (quota, admission policy...), before any owned object is applied.',
    action: 'Fix what the message names, or create the Secret yourself.',
  },
  SecretMissing: {
    meaning:
      "A Secret a JsmSsoPool references (`spec.redis`: URL, CA bundle, client certificate) does not exist in the pool's namespace. Nothing of the pool is applied, so its pods are not started without their Redis.",
    action: "Create the Secret in the pool's namespace, or fix the reference.",
  },
  SecretKeyMissing: {
    meaning:
      'A Secret a JsmSsoPool references exists but lacks the key (`url`, `ca.crt`, or `tls.crt`/`tls.key` of a client certificate). Nothing of the pool is applied.',
    action: 'Add the key to the Secret, or fix the reference.',
  },
  StatusWriteFailed: {
    meaning:
      "The API server refused the status of the tenant or JsmSsoPool (an admission policy or webhook on the `status` subresource, 5xx, a lost connection...). No condition can carry this one: it is a Warning Event `StatusWriteFailed` on the object, with the API server's answer. A tenant or pool deleted since it was read (404) is not a failure: there is nothing left to report on.",
    action:
      'Read the Event (`kubectl describe`); fix what refuses the write, e.g. `kubectl get validatingadmissionpolicies,validatingwebhookconfigurations`.',
  },
  ReconcileFailed: {
    meaning:
      'Anything else: an owned object no longer wanted that the API server refuses to delete (an admission policy), a lost connection, an unexpected answer or error. The metric and the log line carry only this reason; the detail is in the message and the log line.',
    action: "Read the message and the operator's log (`operator.reconcile_failed`).",
  },
} as const satisfies Record<string, { meaning: string; action: string }>;

export type FailureReason = keyof typeof FAILURE_REASONS;

export class ReconcileError extends Error {
  readonly reason: FailureReason;

  constructor(reason: FailureReason, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ReconcileError';
    this.reason = reason;
  }
}

/**
 * The reason a failed reconcile is counted and logged under: its own when it is a ReconcileError,
 * else `ReconcileFailed`. Never an API server reason or an error's class, so the metric's `reason`
 * label stays within this closed set (the detail goes in the log line's message).
 */
export function failureReasonOf(error: unknown): FailureReason {
  return error instanceof ReconcileError ? error.reason : 'ReconcileFailed';
}
