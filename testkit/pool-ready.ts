import type { KubeClient, KubeObject } from '../common/kube/client.js';
import { collectionPath, KINDS, objectPath } from '../operator/kube/kinds.js';

/** A tenant's condition as the API server stores it. */
export interface TenantCondition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
}

export interface TenantWithStatus extends KubeObject {
  status?: { conditions?: TenantCondition[] };
}

/** An events.k8s.io/v1 Event, the fields the pool tests read. */
export interface TenantEvent extends KubeObject {
  type: string;
  reason: string;
  note: string;
  regarding: { name: string; kind: string };
}

/** A pooled tenant as stored, and its PoolReady condition (undefined until the operator wrote one). */
export async function poolReadyOf(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<{ tenant: TenantWithStatus | undefined; condition: TenantCondition | undefined }> {
  const tenant = await client.get<TenantWithStatus>(objectPath(KINDS.tenant, namespace, name));
  return { tenant, condition: tenant?.status?.conditions?.find((c) => c.type === 'PoolReady') };
}

/** The Event with this reason about the named object in `namespace`, if one was recorded. */
export async function eventAbout(
  client: KubeClient,
  namespace: string,
  name: string,
  reason: string,
): Promise<TenantEvent | undefined> {
  const events = await client.list<TenantEvent>(collectionPath(KINDS.event, namespace));
  return events.items.find((e) => e.regarding.name === name && e.reason === reason);
}
