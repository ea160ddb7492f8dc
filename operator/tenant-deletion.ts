import type { JsmSsoTenant } from '../common/config/load.js';
import { isForbidden } from '../common/kube/client.js';
import { apiErrorMessage, failureError } from './apply.js';
import { KINDS } from './kube/kinds.js';
import { hasFinalizer, releaseFinalizer, removeAllPlaced } from './placement.js';
import type { ReconcileOutcome, ReconcilerDeps } from './reconciler.js';
import {
  deletePurgeJob,
  PURGE_FINALIZER,
  type PurgeState,
  purgeState,
  REDIS_PURGE_TIMINGS,
} from './redis-purge.js';
import { purgeJobName } from './resources/purge-job.js';
import { type ApplyFailure, type ConditionInput, toConditions } from './status.js';
import { latestOf, writeStatus } from './status-write.js';

/**
 * How long a deleted tenant's finalizer waits while the API server forbids the operator to remove
 * what the tenant placed in a pool's namespace (its Role there gone, a policy): a refusal that
 * waiting may not mend must not hold the tenant, and so its namespace, in Terminating for ever.
 */
export const CLEANUP_FORBIDDEN_GRACE_MS = 5 * 60_000;

/** The condition a deleted tenant's purge of its Redis keys is told in (ADR 0427). */
export const REDIS_KEYS_PURGED = 'RedisKeysPurged';

/**
 * A tenant being deleted (alone or with its namespace): the garbage collector removes what it owns
 * by ownerReference; the rest is undone under each finalizer of the operator it holds, the pool's
 * placement first, then its Redis keys' purge.
 */
export async function reconcileDeletedTenant(
  deps: ReconcilerDeps,
  key: string,
  live: JsmSsoTenant,
  outcome: ReconcileOutcome,
): Promise<void> {
  if (hasFinalizer(live)) await releasePlaced(deps, key, live, outcome);
  const current = latestOf(live, deps.cache.tenant(live.metadata!.namespace!, live.metadata!.name!));
  if (hasFinalizer(current, PURGE_FINALIZER)) await purgeThenRelease(deps, key, current, outcome);
}

/**
 * What the tenant placed in a pool's namespace goes, then its finalizer. While either fails, Ready=False `DeletionBlocked` names the object (or the finalizer) and the answer,
 * and the reconcile retries with backoff. Forbidden for `cleanupForbiddenGraceMs` since the deletion, the finalizer is released
 * anyway with a Warning Event `CleanupAbandoned` naming what was left: a pool removes a projection
 * whose tenant is gone once it may (pool-reconciler.ts), and the Event says how to do it by hand.
 */
