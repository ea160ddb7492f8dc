import { ApiError, type KubeClient, type KubeObject } from '../common/kube/client.js';
import { needsApply, needsApplyCached } from './drift.js';
import { ReconcileError } from './errors.js';
import {
  deleteJudged,
  describeObject,
  type Guarded,
  guardedWrite,
  preconditioned,
  type Versioned,
} from './guarded-write.js';
import { KINDS, kindByName, objectPath, type ResourceKind } from './kube/kinds.js';
import { describeOwner, ownershipOf } from './ownership.js';
import { handOverReplicas, needsReplicaHandover } from './replica-handover.js';
import { FIELD_MANAGER } from './resources/common.js';
import type { ApplyFailure } from './status.js';

/**
 * Brings the objects one owner (a tenant or a pool) controls to desired state: claim each name,
 * apply what differs, delete what is no longer wanted. Shared by both reconcilers, so a pool's
 * objects get exactly the ownership safety and idle-resync economy a tenant's do.
 */
export interface OwnedObjectCache {
  /** An object of a managed kind as cached-owned.ts keeps it: identity, labels, owner, digests. */
  get(kind: ResourceKind, namespace: string, name: string): KubeObject | undefined;
  /** Records what an apply returned ahead of its watch event. */
  remember(kind: ResourceKind, object: KubeObject): void;
  /** Whether a cached object's content is the one recorded to hold `desired` (cached-owned.ts:AppliedStates). */
  holds(cached: KubeObject, desired: KubeObject): boolean;
  /** Records that `live`, a whole object just written (`written`, its write's answer) or read, holds `desired`. */
  recordHeld(live: KubeObject, desired: KubeObject, written?: boolean): void;
  /** The generation of an owned Deployment's latest spec the operator wrote (cached-owned.ts:AppliedStates). */
  ownSpecGeneration(deployment: KubeObject): number | undefined;
}

export interface ApplyCache extends OwnedObjectCache {
  /** Objects of the managed kinds whose controller has this uid. */
  ownedBy(uid: string): KubeObject[];
}

export interface ApplyDeps {
  client: KubeClient;
  cache: ApplyCache;
}

/** Who controls the objects: their namespace, and the controller ownerReference's uid and kind. */
export interface Controller {
  namespace: string;
  uid: string;
  kind: string;
}

export interface ApplyOutcome {
  applied: string[];
  deleted: string[];
  /**
   * Objects a write or delete was refused on because they changed hands after they were read
   * (guarded-write.ts): left untouched, and logged as `operator.write_skipped`, reason
   * `OwnershipChanged`.
   */
  left: string[];
}

/** The live object of a desired one's name, as far as applying it needs to know. */
export type Judged =
  /** Its name is held by an object this owner does not control (read whole from the API server). */
  | { foreign: KubeObject }
  | {
      /** The object when it exists (cached, or read whole); undefined when the name is free. */
      live: KubeObject | undefined;
      /** Whether applying `desired` would change it (drift.ts:needsApply). */
      apply: boolean;
    };

/**
 * Who holds a desired object's name, and whether to apply it. The cache holds only objects
 * labelled as ours, and of those no content: an object `ours` accepts is judged on the cache when
 * it can tell (drift.ts:needsApplyCached); else the object is read whole from the API server,
 * where one someone else made is reported as foreign, never applied over, and one of ours is judged
 * by needsApply and, when it holds `desired`, recorded so (an idle resync then reads nothing).
 */
export async function judgeLive(
  deps: { client: KubeClient; cache: OwnedObjectCache },
  kind: ResourceKind,
  namespace: string,
  desired: KubeObject,
  ours: (object: KubeObject) => boolean,
): Promise<Judged> {
  const name = desired.metadata.name!;
  const cached = deps.cache.get(kind, namespace, name);
  if (cached && ours(cached)) {
    const apply = needsApplyCached(desired, cached, (c, d) => deps.cache.holds(c, d));
    if (apply !== undefined) return { live: cached, apply };
  }
  const live = await deps.client.get<KubeObject>(objectPath(kind, namespace, name));
  if (live && !ours(live)) return { foreign: live };
  const apply = needsApply(desired, live);
  if (live && !apply) deps.cache.recordHeld(live, desired);
  return { live, apply };
}

