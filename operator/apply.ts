import { ApiError, type KubeClient, type KubeObject } from '../common/kube/client.js';
import { needsApply } from './drift.js';
import { ReconcileError } from './errors.js';
import { KINDS, kindByName, objectPath, type ResourceKind } from './kube/kinds.js';
import { ownershipOf } from './ownership.js';
import { handOverReplicas, needsReplicaHandover } from './replica-handover.js';
import { FIELD_MANAGER } from './resources/common.js';
import type { ApplyFailure } from './status.js';

/**
 * Brings the objects one owner (a tenant or a pool) controls to desired state: claim each name,
 * apply what differs, delete what is no longer wanted. Shared by both reconcilers, so a pool's
 * objects get exactly the ownership safety and idle-resync economy a tenant's do.
 */
export interface ApplyCache {
  get(kind: ResourceKind, namespace: string, name: string): KubeObject | undefined;
  /** Objects of the managed kinds whose controller has this uid. */
  ownedBy(uid: string): KubeObject[];
  /** Records what an apply returned ahead of its watch event. */
  remember(kind: ResourceKind, object: KubeObject): void;
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
}

/** A desired object with what is known of the live one of the same name. */
interface Claim {
  object: KubeObject;
  kind: ResourceKind;
  /** The live object when it exists and this owner controls it; undefined when the name is free. */
  live: KubeObject | undefined;
}

/**
 * Checks who holds each desired object's name. The cache holds only objects labelled as ours, so
 * a name it does not know is read from the API server: an object someone else made is reported,
 * never applied over. Any conflict stops the whole pass, because a tenant's pods applied next to
 * another team's ConfigMap or Service would read that ConfigMap or take that Service's traffic.
 */
async function claimNames(
  deps: ApplyDeps,
  owner: Controller,
  desired: KubeObject[],
): Promise<{ claims: Claim[]; conflicts: string[] }> {
  const claims: Claim[] = [];
  const conflicts: string[] = [];
  for (const object of desired) {
    const kind = kindByName(object.kind ?? '')!;
    const name = object.metadata.name!;
    const cached = deps.cache.get(kind, owner.namespace, name);
    const live =
      cached && ownershipOf(cached, owner.uid, owner.kind).ours
        ? cached
        : await deps.client.get<KubeObject>(objectPath(kind, owner.namespace, name));
    const ownership = live ? ownershipOf(live, owner.uid, owner.kind) : undefined;
    if (ownership && !ownership.ours) conflicts.push(`${kind.kind} ${name} (${ownership.owner})`);
    else claims.push({ object, kind, live });
  }
  return { claims, conflicts };
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
  if (conflicts.length > 0)
    return conflictFailure(
      conflicts,
      owner.kind === KINDS.tenant.kind ? 'rename the tenant' : 'rename the pool',
    );
  for (const { object, kind, live } of claims) {
    const name = object.metadata.name!;
    if (!needsApply(object, live)) continue;
    let applied: KubeObject;
    try {
      // A part's autoscaler has the name of its Deployment.
      const autoscaler = deps.cache.get(KINDS.horizontalPodAutoscaler, namespace, name);
      if (needsReplicaHandover(object, live, autoscaler !== undefined))
        await handOverReplicas(deps.client, objectPath(kind, namespace, name), live!);
      applied = await deps.client.apply<KubeObject>(objectPath(kind, namespace, name), object, {
        fieldManager: FIELD_MANAGER,
        force: live !== undefined,
      });
    } catch (error) {
      return applyFailure(`${object.kind ?? kind.kind} ${name}`, error);
    }
    deps.cache.remember(kind, applied);
    outcome.applied.push(`${object.kind}/${name}`);
  }
  const wanted = new Set(desired.map((o) => `${o.kind}/${o.metadata.name}`));
  for (const object of deps.cache.ownedBy(uid)) {
    const id = `${object.kind}/${object.metadata.name}`;
    if (wanted.has(id)) continue;
    const kind = kindByName(object.kind ?? '');
    if (!kind) continue;
    await deps.client.delete(objectPath(kind, namespace, object.metadata.name!));
    outcome.deleted.push(id);
  }
  return undefined;
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
