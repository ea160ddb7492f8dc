import type { JsmSsoTenant } from '../common/config/load.js';
import type { JsmSsoPool } from '../common/config/pool.generated.js';
import type { KubeClient, KubeObject } from '../common/kube/client.js';
import { HOST_CLAIMS_ANNOTATION, hostClaimsText } from '../common/pool/claims.js';
import {
  type ApplyOutcome,
  apiErrorMessage,
  applyFailure,
  applyJudged,
  conflictFailure,
  deleteOwned,
  judgeLive,
  type OwnedObjectCache,
  rememberApplied,
} from './apply.js';
import {
  type Guarded,
  guardedWrite,
  preconditioned,
  replacedOwner,
  sameObject,
  type Verdict,
  type Versioned,
} from './guarded-write.js';
import {
  type HostClaimsCache,
  hostClaimedCondition,
  hostClaimsToWrite,
  hostConflicts,
  type PoolRef,
} from './host-claims.js';
import { collectionPath, KINDS, kindByName, objectPath, type ResourceKind } from './kube/kinds.js';
import { describeOwner } from './ownership.js';
import { hostNameRefusal } from './pool-host-names.js';
import { poolServiceRefusal } from './pool-service-hosts.js';
import { tenancyRefusal } from './pool-tenancy.js';
import {
  APPLIED_HASH_ANNOTATION,
  FIELD_MANAGER,
  type OperatorSettings,
  PARTS,
  type Part,
  type SecretFacts,
  tenantNamespace,
} from './resources/common.js';
import { withAppliedHash } from './resources/index.js';
import {
  desiredPooledIngress,
  desiredProjection,
  heldPlacedName,
  heldProjectionName,
  legacyLeftover,
  POOL_FINALIZER,
  type ProjectionSources,
  placedFor,
  projectionKeyHashes,
  projectionMeta,
  servesTls,
} from './resources/projection.js';
import { allSecretKeys, type SecretKeyUse } from './resources/secret-refs.js';
import { keyHashesDigest } from './secret-facts.js';
import { tlsCertificateCondition } from './server-name-claims.js';
import type { ApplyFailure, ConditionInput } from './status.js';
import { markTenantDeleted } from './tenant-deleted-mark.js';

/**
 * A pooled tenant's side of the pool: its projection Secret and Ingress in the pool's namespace,
 * the finalizer that guarantees their removal, and their cleanup when the tenant leaves the pool
 * or goes away. Cross-namespace objects cannot be owned by the tenant, so ownership is the tenant's
 * uid label (projection.ts): an object of the same name without it is never written or deleted.
 */
export type Placement = { mode: 'dedicated' } | { mode: 'pool'; namespace: string; name: string };

export function placementOf(tenant: JsmSsoTenant): Placement {
  const placement = tenant.spec.placement;
  if (placement?.mode !== 'pool' || !placement.pool) return { mode: 'dedicated' };
  return {
    mode: 'pool',
    name: placement.pool.name,
    namespace: placement.pool.namespace ?? tenant.metadata!.namespace ?? 'default',
  };
}

/** How status.placement reads. */
export function placementText(placement: Placement): string {
  return placement.mode === 'pool' ? `pool ${placement.namespace}/${placement.name}` : 'dedicated';
}

export interface PlacementCache extends OwnedObjectCache, HostClaimsCache {
  pool(namespace: string, name: string): (JsmSsoPool & KubeObject) | undefined;
  /** Whether the operator watches this namespace (a pool outside it is never seen). */
  watches(namespace: string): boolean;
  /** A namespace's labels, undefined when it is not known (pool-tenancy.ts). */
  namespaceLabels(namespace: string): Record<string, string> | undefined;
  /** Projections and Ingresses placed for the tenant with this uid, in any namespace. */
  placedBy(uid: string): KubeObject[];
  secretFacts(namespace: string, name: string): Promise<SecretFacts | undefined>;
  /** A projection's keyHashesDigest (all that is kept of it), read on demand; undefined when it does not exist. */
  projectionDigest(namespace: string, name: string): Promise<string | undefined>;
  /** Records a projection just written, ahead of its watch event. */
  rememberProjection(secret: KubeObject): void;
}

