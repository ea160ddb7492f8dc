import { expect } from 'chai';
import type { KubeClient, KubeObject } from '../common/kube/client.js';
import { collectionPath, KINDS, objectPath } from '../operator/kube/kinds.js';
import { eventually } from './envtest.js';

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

/**
 * Waits until the pooled tenant's PoolReady is False with `reason` and checks what goes with a reason
 * of the tenant's own: Ready False with it, and a Warning Event. Returns the PoolReady message.
 */
export async function refusedFromPool(
  client: KubeClient,
  namespace: string,
  name: string,
  reason: string,
): Promise<string> {
  const refused = await eventually(async () => {
    const seen = await poolReadyOf(client, namespace, name);
    return seen.condition?.reason === reason ? seen : undefined;
  }, `${name}'s PoolReady ${reason}`);
  expect(refused.condition?.status).to.equal('False');
  const ready = refused.tenant?.status?.conditions?.find((c) => c.type === 'Ready');
  expect(ready).to.include({ status: 'False', reason });
  const warning = await eventually(
    () => eventAbout(client, namespace, name, reason),
    `a Warning Event on ${name}`,
  );
  expect(warning.type).to.equal('Warning');
  return refused.condition?.message ?? '';
}
