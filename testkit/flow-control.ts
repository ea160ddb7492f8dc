import type { KubeClient } from '../common/kube/client.js';

/** API Priority and Fairness' API group, as the tests that make the API server throttle a client use it. */
export const FLOWCONTROL = '/apis/flowcontrol.apiserver.k8s.io/v1';

/**
 * A priority level of no seats of its own, none lent nor borrowed, that rejects (429 with Retry-After)
 * what does not fit: the API server runs one request of it at a time (one is let through when none
 * runs), so a request held makes every other of the level rejected. Its path, for the cleanup.
 */
export async function seatlessPriorityLevel(client: KubeClient, name: string): Promise<string> {
  await client.create(`${FLOWCONTROL}/prioritylevelconfigurations`, {
    apiVersion: 'flowcontrol.apiserver.k8s.io/v1',
    kind: 'PriorityLevelConfiguration',
    metadata: { name },
    spec: {
      type: 'Limited',
      limited: {
        nominalConcurrencyShares: 0,
        lendablePercent: 0,
        borrowingLimitPercent: 0,
        limitResponse: { type: 'Reject' },
      },
    },
  });
  return `${FLOWCONTROL}/prioritylevelconfigurations/${name}`;
}

/**
 * A FlowSchema putting every request of one ServiceAccount in `level`, ahead of the API server's own
 * schemas. Its path, for the cleanup; in force once `flowSchemaInForce`.
 */
export async function serviceAccountFlowSchema(
  client: KubeClient,
  name: string,
  level: string,
  serviceAccount: { name: string; namespace: string },
): Promise<string> {
  await client.create(`${FLOWCONTROL}/flowschemas`, {
    apiVersion: 'flowcontrol.apiserver.k8s.io/v1',
    kind: 'FlowSchema',
    metadata: { name },
    spec: {
      priorityLevelConfiguration: { name: level },
      matchingPrecedence: 100,
      distinguisherMethod: { type: 'ByUser' },
      rules: [
        {
          subjects: [{ kind: 'ServiceAccount', serviceAccount }],
          resourceRules: [
            { verbs: ['*'], apiGroups: ['*'], resources: ['*'], namespaces: ['*'], clusterScope: true },
          ],
        },
      ],
    },
  });
  return `${FLOWCONTROL}/flowschemas/${name}`;
}

/** Whether the API server has judged the FlowSchema `name` (its level known, not dangling): in force. */
export async function flowSchemaInForce(client: KubeClient, name: string): Promise<boolean> {
  const schema = await client.get<{ status?: { conditions?: { type: string; status: string }[] } }>(
    `${FLOWCONTROL}/flowschemas/${name}`,
  );
  return schema?.status?.conditions?.some((c) => c.type === 'Dangling' && c.status === 'False') ?? false;
}