export interface PlacementDeps {
  client: KubeClient;
  cache: PlacementCache;
  settings: OperatorSettings;
  /** The clock a host newly named is claimed by (host-claims.ts:hostClaimsToWrite). */
  now?: () => Date;
}

export const FINALIZER_MANAGER = 'jsm-sso-operator-placement';

/**
 * A finalizer of the operator's on a tenant, and the field manager that adds it: one manager per
 * finalizer, since an apply of a manager's list removes the entries it no longer names.
 */
export interface TenantFinalizer {
  name: string;
  manager: string;
}

/** On a pooled tenant until what it placed in its pool's namespace is gone. */
export const PLACEMENT_FINALIZER: TenantFinalizer = { name: POOL_FINALIZER, manager: FINALIZER_MANAGER };

/**
 * Writes what the pooled tenant needs in its pool's namespace and removes what it left elsewhere
 * (another pool). Returns the PoolReady condition and the failure, if any.
 */
export async function reconcilePooled(
  deps: PlacementDeps,
  tenant: JsmSsoTenant,
  placement: Extract<Placement, { mode: 'pool' }>,
  secrets: Record<string, SecretFacts>,
  outcome: ApplyOutcome,
  document: Pick<ProjectionSources, 'document' | 'documentHash'>,
): Promise<{ pool: ConditionInput; tlsCertificate?: ConditionInput; failure?: ApplyFailure }> {
  const uid = tenant.metadata!.uid ?? '';
  const pool = deps.cache.pool(placement.namespace, placement.name);
  if (!pool) {
    const failure = await removePlaced(deps, uid, new Set(), outcome);
    return {
      pool: {
        status: 'False',
        reason: 'PoolNotFound',
        message: deps.cache.watches(placement.namespace)
          ? `JsmSsoPool ${placement.namespace}/${placement.name} does not exist; create it or fix spec.placement.pool`
          : `the operator does not watch namespace ${placement.namespace}, so JsmSsoPool ${placement.namespace}/${placement.name} cannot be found; add the namespace to the chart's watchNamespaces`,
      },
      ...(failure ? { failure } : {}),
    };
  }
  // Checked before anything is written in the pool's namespace: a tenant the pool does not take
  // leaves it as a removed tenant does (projection, Ingress, then the finalizer).
  // A tenant at the pool's Service name is not placed either: every connection an ingress that
  // re-encrypts to the pool opens would be its own (ADR 0249). Nor one at an address or a wildcard:
  // its Ingress rule would route other tenants' hosts (ADR 0254).
  const refusal =
    tenancyRefusal(pool, tenant, deps.cache.namespaceLabels(tenantNamespace(tenant))) ??
    poolServiceRefusal(pool, tenant) ??
    hostNameRefusal(pool, tenant);
  if (refusal) {
    const failure = await releasePlacement(deps, tenant, outcome);
    return { pool: refusal, ...(failure ? { failure } : {}) };
  }
  // A tenant replaced since it was read is not this reconcile's to place (its own follows).
  if (!(await ensureFinalizer(deps, tenant, outcome))) return { pool: poolCondition(pool) };
  const keep = new Set<string>();
  const failure =
    (await applyProjection(deps, tenant, pool, { secrets, ...document }, outcome, keep)) ??
    (await applyPooledIngress(deps, tenant, pool, servedParts(deps, tenant, placement), outcome, keep)) ??
    (await removePlaced(deps, uid, keep, outcome));
  // Its own host taken says more than the pool's state: it stays unserved when the pool is Ready.
  const conflicts = hostConflicts(deps.cache, tenant, placement);
  const condition = conflicts.length > 0 ? hostClaimedCondition(conflicts, placement) : poolCondition(pool);
  const tlsCertificate = tlsCertificateCondition(deps.cache, tenant, pool, placement, conflicts);
  return {
    pool: noteUnservedTls(condition, tenant, pool),
    ...(tlsCertificate ? { tlsCertificate } : {}),
    ...(failure ? { failure } : {}),
  };
}

/**
 * The parts of `tenant` its Ingress routes: those no other tenant holds the host of, judged on the
 * projection as written (the pool serves its claims). A rule on a path of another tenant's host,
 * for either part, would take that tenant's requests there (ADR 0247).
 */
