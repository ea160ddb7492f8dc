import type { KubeClient, KubeObject } from '../common/kube/client.js';
import { preconditioned } from './guarded-write.js';

/**
 * A Deployment whose part moves from spec.<part>.replicas to autoscaling is applied without
 * replicas. If the operator's field manager alone owned that field, server-side apply would remove
 * it and the API server would default it to 1 until the autoscaler's first sync, killing pods under
 * load. So the field is first handed, at its live value, to a manager of its own; the autoscaler's
 * first write to the scale subresource then takes it over.
 */
export const HANDOVER_MANAGER = 'jsm-sso-operator-replicas-handover';

interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  subresource?: string;
  fieldsV1?: { 'f:spec'?: Record<string, unknown> };
}

/** Whether `manager`'s apply owns spec.replicas of `object`. */
export function appliesReplicas(object: KubeObject, manager: string): boolean {
  const entries = (object.metadata.managedFields ?? []) as ManagedFieldsEntry[];
  return entries.some(
    (e) =>
      e.manager === manager &&
      e.operation === 'Apply' &&
      !e.subresource &&
      e.fieldsV1?.['f:spec']?.['f:replicas'] !== undefined,
  );
}

/**
 * True when applying `desired` (a Deployment without replicas) would drop the count the operator
 * set until now: the Deployment exists and its autoscaler does not yet (the informer cache keeps
 * no managedFields, so the missing autoscaler is what marks the move).
 */
export function needsReplicaHandover(
  desired: KubeObject,
  live: KubeObject | undefined,
  autoscalerExists: boolean,
): boolean {
  if (!live || autoscalerExists || desired.kind !== 'Deployment') return false;
  return (desired['spec'] as { replicas?: number } | undefined)?.replicas === undefined;
}

/**
 * Hands spec.replicas of `live` (a Deployment judged the owner's) over; refused (409) when it
 * changed since it was judged (guarded-write.ts). Returns the Deployment as written.
 */
export function handOverReplicas(client: KubeClient, path: string, live: KubeObject): Promise<KubeObject> {
  const replicas = (live['spec'] as { replicas?: number } | undefined)?.replicas ?? 1;
  const handover: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: live.metadata.name, namespace: live.metadata.namespace },
    spec: { replicas },
  };
  return client.apply<KubeObject>(path, preconditioned(handover, live), {
    fieldManager: HANDOVER_MANAGER,
    force: true,
  });
}