/**
 * Keeps what an apply of `desired` returned, recorded as the state that holds `desired` (ADR 0227):
 * the API server's answer is what `desired` is once stored, whether or not needsApply would say so.
 * It stores quantities canonical (`1000m` as `1`), drops empty values, keeps list items other field
 * managers added, and an admission webhook may rewrite a field: judged against `desired`, such an
 * answer was applied again on every resync, a write each time that changed nothing. Drift after it
 * is a change of the content digest (someone edited the object: read whole and judged) or of the
 * desired state (its applied hash).
 */
export function rememberApplied(
  cache: OwnedObjectCache,
  kind: ResourceKind,
  applied: KubeObject,
  desired: KubeObject,
): void {
  cache.remember(kind, applied);
  cache.recordHeld(applied, desired, true);
}

/** Whether an object's controller ownerReference is this owner's (ownership.ts). */
function controlledBy(owner: Controller): (object: KubeObject) => boolean {
  return (object) => ownershipOf(object, owner.uid, owner.kind).ours;
}

/** A desired object with what is known of the live one of the same name. */
interface Claim {
  object: KubeObject;
  kind: ResourceKind;
  /** The live object when it exists and this owner controls it; undefined when the name is free. */
  live: KubeObject | undefined;
  apply: boolean;
}

/**
 * Checks who holds each desired object's name (judgeLive). Any conflict stops the whole pass,
 * because a tenant's pods applied next to another team's ConfigMap or Service would read that
 * ConfigMap or take that Service's traffic.
 */
async function claimNames(
  deps: ApplyDeps,
  owner: Controller,
  desired: KubeObject[],
): Promise<{ claims: Claim[]; conflicts: string[] }> {
  const claims: Claim[] = [];
  const conflicts: string[] = [];
  const ours = controlledBy(owner);
  for (const object of desired) {
    const kind = kindByName(object.kind ?? '')!;
    const judged = await judgeLive(deps, kind, owner.namespace, object, ours);
    if ('foreign' in judged)
      conflicts.push(`${kind.kind} ${object.metadata.name} (${describeOwner(judged.foreign)})`);
    else claims.push({ object, kind, ...judged });
  }
  return { claims, conflicts };
}

/**
 * Applies `desired` over `live` as judged (this owner's object, or undefined for a free name), with
 * that state as the API server's precondition (guarded-write.ts): an object that changed hands
 * meanwhile is refused, read again and judged afresh, and reported `foreign` if it is not ours.
 */
export function applyJudged(
  deps: { client: KubeClient; cache: OwnedObjectCache },
  kind: ResourceKind,
  namespace: string,
  desired: KubeObject,
  live: KubeObject | undefined,
  ours: (object: KubeObject) => boolean,
): Promise<Guarded<KubeObject>> {
  const name = desired.metadata.name!;
  const path = objectPath(kind, namespace, name);
  return guardedWrite(
    deps.client,
    path,
    live,
    async (over) => {
      // A part's autoscaler has the name of its Deployment.
      const autoscaler = deps.cache.get(KINDS.horizontalPodAutoscaler, namespace, name);
      const target = needsReplicaHandover(desired, over, autoscaler !== undefined)
        ? await handOverReplicas(deps.client, path, over!)
        : over;
      return deps.client.apply<KubeObject>(path, preconditioned(desired, target), {
        fieldManager: FIELD_MANAGER,
        force: target !== undefined,
      });
    },
    (fresh) => {
      if (!fresh) return 'write';
      if (!ours(fresh)) return 'foreign';
      if (needsApply(desired, fresh)) return 'write';
      deps.cache.recordHeld(fresh, desired);
      return 'done';
    },
  );
}

/**
 * Deletes `object`, read as this owner's, only while it still is (guarded-write.ts). One that
 * changed hands since is left untouched and named in `outcome.left`; true when it was deleted.
 * `mark`, if given, writes over the judged object first and returns the state to delete (a deleted
 * tenant's projection: tenant-deleted-mark.ts).
 */