function servedParts(deps: PlacementDeps, tenant: JsmSsoTenant, placement: PoolRef): Part[] {
  const conflicts = hostConflicts(deps.cache, tenant, placement);
  return PARTS.filter((part) => !conflicts.some((conflict) => conflict.part === part));
}

/**
 * A tenant's listener certificate that its pool does not serve (the pool's part has no
 * spec.<part>.tls) is neither copied nor used; PoolReady says so rather than ignore the field.
 * The note follows the two specs only, so it never adds status writes of its own.
 */
function noteUnservedTls(
  condition: ConditionInput,
  tenant: JsmSsoTenant,
  pool: JsmSsoPool & KubeObject,
): ConditionInput {
  const unserved = PARTS.filter((part) => tenant.spec[part].tlsSecretRef && !servesTls(pool, part));
  if (unserved.length === 0) return condition;
  const fields = unserved.map((part) => `spec.${part}.tlsSecretRef`).join(' and ');
  const parts = unserved.map((part) => `spec.${part}.tls`).join(' and ');
  return {
    ...condition,
    message: `${condition.message}; ${fields} not served: the pool has no ${parts} (its pods speak plain HTTP behind the Ingress)`,
  };
}

/**
 * A dedicated tenant, or one its pool does not take: everything it placed in a pool's namespace goes,
 * then the finalizer. A failure keeps the finalizer, so the tenant is not forgotten with objects left.
 */
export async function releasePlacement(
  deps: PlacementDeps,
  tenant: JsmSsoTenant,
  outcome: ApplyOutcome,
): Promise<ApplyFailure | undefined> {
  return (
    (await removeAllPlaced(deps, tenant, outcome, { deleted: false })) ??
    (await releaseFinalizer(deps, tenant, outcome))
  );
}

/**
 * Everything `tenant` placed in pools' namespaces, removed; the first removal refused, as a failure.
 * `deleted`: the tenant is being deleted, and its projections say so to the pool (ADR 0390).
 */
export function removeAllPlaced(
  deps: PlacementDeps,
  tenant: JsmSsoTenant,
  outcome: ApplyOutcome,
  { deleted }: { deleted: boolean },
): Promise<ApplyFailure | undefined> {
  return removePlaced(deps, tenant.metadata!.uid ?? '', new Set(), outcome, deleted);
}

/**
 * The finalizer removed, if the tenant holds it. The API server's refusal (a tenant whose stored spec
 * fails a rule its CRD gained since, where the API server does not ratchet validation; a policy) is
 * a failure that names the finalizer, so that a deleted tenant's Ready says what holds it.
 */
export async function releaseFinalizer(
  deps: PlacementDeps,
  tenant: JsmSsoTenant,
  outcome: ApplyOutcome,
  finalizer = PLACEMENT_FINALIZER,
): Promise<ApplyFailure | undefined> {
  if (!hasFinalizer(tenant, finalizer)) return undefined;
  try {
    await dropFinalizer(deps, tenant, outcome, finalizer);
    return undefined;
  } catch (error) {
    return {
      reason: 'ReconcileFailed',
      message: `the API server refuses to remove its finalizer ${finalizer.name} (retrying with backoff): ${apiErrorMessage(error)}`,
      error,
    };
  }
}

export function hasFinalizer(tenant: JsmSsoTenant, finalizer = PLACEMENT_FINALIZER): boolean {
  return finalizersOf(tenant).includes(finalizer.name);
}

/**
 * A pooled tenant's PoolReady: all a tenant reads of its pool's status. It names the pool's Ready
 * reason, never the pool's message: that message counts pods ("3/4 broker pods available"), so
 * repeating it made every scaling step of the pool one status write per tenant, 10,000 in a pool of
 * 10,000. The pool's own conditions and Events carry the details.
 */
