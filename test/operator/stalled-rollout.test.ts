import { expect } from 'chai';
import type { KubeClient, KubeObject } from '../../common/kube/client.js';
import type { Controller } from '../../operator/controller.js';
import { collectionPath, KINDS, objectPath } from '../../operator/kube/kinds.js';
import { ROLLED_OUT, reportDeploymentStatus } from '../../testkit/deployment-status.js';
import { type Envtest, envtest, eventually, freshNamespace } from '../../testkit/envtest.js';
import { startTestController } from '../../testkit/operator-controller.js';
import { createPool, createTenantSecrets, tenantObject } from '../../testkit/tenants.js';

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration: number;
}
type WithConditions = KubeObject & {
  metadata: { generation?: number };
  status?: { observedGeneration?: number; conditions?: Condition[] };
};

/**
 * A rollout that makes no progress (an image no node can pull, new pods that never get ready) leaves
 * the pods of the earlier spec serving, and the Deployment says so: Available True, Progressing False
 * `ProgressDeadlineExceeded`. The latest spec is not served and will not be: the owner's Ready must
 * not say it is (`kubectl wait --for=condition=Ready` after a change, `kubectl get`; ADR 0327).
 * No Deployment controller runs here: the Deployments' status is written by the test.
 */
describe('a stalled rollout of a tenant or pool Deployment (real API server)', function () {
  this.timeout(120_000);
  let env: Envtest;
  let client: KubeClient;
  let controller: Controller;
  let namespace: string;

  const STALLED = [
    { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' },
    { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' },
  ] as const;
  // One pod of the earlier spec available, the new one not: what a stuck rolling update shows.
  const stuck = { replicas: 2, updatedReplicas: 1, availableReplicas: 1 };
  const done = { replicas: 1, updatedReplicas: 1, availableReplicas: 1 };

  before(async () => {
    env = await envtest();
    namespace = await freshNamespace(env.client, 'stall');
    ({ client, controller } = await startTestController(env, { namespace, instance: 'stalled-rollout' }));
  });

  after(async () => {
    await controller?.stop();
    client?.close();
  });

  const conditionOf = (object: WithConditions | undefined, type: string) =>
    object?.status?.conditions?.find((c) => c.type === type);

  /** Waits until the owner's `type` condition has `reason`, at the owner's current generation. */
  async function conditionWith(path: string, type: string, reason: string): Promise<WithConditions> {
    return eventually(async () => {
      const owner = await env.client.get<WithConditions>(path);
      const condition = conditionOf(owner, type);
      return condition?.reason === reason && condition.observedGeneration === owner?.metadata.generation
        ? owner
        : undefined;
    }, `${type} ${reason} on ${path}`);
  }

  async function rolledOut(owner: string): Promise<void> {
    for (const part of ['broker', 'portal'])
      await eventually(
        () => reportDeploymentStatus(env.client, namespace, `${owner}-${part}`, done, ROLLED_OUT),
        `the ${owner}-${part} Deployment made`,
      );
  }

  /** From Ready, `deployment`'s rollout stalls: waits until the owner's `type` says `reason`. */
  async function stalled(path: string, deployment: string, type: string, reason: string) {
    await conditionWith(path, 'Ready', 'AllComponentsReady');
    await reportDeploymentStatus(env.client, namespace, deployment, stuck, [...STALLED]);
    return conditionWith(path, type, reason);
  }

  /** The rollout ends: the owner is Ready again. */
  async function resumed(path: string, deployment: string): Promise<void> {
    await reportDeploymentStatus(env.client, namespace, deployment, done, ROLLED_OUT);
    await conditionWith(path, 'Ready', 'AllComponentsReady');
  }

  it("says a dedicated tenant is not Ready while its broker's rollout is stalled, and Ready again once it ends", async () => {
    await createTenantSecrets(env.client, namespace, 'acme');
    await env.client.create(collectionPath(KINDS.tenant, namespace), tenantObject(namespace, 'acme'));
    const path = objectPath(KINDS.tenant, namespace, 'acme');
    await rolledOut('acme');
    const tenant = await stalled(path, 'acme-broker', 'BrokerAvailable', 'ProgressDeadlineExceeded');
    expect(conditionOf(tenant, 'BrokerAvailable')?.status).to.equal('False');
    expect(conditionOf(tenant, 'BrokerAvailable')?.message)
      .to.include('ProgressDeadlineExceeded')
      .and.include('kubectl -n');
    expect(conditionOf(tenant, 'Ready')).to.include({ status: 'False', reason: 'ComponentsUnavailable' });
    expect(conditionOf(tenant, 'PortalAvailable')?.status).to.equal('True');
    expect(tenant.status?.observedGeneration).to.equal(tenant.metadata.generation);
    await resumed(path, 'acme-broker');
  });

  it("says a pool is not Ready while its portal's rollout is stalled, and Ready again once it ends", async () => {
    await createPool(env.client, namespace, 'shared');
    const path = objectPath(KINDS.pool, namespace, 'shared');
    await rolledOut('shared');
    const pool = await stalled(path, 'shared-portal', 'Ready', 'ProgressDeadlineExceeded');
    expect(conditionOf(pool, 'Ready')?.status).to.equal('False');
    expect(conditionOf(pool, 'PortalAvailable')).to.include({
      status: 'False',
      reason: 'ProgressDeadlineExceeded',
    });
    await resumed(path, 'shared-portal');
  });

  // ADR 0360: every tenant of a pool reads its Ready; each flip was a status write per tenant.
  it('keeps a pool Ready while an autoscaler scales its portal: the scale is no rollout of its spec', async () => {
    await createPool(env.client, namespace, 'scaled', {
      portal: { autoscaling: { minReplicas: 1, maxReplicas: 4 } },
    });
    const path = objectPath(KINDS.pool, namespace, 'scaled');
    await rolledOut('scaled');
    const before = await conditionWith(path, 'Ready', 'AllComponentsReady');
    const deploymentPath = objectPath(KINDS.deployment, namespace, 'scaled-portal');
    await env.client.request('PATCH', `${deploymentPath}/scale`, {
      body: { spec: { replicas: 3 } },
      contentType: 'application/merge-patch+json',
      query: { fieldManager: 'horizontal-pod-autoscaler' },
    });
    const pool = await eventually(async () => {
      const p = await env.client.get<WithConditions>(path);
      return conditionOf(p, 'PortalAvailable')?.message.startsWith('1/3 ') ? p : undefined;
    }, 'the pool to count the scaled portal');
    // Before: PortalAvailable Unknown RolloutPending, Ready False, until the Deployment controller caught up.
    expect(conditionOf(pool, 'PortalAvailable')?.status).to.equal('True');
    expect(conditionOf(pool, 'Ready')).to.deep.equal(conditionOf(before, 'Ready'));
  });
});