export async function deleteOwned(
  client: KubeClient,
  path: string,
  object: KubeObject,
  ours: (object: KubeObject) => boolean,
  outcome: ApplyOutcome,
  mark?: (over: Versioned) => Promise<Versioned>,
): Promise<boolean> {
  const guarded = await guardedWrite(
    client,
    path,
    object,
    async (over) => deleteJudged(client, path, mark ? await mark(over!) : over!),
    (fresh) => (!fresh ? 'done' : ours(fresh) ? 'write' : 'foreign'),
    // Whose it is now and its version are all a delete is judged on: a Secret's values (a
    // projection, or another team's Secret made under its name) are not read for it.
    (p) => client.getMetadata(p, object),
  );
  if ('foreign' in guarded) outcome.left.push(changedHands(guarded.foreign));
  return 'written' in guarded;
}

/** An object left untouched because it changed hands, in words for the log line. */
export function changedHands(live: KubeObject): string {
  return `${describeObject(live)}, ${describeOwner(live)}`;
}

/** The conflict failure: nothing applied, the other objects left untouched. */
export function conflictFailure(conflicts: string[], rename: string): ApplyFailure {
  const message = `${conflicts.join('; ')}: left untouched and nothing applied; delete or rename ${conflicts.length > 1 ? 'these objects' : 'this object'}, or ${rename}`;
  return { reason: 'ObjectConflict', message, error: new ReconcileError('ObjectConflict', message) };
}

/**
 * Applies what differs and deletes what is no longer wanted. Force (taking fields from other
 * field managers, which is how drift is undone) is used only on objects this owner controls; a
 * new object is applied without it. The first failure stops the pass and is returned (not
 * thrown), so the owner's status can say which object failed and why.
 */
export async function applyObjects(
  deps: ApplyDeps,
  owner: Controller,
  desired: KubeObject[],
  outcome: ApplyOutcome,
): Promise<ApplyFailure | undefined> {
  const { namespace, uid } = owner;
  const { claims, conflicts } = await claimNames(deps, owner, desired);
  if (conflicts.length > 0) return conflictFailure(conflicts, renameAdvice(owner));
  const ours = controlledBy(owner);
  for (const { object, kind, live, apply } of claims) {
    const name = object.metadata.name!;
    if (!apply) continue;
    let guarded: Guarded<KubeObject>;
    try {
      guarded = await applyJudged(deps, kind, namespace, object, live, ours);
    } catch (error) {
      return applyFailure(`${object.kind ?? kind.kind} ${name}`, error);
    }
    if ('foreign' in guarded) {
      const holder = `${kind.kind} ${name} (${describeOwner(guarded.foreign)}; made or changed while being applied)`;
      return conflictFailure([holder], renameAdvice(owner));
    }
    if ('done' in guarded) continue;
    rememberApplied(deps.cache, kind, guarded.written, object);
    outcome.applied.push(`${object.kind}/${name}`);
  }
  const wanted = new Set(desired.map((o) => `${o.kind}/${o.metadata.name}`));
  for (const object of deps.cache.ownedBy(uid)) {
    const id = `${object.kind}/${object.metadata.name}`;
    if (wanted.has(id)) continue;
    const kind = kindByName(object.kind ?? '');
    if (!kind) continue;
    const path = objectPath(kind, namespace, object.metadata.name!);
    if (await deleteOwned(deps.client, path, object, ours, outcome)) outcome.deleted.push(id);
  }
  return undefined;
}

function renameAdvice(owner: Controller): string {
  return owner.kind === KINDS.tenant.kind ? 'rename the tenant' : 'rename the pool';
}

/**
 * What a failed reconcile throws after recording it: the condition's reason, so the metric and the
 * log line count the same closed set.
 */
export function failureError(failure: ApplyFailure): ReconcileError {
  return failure.error instanceof ReconcileError
    ? failure.error
    : new ReconcileError(failure.reason, failure.message, { cause: failure.error });
}

/** An object the API server refused, named, with its answer. */
export function applyFailure(object: string, error: unknown): ApplyFailure {
  return {
    reason: 'ApplyFailed',
    message: `${object} could not be applied (retrying with backoff): ${apiErrorMessage(error)}`,
    error,
  };
}

/**
 * The API server's answer without the request line. Owned objects carry no Secret values (those
 * stay in Secrets, which are never applied here), so the server cannot echo one back; a
 * projection's refusal names only its keys.
 */
export function apiErrorMessage(error: unknown): string {
  const text =
    error instanceof ApiError
      ? `${error.status} ${error.reason}: ${error.serverMessage}`
      : error instanceof Error
        ? error.message
        : String(error);
  return text.slice(0, 1000);
}