export function poolCondition(pool: JsmSsoPool & KubeObject): ConditionInput {
  const ready = pool.status?.conditions?.find((c) => c.type === 'Ready');
  const { namespace, name } = pool.metadata;
  if (ready?.status === 'True')
    return { status: 'True', reason: 'PoolReady', message: `JsmSsoPool ${namespace}/${name} is Ready` };
  return {
    status: ready?.status === 'False' ? 'False' : 'Unknown',
    reason: 'PoolNotReady',
    message: ready
      ? `JsmSsoPool ${namespace}/${name} is not Ready (${ready.reason}); \`kubectl -n ${namespace} describe jsmssopool ${name}\` says why`
      : `JsmSsoPool ${namespace}/${name} has not reported Ready yet`,
  };
}

/** Whether the tenant holds the finalizer (false: it was replaced or deleted since it was read). */
export async function ensureFinalizer(
  deps: PlacementDeps,
  tenant: JsmSsoTenant,
  outcome: ApplyOutcome,
  finalizer = PLACEMENT_FINALIZER,
): Promise<boolean> {
  return hasFinalizer(tenant, finalizer) || addFinalizer(deps, tenant, outcome, finalizer);
}

/**
 * Adds the finalizer as the only field of a field manager of its own (other controllers' finalizers
 * are never touched). True when written.
 */
function addFinalizer(
  deps: PlacementDeps,
  tenant: JsmSsoTenant,
  outcome: ApplyOutcome,
  finalizer: TenantFinalizer,
): Promise<boolean> {
  const { name, namespace } = tenant.metadata!;
  const applied: KubeObject = {
    apiVersion: tenant.apiVersion ?? KINDS.tenant.apiVersion,
    kind: KINDS.tenant.kind,
    metadata: { name, namespace, finalizers: [finalizer.name] },
  };
  return writeFinalizer(deps, tenant, outcome, (path, over) =>
    deps.client.apply<KubeObject>(path, preconditioned(applied, over), {
      fieldManager: finalizer.manager,
      force: false,
    }),
  );
}

/**
 * Releases the tenant's finalizer, whatever field manager owns it; other controllers' finalizers
 * stay (ADR 0227). An apply of the finalizer manager without it removed only that manager's
 * ownership: a tenant created with the finalizer in its manifest (a `kubectl get -o yaml` export
 * applied again) has it owned by its creator too, and it stayed, the tenant and its namespace
 * Terminating for ever. So, as controller-runtime removes a finalizer: the list as read without this
 * entry, in a merge patch that carries the resourceVersion read, which the API server refuses (409)
 * once the tenant changed; it is then read again and the entry removed from the list it holds now.
 */
export async function dropFinalizer(
  deps: PlacementDeps,
  tenant: JsmSsoTenant,
  outcome: ApplyOutcome,
  finalizer = PLACEMENT_FINALIZER,
): Promise<void> {
  const same = sameObject(tenant);
  await writeFinalizer(
    deps,
    tenant,
    outcome,
    (path, over) =>
      deps.client.request<KubeObject>('PATCH', path, {
        body: {
          metadata: {
            resourceVersion: over?.metadata?.resourceVersion,
            finalizers: finalizersOf(over).filter((f) => f !== finalizer.name),
          },
        },
        contentType: 'application/merge-patch+json',
        query: { fieldManager: finalizer.manager },
      }),
    (live) => (same(live) === 'write' && !finalizersOf(live).includes(finalizer.name) ? 'done' : same(live)),
  );
}

function finalizersOf(object: { metadata?: object } | undefined): string[] {
  return (object?.metadata as { finalizers?: string[] } | undefined)?.finalizers ?? [];
}

/**
 * Writes the tenant's finalizers (`write`, over the tenant as last read) only on the tenant as read
 * (guarded-write.ts): a tenant of that name made since is another tenant, left as it is and named in
 * `outcome.left`. Keeps the tenant as written; true when written.
 */
async function writeFinalizer(
  deps: PlacementDeps,
  tenant: JsmSsoTenant,
  outcome: ApplyOutcome,
  write: (path: string, over: Versioned | undefined) => Promise<KubeObject>,
  judge: (live: KubeObject | undefined) => Verdict = sameObject(tenant),
): Promise<boolean> {
  const { name, namespace } = tenant.metadata!;
  const path = objectPath(KINDS.tenant, namespace, name);
  const guarded = await guardedWrite(deps.client, path, tenant, (over) => write(path, over), judge);
  if ('foreign' in guarded) outcome.left.push(replacedOwner(guarded.foreign, tenant));
  if (!('written' in guarded)) return false;
  deps.cache.remember(KINDS.tenant, guarded.written);
  return true;
}

