import type { JsmSsoPool, PoolStatus } from '../common/config/pool.generated.js';
import type { KubeClient, KubeObject } from '../common/kube/client.js';
import type { Logger } from '../common/log.js';
import {
  type ApplyCache,
  type ApplyOutcome,
  apiErrorMessage,
  applyObjects,
  deleteOwned,
  failureError,
} from './apply.js';
import { failureReasonOf, ReconcileError } from './errors.js';
import { type EventRecorder, recordTransitions } from './events.js';
import type { Versioned } from './guarded-write.js';
import { KINDS, objectPath } from './kube/kinds.js';
import { missingSecrets } from './missing-secrets.js';
import { logNamespaceTerminating, namespaceTerminatingCondition } from './namespace-terminating.js';
import { childName, type OperatorSettings, type SecretFacts } from './resources/common.js';
import { desiredPoolObjects, invalidPoolSpec, poolContext, poolSecretKeys } from './resources/pool.js';
import {
  POOL_LABEL,
  placedFor,
  TENANT_NAME_LABEL,
  TENANT_NAMESPACE_LABEL,
  TENANT_UID_LABEL,
} from './resources/projection.js';
import {
  type ApplyFailure,
  appliedCondition,
  type ConditionInput,
  comparableConditions,
  deploymentsWithheld,
  partConditions,
  toConditions,
} from './status.js';
import { writeStatus } from './status-write.js';
import { markTenantDeleted } from './tenant-deleted-mark.js';
import { unreferableSecrets, unreferableSecretsMessage } from './unreferable-secrets.js';
import { DEPLOYMENTS_REMOVED, removeDeployments } from './unreferable-workloads.js';

/**
 * One level-triggered reconcile of one JsmSsoPool: its Deployments, Services and the rest through
 * the same apply path as a tenant's objects, the removal of projections whose tenant is gone (a
 * finalizer removed by hand, a tenant namespace deleted while the operator was down), and a status
 * written only when it changed.
 */
export interface PoolCache extends ApplyCache {
  pool(namespace: string, name: string): (JsmSsoPool & KubeObject) | undefined;
  tenantUid(namespace: string, name: string): string | undefined;
  /** Whether the operator watches this namespace (else a tenant there cannot be judged gone). */
  watches(namespace: string): boolean;
  /** Projections (metadata) and Ingresses placed in this pool, by its `<namespace>/<name>`. */
  placedIn(poolKey: string): KubeObject[];
  secretFacts(namespace: string, name: string): Promise<SecretFacts | undefined>;
  /** A Secret's cached metadata, without its values. */
  secretMeta(namespace: string, name: string): KubeObject | undefined;
}

/** The condition types a pool's status carries from the operator. */
const POOL_CONDITION_TYPES = ['Applied', 'BrokerAvailable', 'PortalAvailable', 'Ready'] as const;

/** Applied has its Warning of its own (every failed apply); Ready's transitions are Events too. */
const POOL_EVENT_CONDITIONS = (condition: { type: string }) => condition.type === 'Ready';

export interface PoolReconcilerDeps {
  client: KubeClient;
  settings: OperatorSettings;
  cache: PoolCache;
  events: EventRecorder;
  logger: Logger;
  /** Records which Secrets a pool reads (its Redis), so a change requeues it. */
  indexSecrets: (key: string, secretKeys: string[]) => void;
  now?: () => Date;
}

export interface PoolOutcome extends ApplyOutcome {
  statusWritten: boolean;
}

export async function reconcilePool(deps: PoolReconcilerDeps, key: string): Promise<PoolOutcome> {
  const [namespace, name] = key.split('/') as [string, string];
  const outcome: PoolOutcome = { applied: [], deleted: [], left: [], statusWritten: false };
  const pool = deps.cache.pool(namespace, name);
  // Deleted: the garbage collector removes its objects and the projections (owner references).
  if (!pool || pool.metadata.deletionTimestamp) return outcome;
  deps.indexSecrets(
    `pool:${key}`,
    poolSecretKeys(pool).map((u) => `${namespace}/${u.secret}`),
  );
  let failure: ApplyFailure | undefined;
  try {
    failure = (await applyPool(deps, pool, outcome)) ?? (await removeOrphans(deps, key, outcome));
  } catch (error) {
    failure = {
      reason: failureReasonOf(error),
      message: `reconcile failed (retrying with backoff): ${apiErrorMessage(error)}`,
      error,
    };
  }
  const ended = namespaceTerminatingCondition(failure);
  const status = poolStatus(deps, pool, ended ?? appliedCondition(true, failure));
  if (JSON.stringify(comparable(pool.status)) !== JSON.stringify(comparable(status))) {
    const written = await writeStatus(deps, KINDS.pool, pool, status, outcome);
    // Deleted meanwhile: whatever failed, nothing is left to report it on or retry.
    if (!written) return outcome;
    deps.cache.remember(KINDS.pool, written);
    outcome.statusWritten = true;
    const applied = status.conditions?.find((c) => c.type === 'Applied');
    if (applied?.status === 'False')
      await deps.events.record(pool, 'Warning', applied.reason, `Applied: ${applied.message}`);
    // Its tenants' PoolReady names only the reason and points here: the pool tells the rest.
    await recordTransitions(
      deps.events,
      pool,
      pool.status?.conditions,
      status.conditions,
      POOL_EVENT_CONDITIONS,
    );
  }
  if (ended) logNamespaceTerminating(deps.logger, { pool: key });
  else if (failure) throw failureError(failure);
  return outcome;
}