async function releasePlaced(
  deps: ReconcilerDeps,
  key: string,
  live: JsmSsoTenant,
  outcome: ReconcileOutcome,
): Promise<void> {
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
 * spec.redis.purgeOnDeletion: the Job made, read every `pollMs` while it runs (said in
 * `RedisKeysPurged` Unknown), then the finalizer released: after its success (a Normal Event
 * `RedisKeysPurged`), or its failure, the namespace going, or `deadlineMs` since the deletion,
 * whichever comes first (a Warning Event `RedisKeysNotPurged`: the keys are left to expire). A Redis
 * that is down never holds a deletion longer than that. A refusal to make the Job is DeletionBlocked
 * and retried with backoff, within the same deadline.
 */
async function purgeThenRelease(
  deps: ReconcilerDeps,
  key: string,
  live: JsmSsoTenant,
  outcome: ReconcileOutcome,
): Promise<void> {
  const timings = deps.redisPurge ?? REDIS_PURGE_TIMINGS;
  const now = (deps.now ?? (() => new Date()))();
  const late = now.getTime() - Date.parse(String(live.metadata?.['deletionTimestamp'])) >= timings.deadlineMs;
  const namespace = live.metadata!.namespace!;
  const jobName = purgeJobName({ tenant: live });
  const job = `Job ${namespace}/${jobName}`;
  let state: PurgeState;
  try {
    state = await purgeState(deps, live);
  } catch (error) {
    const message = `its Redis keys' purge ${job} could not be made (retrying with backoff): ${apiErrorMessage(error)}`;
    if (!late) return blocked(deps, live, { reason: 'ReconcileFailed', message, error }, now, outcome);
    state = {
      state: 'abandoned',
      why: `${job} could not be made: ${apiErrorMessage(error)}`,
      jobFailed: false,
    };
  }
  if (state.state === 'running' && !late) {
    await setCondition(deps, live, REDIS_KEYS_PURGED, runningCondition(job), now, outcome);
    outcome.requeueAfterMs = timings.pollMs;
    return;
  }
  if (state.state === 'running')
    state = {
      state: 'abandoned',
      why: `${job} had not succeeded ${Math.round(timings.deadlineMs / 1000)} s after the deletion`,
      jobFailed: false,
    };
  const condition = endCondition(state, job, `kubectl -n ${namespace} logs job/${jobName}`);
  await deps.events.record(
    live,
    state.state === 'purged' ? 'Normal' : 'Warning',
    condition.reason,
    condition.message,
  );
  if (state.state === 'abandoned')
    deps.logger.warn({ event: 'operator.redis_keys_not_purged', tenant: key }, condition.message);
  await setCondition(deps, live, REDIS_KEYS_PURGED, condition, now, outcome);
  const current = latestOf(live, deps.cache.tenant(namespace, live.metadata!.name!));
  const refused = await releaseFinalizer(deps, current, outcome, PURGE_FINALIZER);
  if (refused) return blocked(deps, current, refused, now, outcome);
  // A failed Job stays for its pod's output until its TTL; any other goes now, its pod and policy with it.
  if (state.state === 'abandoned' && state.jobFailed) return;
  try {
    await deletePurgeJob(deps, live);
  } catch (error) {
    deps.logger.warn(
      { event: 'operator.redis_purge_job_left', tenant: key, err: error },
      `${job} not deleted: ttlSecondsAfterFinished removes it once it has finished`,
    );
  }
}

function runningCondition(job: string): ConditionInput {
  return {
    status: 'Unknown',
    reason: 'PurgeRunning',
    message: `the tenant is being deleted: ${job} deletes its keys from spec.redis; the tenant goes once it has answered`,
  };
}

function endCondition(
  state: Exclude<PurgeState, { state: 'running' }>,
  job: string,
  logsCommand: string,
): ConditionInput {
  if (state.state === 'purged')
    return {
      status: 'True',
      reason: 'RedisKeysPurged',
      message: `${job} deleted the keys of this incarnation from spec.redis`,
    };
  const logs = state.jobFailed ? `; its pod's output, for an hour: ${logsCommand}` : '';
  return {
    status: 'False',
    reason: 'RedisKeysNotPurged',
    message: `keys not deleted from spec.redis: ${state.why}; finalizer released, the keys are left to expire (at most spec.portal.session.absoluteTimeoutSeconds), or jsm-sso purge deletes them by hand (docs/production.md)${logs}`,
  };
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
  const condition: ConditionInput = {
    status: 'False',
    reason: 'DeletionBlocked',
    message: `the tenant is being deleted, but ${failure.message}`,
  };
  await setCondition(deps, live, 'Ready', condition, now, outcome);
  throw failureError(failure);
}

/** One condition of a deleted tenant's status set, written only when it changed. */
async function setCondition(
  deps: ReconcilerDeps,
  live: JsmSsoTenant,
  type: string,
  input: ConditionInput,
  now: Date,
  outcome: ReconcileOutcome,
): Promise<void> {
  const previous = live.status;
  const generation = (live.metadata?.generation as number | undefined) ?? 0;
  const [condition] = toConditions(previous?.conditions, [[type, input]], generation, now);
  const before = previous?.conditions?.find((c) => c.type === type);
  if (
    before?.status === condition!.status &&
    before.reason === condition!.reason &&
    before.message === condition!.message
  )
    return;
  const others = (previous?.conditions ?? []).filter((c) => c.type !== type);
  const written = await writeStatus(
    deps,
    KINDS.tenant,
    live,
    { ...previous, conditions: [...others, condition!] },
    outcome,
  );
  if (written) deps.cache.remember(KINDS.tenant, written);
  outcome.statusWritten = true;
}