/** A name in the pool's namespace held by an object this tenant did not place. */
function placedConflict(kind: ResourceKind, namespace: string, name: string, live: KubeObject): ApplyFailure {
  const holder = `${kind.kind} ${namespace}/${name} (${describeOwner(live)})`;
  return conflictFailure([holder], 'rename the tenant');
}

/**
 * Labels, owner, every data key's hash and the host claims carried over must match; the values
 * themselves are read only to write.
 */
async function applyProjection(
  deps: PlacementDeps,
  tenant: JsmSsoTenant,
  pool: JsmSsoPool & KubeObject,
  sources: ProjectionSources,
  outcome: ApplyOutcome,
  keep: Set<string>,
): Promise<ApplyFailure | undefined> {
  const namespace = pool.metadata.namespace!;
  const name = heldProjectionName(deps.cache, tenant, namespace);
  const uid = tenant.metadata!.uid ?? '';
  keep.add(placedId('Secret', namespace, name));
  const leftover = legacyLeftover(deps.cache, tenant, namespace);
  if (leftover) return placedConflict(KINDS.secret, namespace, leftover.metadata.name!, leftover);
  const path = objectPath(KINDS.secret, namespace, name);
  // A name the cache does not know is claimed by creating it: the API server refuses a create over
  // an object that exists (409), which is then read and judged. Reading it first cost every new
  // pooled tenant one more round trip to the API server. A name cached as someone else's is read
  // first (the cache may lag behind its removal), as metadata: who holds the name and its version
  // are all that is judged, and the values of a Secret another team made are none of ours.
  const readMeta = (p: string) => deps.client.getMetadata(p, KINDS.secret);
  const cached = deps.cache.secretMeta(namespace, name);
  const live = cached && !placedFor(cached, uid) ? await readMeta(path) : cached;
  if (live && !placedFor(live, uid)) return placedConflict(KINDS.secret, namespace, name, live);
  const metadata = projectionMeta(tenant, pool, sources, name);
  const now = (deps.now ?? (() => new Date()))();
  const poolRef = { namespace, name: pool.metadata.name! };
  const hostClaims = (over: KubeObject | undefined) =>
    hostClaimsToWrite(deps.cache, tenant, poolRef, over, now);
  if (
    live &&
    live.metadata.annotations?.[APPLIED_HASH_ANNOTATION] ===
      metadata.annotations?.[APPLIED_HASH_ANNOTATION] &&
    live.metadata.annotations?.[HOST_CLAIMS_ANNOTATION] === hostClaimsText(hostClaims(live))
  ) {
    const digest = await deps.cache.projectionDigest(namespace, name);
    if (digest === keyHashesDigest(projectionKeyHashes(tenant, pool, sources))) return undefined;
  }
  try {
    const values = await readValues(deps, tenant);
    // Replaced whole, not applied: a key someone added to the projection must go too (apply
    // leaves other managers' fields). Over the projection as judged, or created into a free name
    // (a 409 when taken meanwhile): an object that changed hands is judged again (guarded-write.ts).
    // The host claims are carried over from the very version the write replaces (its
    // resourceVersion is the write's precondition), so a stale cache never carries an old claim.
    const guarded = await guardedWrite(
      deps.client,
      path,
      live,
      (over) =>
        over
          ? deps.client.request<KubeObject>('PUT', path, {
              body: preconditioned(
                desiredProjection(tenant, pool, sources, values, hostClaims(over), name),
                over,
              ),
              query: { fieldManager: FIELD_MANAGER },
            })
          : deps.client.create<KubeObject>(
              collectionPath(KINDS.secret, namespace),
              desiredProjection(tenant, pool, sources, values, hostClaims(undefined), name),
              { fieldManager: FIELD_MANAGER },
            ),
      (fresh) => (!fresh || placedFor(fresh, uid) ? 'write' : 'foreign'),
      readMeta,
    );
    if ('foreign' in guarded) return placedConflict(KINDS.secret, namespace, name, guarded.foreign);
    if ('written' in guarded) deps.cache.rememberProjection(guarded.written);
  } catch (error) {
    return applyFailure(`Secret ${namespace}/${name}`, error);
  }
  outcome.applied.push(`Secret/${namespace}/${name}`);
  return undefined;
}

