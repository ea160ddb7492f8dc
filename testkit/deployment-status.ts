import type { KubeClient, KubeObject } from '../common/kube/client.js';
import { KINDS, objectPath } from '../operator/kube/kinds.js';

/** A Deployment condition as the Deployment controller writes it. */
export interface DeploymentConditionFixture {
  type: 'Available' | 'Progressing';
  status: 'True' | 'False' | 'Unknown';
  reason: string;
}

/**
 * Writes a Deployment's status as the Deployment controller would once pods run (envtest has no
 * Deployment controller and no kubelet), observed at the Deployment's current generation. Absent
 * when the operator has not made it yet: false.
 */
export async function reportDeploymentStatus(
  client: KubeClient,
  namespace: string,
  name: string,
  status: { replicas: number; updatedReplicas: number; availableReplicas: number },
  conditions: DeploymentConditionFixture[],
): Promise<boolean> {
  const path = objectPath(KINDS.deployment, namespace, name);
  const live = await client.get<KubeObject & { metadata: { generation?: number } }>(path);
  if (!live) return false;
  await client.apply(
    `${path}/status`,
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace },
      status: {
        observedGeneration: live.metadata.generation,
        readyReplicas: status.availableReplicas,
        ...status,
        conditions,
      },
    },
    { fieldManager: 'tests', force: true },
  );
  return true;
}

/** Every pod of the Deployment's latest spec available: its rollout complete. */
export const ROLLED_OUT: DeploymentConditionFixture[] = [
  { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' },
  { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' },
];
