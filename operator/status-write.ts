import { isNotFound, type KubeClient, type KubeObject } from '../common/kube/client.js';
import { apiErrorMessage } from './apply.js';
import { ReconcileError } from './errors.js';
import type { EventRecorder } from './events.js';
import { objectPath, type ResourceKind } from './kube/kinds.js';
import { FIELD_MANAGER, type WorkloadOwner } from './resources/common.js';

/**
 * Writes the status of a tenant or pool (server-side apply of its `status` subresource) and returns
 * what the API server stored, or `undefined` when the object was deleted since the reconcile read
 * it: as controllers do by Kubernetes conventions (controller-runtime's IgnoreNotFound), that is
 * not a failure but nothing left to report on, and its DELETED watch event follows. Any other
 * refusal is a Warning Event and a ReconcileError `StatusWriteFailed`, the one failure a condition
 * cannot carry.
 */
export async function writeStatus(
  deps: { client: KubeClient; events: EventRecorder },
  kind: ResourceKind,
  owner: WorkloadOwner,
  status: unknown,
): Promise<KubeObject | undefined> {
  const { name, namespace } = owner.metadata!;
  const path = objectPath(kind, namespace, name);
  try {
    return await deps.client.apply<KubeObject>(
      `${path}/status`,
      { apiVersion: kind.apiVersion, kind: kind.kind, metadata: { name, namespace }, status },
      { fieldManager: FIELD_MANAGER, force: true },
    );
  } catch (error) {
    // A 404 is also what a missing status subresource answers (a broken CRD): only the object's
    // own absence, read back, makes it a deletion.
    if (isNotFound(error) && (await deleted(deps.client, path))) return undefined;
    const message = `status not written (retrying with backoff): ${apiErrorMessage(error)}`;
    await deps.events.record(owner, 'Warning', 'StatusWriteFailed', message);
    throw new ReconcileError('StatusWriteFailed', message, { cause: error });
  }
}

async function deleted(client: KubeClient, path: string): Promise<boolean> {
  return (await client.get(path).catch(() => null)) === undefined;
}