/**
 * Reads the tenant's referenced Secrets once each, for the write only; nothing is kept. Read side by
 * side: one after the other, a tenant with four Secrets waited four round trips.
 */
async function readValues(deps: PlacementDeps, tenant: JsmSsoTenant): Promise<(use: SecretKeyUse) => string> {
  const namespace = tenant.metadata!.namespace!;
  const names = [...new Set(allSecretKeys(tenant).map((u) => u.secret))];
  const read = await Promise.all(
    names.map((secret) =>
      deps.client.get<KubeObject & { data?: Record<string, string> }>(
        objectPath(KINDS.secret, namespace, secret),
      ),
    ),
  );
  const data = new Map(names.map((secret, i) => [secret, read[i]?.data ?? {}]));
  return (use) => data.get(use.secret)?.[use.key] ?? '';
}

async function applyPooledIngress(
  deps: PlacementDeps,
  tenant: JsmSsoTenant,
  pool: JsmSsoPool & KubeObject,
  routed: readonly Part[],
  outcome: ApplyOutcome,
  keep: Set<string>,
): Promise<ApplyFailure | undefined> {
  const namespace = pool.metadata.namespace!;
  const held = heldPlacedName(tenant, (name) => deps.cache.get(KINDS.ingress, namespace, name));
  const ingress = desiredPooledIngress(tenant, pool, deps.settings, held, routed);
  if (!ingress) return undefined;
  const desired = withAppliedHash(ingress as KubeObject);
  const name = desired.metadata.name!;
  const uid = tenant.metadata!.uid ?? '';
  keep.add(placedId('Ingress', namespace, name));
  const ours = (o: KubeObject) => placedFor(o, uid);
  const judged = await judgeLive(deps, KINDS.ingress, namespace, desired, ours);
  if ('foreign' in judged) return placedConflict(KINDS.ingress, namespace, name, judged.foreign);
  const { live, apply } = judged;
  if (!apply) return undefined;
  let guarded: Guarded<KubeObject>;
  try {
    guarded = await applyJudged(deps, KINDS.ingress, namespace, desired, live, ours);
  } catch (error) {
    return applyFailure(`Ingress ${namespace}/${name}`, error);
  }
  if ('foreign' in guarded) return placedConflict(KINDS.ingress, namespace, name, guarded.foreign);
  if ('done' in guarded) return undefined;
  rememberApplied(deps.cache, KINDS.ingress, guarded.written, desired);
  outcome.applied.push(`Ingress/${namespace}/${name}`);
  return undefined;
}

function placedId(kind: string, namespace: string | undefined, name: string | undefined): string {
  return `${kind}/${namespace}/${name}`;
}

/**
 * Deletes what the tenant placed that `keep` does not name (only objects carrying its uid label); its
 * projections marked as its deletion first when `deleted` (tenant-deleted-mark.ts).
 */
async function removePlaced(
  deps: PlacementDeps,
  uid: string,
  keep: Set<string>,
  outcome: ApplyOutcome,
  deleted = false,
): Promise<ApplyFailure | undefined> {
  for (const object of deps.cache.placedBy(uid)) {
    const { namespace, name } = object.metadata;
    const id = placedId(object.kind ?? '', namespace, name);
    if (keep.has(id)) continue;
    const kind = kindByName(object.kind ?? '');
    if (!kind) continue;
    try {
      const path = objectPath(kind, namespace, name!);
      const mark =
        deleted && kind === KINDS.secret
          ? (over: Versioned) => markTenantDeleted(deps.client, path, over)
          : undefined;
      if (await deleteOwned(deps.client, path, object, (o) => placedFor(o, uid), outcome, mark))
        outcome.deleted.push(id);
    } catch (error) {
      return {
        reason: 'ReconcileFailed',
        message: `${object.kind} ${namespace}/${name} could not be deleted (retrying with backoff): ${apiErrorMessage(error)}`,
        error,
      };
    }
  }
  return undefined;
}
