import type { V1Job } from '@kubernetes/client-node';
import type { JsmSsoTenant } from '../common/config/load.js';
import { isConflict, namespaceTerminating } from '../common/kube/client.js';
import { TENANT_UID_LABEL } from '../common/pool/kube-source.js';
import { type ApplyOutcome, apiErrorMessage } from './apply.js';
import { collectionPath, KINDS, objectPath } from './kube/kinds.js';
import {
  ensureFinalizer,
  type PlacementDeps,
  placementOf,
  releaseFinalizer,
  type TenantFinalizer,
} from './placement.js';
import { FIELD_MANAGER, MANAGED_BY, type SecretFacts } from './resources/common.js';
import type { NetworkPolicy } from './resources/networkpolicy.js';
import { desiredPurgeJob, desiredPurgeNetworkPolicy, purgeJobName } from './resources/purge-job.js';
import { redisKeys } from './resources/secret-refs.js';
import type { ApplyFailure } from './status.js';
import type { TenantVerdicts } from './tenant-verdicts.js';

/**
 * spec.redis.purgeOnDeletion (ADR 0427): a dedicated tenant's keys deleted from its Redis when the
 * tenant is, by a Job in its namespace (resources/purge-job.ts), a finalizer holding the tenant until
 * the Job has answered, and never longer than `deadlineMs`.
 */
export const PURGE_FINALIZER: TenantFinalizer = {
  name: 'jsm-sso.io/redis-purge',
  manager: 'jsm-sso-operator-redis-purge',
};

export interface RedisPurgeTimings {
  /**
   * Since the deletion: past it the finalizer goes whatever the Job is doing. Longer than the Job's
   * own activeDeadlineSeconds (5 min), so a Job that ran is judged by its own answer.
   */
  deadlineMs: number;
  /** How often a deleted tenant's Job is read while it runs (the operator watches no Jobs). */
  pollMs: number;
}

export const REDIS_PURGE_TIMINGS: RedisPurgeTimings = { deadlineMs: 10 * 60_000, pollMs: 5_000 };

/** Whether the tenant's deletion purges its keys: a dedicated tenant's own Redis, asked for. */
export function purgesOnDeletion(tenant: JsmSsoTenant): boolean {
  return placementOf(tenant).mode === 'dedicated' && tenant.spec.redis?.purgeOnDeletion === true;
}

/**
 * The finalizer held exactly while the tenant asks for the purge (added at a reconcile that finds the
 * field set, released at one that finds it unset or the tenant pooled); a refused write is a failure,
 * as the placement finalizer's.
 */
export async function keepPurgeFinalizer(
  deps: PlacementDeps,
  tenant: JsmSsoTenant,
  outcome: ApplyOutcome,
): Promise<ApplyFailure | undefined> {
  if (!purgesOnDeletion(tenant)) return releaseFinalizer(deps, tenant, outcome, PURGE_FINALIZER);
  try {
    await ensureFinalizer(deps, tenant, outcome, PURGE_FINALIZER);
    return undefined;
  } catch (error) {
    return {
      reason: 'ReconcileFailed',
      message: `the API server refuses to add its finalizer ${PURGE_FINALIZER.name} (retrying with backoff): ${apiErrorMessage(error)}`,
      error,
    };
  }
}

/** Where a deleted tenant's purge stands. */
export type PurgeState =
  | { state: 'purged' }
  | { state: 'running' }
  /** `failed`: the Job's own failure, its pod kept for `kubectl logs` until its TTL; else the operator gave up. */
  | { state: 'abandoned'; why: string; jobFailed: boolean };

export interface PurgeDeps extends PlacementDeps {
  verdicts: TenantVerdicts;
}

/**
 * Reads the tenant's Job, creating it (and its NetworkPolicy) when there is none, and says where the
 * purge stands. A refusal the API server may lift (a quota, a webhook down) is thrown, for a retry
 * with backoff; one it will not (its namespace being deleted, the spec no longer valid) gives up.
 */
