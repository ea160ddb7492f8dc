import { isNotFound, type KubeClient, type KubeObject } from '../common/kube/client.js';
import { type ApplyOutcome, apiErrorMessage } from './apply.js';
import { ReconcileError } from './errors.js';
import type { EventRecorder } from './events.js';
import { guardedWrite, preconditioned, replacedOwner, sameObject } from './guarded-write.js';
import { objectPath, type ResourceKind } from './kube/kinds.js';
import { FIELD_MANAGER, type WorkloadOwner } from './resources/common.js';

/**
 * Writes the status of a tenant or pool (server-side apply of its `status` subresource) and returns
 * what the API server stored, or `undefined` when the object was deleted since the reconcile read
 * it: as controllers do by Kubernetes conventions (controller-runtime's IgnoreNotFound), that is
 * not a failure but nothing left to report on, and its DELETED watch event follows. The write
 * carries the resourceVersion of `owner` as read (the status subresource ignores a uid, so the
 * version is the only precondition it honours): a tenant deleted and made again under its name
 * since is another tenant, whose status is not this reconcile's to write; it is left as it is and
 * named in `outcome.left` (guarded-write.ts). Any other refusal is a Warning Event and a
 * ReconcileError `StatusWriteFailed`, the one failure a condition cannot carry.
 */
export async function writeStatus(
  deps: { client: KubeClient; events: EventRecorder },
  kind: ResourceKind,
  owner: WorkloadOwner & { metadata?: { resourceVersion?: string } },
  status: unknown,
  outcome: Pick<ApplyOutcome, 'left'>,
): Promise<KubeObject | undefined> {
  const { name, namespace } = owner.metadata!;
  const path = objectPath(kind, namespace, name);
  const written = { apiVersion: kind.apiVersion, kind: kind.kind, metadata: { name, namespace }, status };
  try {
    const guarded = await guardedWrite(
      deps.client,
      `${path}/status`,
      owner,
      (over) =>
        deps.client.apply<KubeObject>(`${path}/status`, preconditioned(written, over), {
          fieldManager: FIELD_MANAGER,
          force: true,
        }),
      sameObject(owner),
      // After a 409, the object itself is read, not its status subresource: the same object and
      // version, and `get` on the subresource is a grant the chart does not give (ADR 0258).
      () => deps.client.get<KubeObject>(path),
    );
    if ('foreign' in guarded) outcome.left.push(replacedOwner(guarded.foreign, owner));
    return 'written' in guarded ? guarded.written : undefined;
  } catch (error) {
    // A 404 is also what a missing status subresource answers (a broken CRD): only the object's
    // own absence, read back, makes it a deletion.
    if (isNotFound(error) && (await deleted(deps.client, path))) return undefined;
    const message = `status not written (retrying with backoff): ${apiErrorMessage(error)}`;
    await deps.events.record(owner, 'Warning', 'StatusWriteFailed', message);
    throw new ReconcileError('StatusWriteFailed', message, { cause: error });
  }
}

/**
 * The freshest version known of the object a reconcile read: the cached one when it is still that
 * object (its uid), which holds the operator's own writes of the pass (the finalizer), else the
 * one read, whose version the API server then refuses if it was replaced.
 */
export function latestOf<T extends WorkloadOwner>(read: T, cached: T | undefined): T {
  return cached && cached.metadata?.uid === read.metadata?.uid ? cached : read;
}

async function deleted(client: KubeClient, path: string): Promise<boolean> {
  return (await client.get(path).catch(() => null)) === undefined;
}