async function applyPool(
  deps: PoolReconcilerDeps,
  pool: JsmSsoPool & KubeObject,
  outcome: ApplyOutcome,
): Promise<ApplyFailure | undefined> {
  const namespace = pool.metadata.namespace!;
  const invalid = invalidPoolSpec(pool);
  if (invalid) {
    const message = `${invalid}; nothing of the pool is applied until it is fixed`;
    return { reason: 'SpecInvalid', message, error: new ReconcileError('SpecInvalid', message) };
  }
  // Before any value is read: a projection's values are another tenant's.
  const unreferable = unreferableSecrets(namespace, poolSecretKeys(pool), (ns, name) =>
    deps.cache.secretMeta(ns, name),
  );
  const owner = { namespace, uid: pool.metadata.uid ?? '', kind: KINDS.pool.kind };
  if (unreferable.length > 0) {
    const removal = await removeDeployments(deps, owner, outcome);
    if (removal) return removal;
    const message = `${unreferableSecretsMessage(unreferable, 'pool')}; ${DEPLOYMENTS_REMOVED}, and nothing else of the pool is applied`;
    return {
      reason: 'SecretNotReferable',
      message,
      error: new ReconcileError('SecretNotReferable', message),
    };
  }
  const secrets: Record<string, SecretFacts> = {};
  for (const use of poolSecretKeys(pool)) {
    const facts = secrets[use.secret] ?? (await deps.cache.secretFacts(namespace, use.secret));
    if (facts) secrets[use.secret] = facts;
  }
  // Judged as a dedicated tenant's Secrets are, but as an apply failure: nothing of the pool is
  // applied, so its pods never start without their Redis.
  const missing = missingSecrets(poolSecretKeys(pool), secrets, namespace);
  if (missing) {
    const message = `${missing.message}; nothing of the pool is applied until then`;
    return { reason: missing.reason, message, error: new ReconcileError(missing.reason, message) };
  }
  return applyObjects(deps, owner, desiredPoolObjects(poolContext(pool, deps.settings, secrets)), outcome);
}

/**
 * A projection (and Ingress) whose tenant no longer exists, or is another tenant of the same name
 * now: removed. A tenant in a namespace this operator does not watch cannot be judged, so its
 * objects stay.
 */
async function removeOrphans(
  deps: PoolReconcilerDeps,
  poolKey: string,
  outcome: ApplyOutcome,
): Promise<ApplyFailure | undefined> {
  for (const object of deps.cache.placedIn(poolKey)) {
    const labels = object.metadata.labels ?? {};
    const tenantNamespace = labels[TENANT_NAMESPACE_LABEL] ?? '';
    const uid = labels[TENANT_UID_LABEL] ?? '';
    if (!deps.cache.watches(tenantNamespace) || !placedFor(object, uid)) continue;
    if (deps.cache.tenantUid(tenantNamespace, labels[TENANT_NAME_LABEL] ?? '') === uid) continue;
    const kind = object.kind === KINDS.ingress.kind ? KINDS.ingress : KINDS.secret;
    const path = objectPath(kind, object.metadata.namespace, object.metadata.name!);
    // Still the gone tenant's when deleted: a new tenant of that name may have placed its own. Its
    // projection tells the pool the tenant is gone, so its keys are purged (ADR 0390).
    const mark =
      kind === KINDS.secret ? (over: Versioned) => markTenantDeleted(deps.client, path, over) : undefined;
    if (await deleteOwned(deps.client, path, object, (o) => placedFor(o, uid), outcome, mark))
      outcome.deleted.push(`${object.kind}/${object.metadata.namespace}/${object.metadata.name}`);
  }
  return undefined;
}

function poolStatus(
  deps: PoolReconcilerDeps,
  pool: JsmSsoPool & KubeObject,
  applied: ConditionInput,
): PoolStatus {
  const namespace = pool.metadata.namespace!;
  const { broker, portal } = partConditions(
    deps.cache,
    namespace,
    (part) => childName(pool, part),
    deploymentsWithheld(applied, 'Applied'),
  );
  const waiting = [applied, broker, portal].find((c) => c.status !== 'True');
  const ready: ConditionInput = waiting
    ? { status: 'False', reason: waiting.reason, message: waiting.message }
    : { status: 'True', reason: 'AllComponentsReady', message: 'the pool portal and broker are serving' };
  const generation = pool.metadata.generation ?? 0;
  const poolKey = `${namespace}/${pool.metadata.name}`;
  return {
    observedGeneration: generation,
    conditions: toConditions(
      pool.status?.conditions,
      [
        ['Applied', applied],
        ['BrokerAvailable', broker],
        ['PortalAvailable', portal],
        ['Ready', ready],
      ],
      generation,
      (deps.now ?? (() => new Date()))(),
    ),
    tenantCount: deps.cache
      .placedIn(poolKey)
      .filter((o) => o.kind === KINDS.secret.kind && o.metadata.labels?.[POOL_LABEL]).length,
  };
}

function comparable(status: PoolStatus | undefined): unknown {
  return [
    status?.observedGeneration,
    comparableConditions(status?.conditions, POOL_CONDITION_TYPES),
    status?.tenantCount,
  ];
}
