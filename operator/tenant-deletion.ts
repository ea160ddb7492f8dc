import type { JsmSsoTenant } from '../common/config/load.js';
import { isForbidden } from '../common/kube/client.js';
import { failureError } from './apply.js';
import { KINDS } from './kube/kinds.js';
import { hasFinalizer, releaseFinalizer, removeAllPlaced } from './placement.js';
import type { ReconcileOutcome, ReconcilerDeps } from './reconciler.js';
import { type ApplyFailure, type ConditionInput, toConditions } from './status.js';
import { writeStatus } from './status-write.js';

/**
 * How long a deleted tenant's finalizer waits while the API server forbids the operator to remove
 * what the tenant placed in a pool's namespace (its Role there gone, a policy): a refusal that
 * waiting may not mend must not hold the tenant, and so its namespace, in Terminating for ever.
 */
export const CLEANUP_FORBIDDEN_GRACE_MS = 5 * 60_000;

/**
 * A tenant being deleted (alone or with its namespace): the garbage collector removes what it owns
 * by ownerReference; what it placed in a pool's namespace goes here, then its finalizer. While
 * either fails, Ready=False `DeletionBlocked` names the object (or the finalizer) and the answer,
 * and the reconcile retries with backoff. Forbidden for `cleanupForbiddenGraceMs` since the deletion, the finalizer is released
 * anyway with a Warning Event `CleanupAbandoned` naming what was left: a pool removes a projection
 * whose tenant is gone once it may (pool-reconciler.ts), and the Event says how to do it by hand.
 */
export async function reconcileDeletedTenant(
  deps: ReconcilerDeps,
  key: string,
  live: JsmSsoTenant,
  outcome: ReconcileOutcome,
): Promise<void> {
  if (!hasFinalizer(live)) return;
  const now = (deps.now ?? (() => new Date()))();
  const placed = await removeAllPlaced(deps, live, outcome, { deleted: true });
  const deletedFor = now.getTime() - Date.parse(String(live.metadata?.['deletionTimestamp']));
  const grace = deps.cleanupForbiddenGraceMs ?? CLEANUP_FORBIDDEN_GRACE_MS;
  const abandon = placed !== undefined && isForbidden(placed.error) && deletedFor >= grace;
  if (placed && !abandon) return blocked(deps, live, placed, now, outcome);
  if (abandon) {
    const left = deps.cache
      .placedBy(live.metadata?.uid ?? '')
      .map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`);
    // The grace, not the time since the deletion: a note that changed with every retry (the
    // finalizer's removal refused too) made each one a new Event instead of a repeat in its series.
    const message = `still forbidden ${Math.round(grace / 1000)} s after the deletion to remove ${left.join(', ')}: finalizer released; delete them by hand (kubectl -n <namespace> delete <kind> <name>) or restore the operator's permission, and the pool removes them`;
    await deps.events.record(live, 'Warning', 'CleanupAbandoned', message);
    deps.logger.warn({ event: 'operator.cleanup_abandoned', tenant: key, objects: left }, message);
  }
  // Its removal refused too holds the tenant and its namespace: said in Ready, as the above.
  const refused = await releaseFinalizer(deps, live, outcome);
  if (refused) return blocked(deps, live, refused, now, outcome);
}

/**
 * Ready=False `DeletionBlocked` with what failed, written once per distinct message; then the
 * failure is thrown, so the queue retries with backoff.
 */
async function blocked(
  deps: ReconcilerDeps,
  live: JsmSsoTenant,
  failure: ApplyFailure,
  now: Date,
  outcome: ReconcileOutcome,
): Promise<never> {
  // Only Ready changes: the other conditions still describe the generation they were computed on.
  const previous = live.status;
  const generation = (live.metadata?.generation as number | undefined) ?? 0;
  const condition: ConditionInput = {
    status: 'False',
    reason: 'DeletionBlocked',
    message: `the tenant is being deleted, but ${failure.message}`,
  };
  const [ready] = toConditions(previous?.conditions, [['Ready', condition]], generation, now);
  const before = previous?.conditions?.find((c) => c.type === 'Ready');
  if (before?.reason !== ready!.reason || before.message !== ready!.message) {
    const others = (previous?.conditions ?? []).filter((c) => c.type !== 'Ready');
    await writeStatus(deps, KINDS.tenant, live, { ...previous, conditions: [...others, ready!] }, outcome);
    outcome.statusWritten = true;
  }
  throw failureError(failure);
}
