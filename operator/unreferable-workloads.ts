import type { KubeObject } from '../common/kube/client.js';
import { type ApplyDeps, type ApplyOutcome, apiErrorMessage, type Controller, deleteOwned } from './apply.js';
import { ReconcileError } from './errors.js';
import { KINDS, objectPath } from './kube/kinds.js';
import { ownershipOf } from './ownership.js';
import type { ApplyFailure } from './status.js';

/**
 * Removes the Deployments `owner` (a tenant or a pool) controls, once its spec names a projection
 * (unreferable-secrets.ts). Their pod templates mount each named Secret by name: made while the name
 * held a Secret of the owner's team, they would have the kubelet copy the projection written there
 * since (another tenant's keys, its signing key among them) into the running pods, which read the
 * files on every use, and into every pod started after (ADR 0330). Scaled to 0 they would still name
 * it, for whoever scales them up. Each is deleted only while it is still the owner's (deleteOwned);
 * the next valid spec applies them again.
 */
export async function removeDeployments(
  deps: ApplyDeps,
  owner: Controller,
  outcome: ApplyOutcome,
): Promise<ApplyFailure | undefined> {
  const ours = (object: KubeObject) => ownershipOf(object, owner.uid, owner.kind).ours;
  for (const deployment of deps.cache.ownedBy(owner.uid)) {
    if (deployment.kind !== KINDS.deployment.kind) continue;
    const name = deployment.metadata.name!;
    try {
      const path = objectPath(KINDS.deployment, owner.namespace, name);
      if (await deleteOwned(deps.client, path, deployment, ours, outcome))
        outcome.deleted.push(`Deployment/${name}`);
    } catch (error) {
      const message = `Deployment ${name} mounts a projection and could not be deleted (retrying with backoff): ${apiErrorMessage(error)}`;
      return { reason: 'ReconcileFailed', message, error: new ReconcileError('ReconcileFailed', message) };
    }
  }
  return undefined;
}

/** What the condition adds to unreferableSecretsMessage once removeDeployments ran. */
export const DEPLOYMENTS_REMOVED =
  "its Deployments are removed until then, so that no pod mounts the projection's keys";

/** What it adds instead when removeDeployments failed: they are not removed yet (ADR 0335). */
export const DEPLOYMENTS_NOT_YET_REMOVED =
  "its Deployments are to be removed, so that no pod mounts the projection's keys, and are not yet (Applied says why)";