export async function purgeState(deps: PurgeDeps, tenant: JsmSsoTenant): Promise<PurgeState> {
  const namespace = tenant.metadata!.namespace!;
  const name = purgeJobName({ tenant });
  const path = objectPath(KINDS.job, namespace, name);
  const live = await deps.client.get<V1Job>(path);
  if (live) {
    const verdict = judgeJob(live, tenant.metadata?.uid ?? '');
    if (verdict !== 'earlier') return verdict;
    // An earlier tenant of the name left its failed Job for its logs: this incarnation's replaces it.
    await deps.client.delete(path, { propagationPolicy: 'Background' }, { uid: live.metadata!.uid! });
    return { state: 'running' };
  }
  const valid = deps.verdicts.validate(tenant).tenant;
  if (!valid)
    return { state: 'abandoned', why: 'its spec is not valid, so no Job was made', jobFailed: false };
  try {
    const job = await deps.client.create<V1Job>(
      collectionPath(KINDS.job, namespace),
      desiredPurgeJob({ tenant: valid, settings: deps.settings, secrets: await redisSecrets(deps, valid) }),
      { fieldManager: FIELD_MANAGER },
    );
    await createIfAbsent(deps, desiredPurgeNetworkPolicy(job, { tenant: valid }));
  } catch (error) {
    if (namespaceTerminating(error))
      return {
        state: 'abandoned',
        why: 'its namespace is being deleted, so no Job can be made there',
        jobFailed: false,
      };
    throw error;
  }
  return { state: 'running' };
}

/** Deletes the tenant's Job (its pod and NetworkPolicy with it); a Job already gone is no error. */
export function deletePurgeJob(deps: PlacementDeps, tenant: JsmSsoTenant): Promise<void> {
  const path = objectPath(KINDS.job, tenant.metadata!.namespace!, purgeJobName({ tenant }));
  return deps.client.delete(path, { propagationPolicy: 'Background' });
}

/** A Job's answer as the job controller wrote it; `earlier` when another incarnation's; `foreign` abandons. */
function judgeJob(job: V1Job, uid: string): PurgeState | 'earlier' {
  const labels = job.metadata?.labels ?? {};
  if (labels['app.kubernetes.io/managed-by'] !== MANAGED_BY)
    return {
      state: 'abandoned',
      why: `Job ${job.metadata?.name} is someone else's (no app.kubernetes.io/managed-by=${MANAGED_BY})`,
      jobFailed: false,
    };
  if (labels[TENANT_UID_LABEL] !== uid) return 'earlier';
  const condition = (type: string) =>
    job.status?.conditions?.find((c) => c.type === type && c.status === 'True');
  if (condition('Complete')) return { state: 'purged' };
  const failed = condition('Failed');
  if (failed)
    return {
      state: 'abandoned',
      why: `Job ${job.metadata?.name} failed (${failed.reason ?? 'Failed'}: ${failed.message ?? ''})`,
      jobFailed: true,
    };
  return { state: 'running' };
}

/** The facts of the Redis Secrets, so that only keys present are mounted (optional ones otherwise block the pod). */
async function redisSecrets(deps: PlacementDeps, tenant: JsmSsoTenant): Promise<Record<string, SecretFacts>> {
  const namespace = tenant.metadata!.namespace!;
  const secrets: Record<string, SecretFacts> = {};
  for (const name of new Set(redisKeys(tenant.spec.redis).map((use) => use.secret))) {
    const facts = await deps.cache.secretFacts(namespace, name);
    if (facts) secrets[name] = facts;
  }
  return secrets;
}

/** Created; one of the name already there is left (the Job's own, from a pass that stopped half-way). */
async function createIfAbsent(deps: PlacementDeps, object: NetworkPolicy): Promise<void> {
  try {
    await deps.client.create(collectionPath(KINDS.networkPolicy, object.metadata.namespace), object, {
      fieldManager: FIELD_MANAGER,
    });
  } catch (error) {
    if (!isConflict(error)) throw error;
  }
}
