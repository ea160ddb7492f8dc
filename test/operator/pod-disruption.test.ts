import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { V1PodDisruptionBudget } from '@kubernetes/client-node';
import { expect } from 'chai';
import { checkTenant } from '../../common/config/load.js';
import { ApiError, type KubeList, type KubeObject } from '../../common/kube/client.js';
import { desiredPodDisruptionBudget } from '../../operator/resources/pdb.js';
import { type Envtest, envtest, eventually, freshNamespace } from '../../testkit/envtest.js';
import { tenantObject } from '../../testkit/tenants.js';

/**
 * A node drain evicts pods through the Eviction API, which the PodDisruptionBudget gates. When every
 * pod of a part crash-loops (a bad Secret, a broken rollout), the budget is spent on pods that serve
 * nobody, and by default (IfHealthyBudget) the API server refuses to evict them too: the drain waits
 * for ever. Judged by the real kube-apiserver, with kube-controller-manager's disruption controller
 * computing the budget's status; no kubelet, so the pods' status is written as a crash loop leaves it.
 */
describe("a tenant's disruption budget and a node drain", function () {
  this.timeout(60_000);
  let env: Envtest;

  let disruptionController: ChildProcess | undefined;

  before(async () => {
    env = await envtest();
    // The shared envtest's kube-controller-manager runs no disruption controller: one of its own,
    // with only that controller, computes the budgets' status as a cluster's would.
    disruptionController = spawn(
      join(env.toolsDir, 'kube-controller-manager'),
      [
        `--kubeconfig=${env.kubeconfigPath}`,
        '--controllers=disruption-controller',
        '--leader-elect=false',
        '--secure-port=0',
      ],
      { stdio: 'ignore' },
    );
  });
  after(() => disruptionController?.kill('SIGTERM'));

  it('lets a drain evict pods that are not ready, while the default policy refuses it (429)', async () => {
    const namespace = await freshNamespace(env.client, 'pdb');
    const tenant = checkTenant(
      tenantObject(namespace, 'acme', {
        redis: { urlSecretRef: { name: 'acme-redis' } },
        broker: { url: 'https://sso.acme.example', replicas: 2 },
      } as never),
    );
    tenant.metadata!.uid = 'uid-1';
    const pdb = desiredPodDisruptionBudget(
      {
        tenant,
        settings: { image: 'img:1', ingressNamespaceLabels: {}, metricsNamespaceLabels: {} },
        secrets: {},
      },
      'broker',
    )! as V1PodDisruptionBudget & KubeObject;
    // Owned by a tenant that is not there, the garbage collector would remove it.
    delete pdb.metadata.ownerReferences;
    const labels = pdb.spec!.selector!.matchLabels!;
    const pdbPath = `/apis/policy/v1/namespaces/${namespace}/poddisruptionbudgets/${pdb.metadata.name}`;
    // A ReplicaSet and its two pods, as the Deployment's controllers would make them (envtest runs
    // none of those): the disruption controller reads the expected count from the pods' controller.
    const replicaSet = await env.client.create<KubeObject>(
      `/apis/apps/v1/namespaces/${namespace}/replicasets`,
      {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: { name: 'acme-broker-1', namespace },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name: 'broker', image: 'img:1' }] } },
        },
      },
    );
    const pods: KubeObject[] = [];
    for (const name of ['acme-broker-1-a', 'acme-broker-1-b']) {
      pods.push(
        await env.client.create<KubeObject>(`/api/v1/namespaces/${namespace}/pods`, {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            name,
            namespace,
            labels,
            ownerReferences: [
              {
                apiVersion: 'apps/v1',
                kind: 'ReplicaSet',
                name: 'acme-broker-1',
                uid: replicaSet.metadata.uid!,
                controller: true,
              },
            ],
          },
          spec: { containers: [{ name: 'broker', image: 'img:1' }] },
        }),
      );
    }
    // What a crash loop leaves: running, never ready.
    for (const pod of pods) {
      await env.client.request('PUT', `/api/v1/namespaces/${namespace}/pods/${pod.metadata.name}/status`, {
        body: {
          ...pod,
          status: {
            phase: 'Running',
            conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady' }],
            containerStatuses: [
              {
                name: 'broker',
                image: 'img:1',
                imageID: '',
                ready: false,
                restartCount: 5,
                state: { waiting: { reason: 'CrashLoopBackOff' } },
              },
            ],
          },
        },
      });
    }
    const evict = async (name: string): Promise<number> => {
      try {
        await env.client.create(`/api/v1/namespaces/${namespace}/pods/${name}/eviction`, {
          apiVersion: 'policy/v1',
          kind: 'Eviction',
          metadata: { name, namespace },
        });
        return 201;
      } catch (err) {
        if (err instanceof ApiError) return err.status;
        throw err;
      }
    };
    const budgetSpent = async (generation: number) =>
      eventually(async () => {
        const status = (await env.client.get<V1PodDisruptionBudget>(pdbPath))?.status;
        return (
          status?.observedGeneration === generation &&
          status.currentHealthy === 0 &&
          status.disruptionsAllowed === 0
        );
      }, 'the disruption controller to count no healthy pod');

    // The budget as the API server defaults it: the drain is refused.
    const { unhealthyPodEvictionPolicy, ...defaultSpec } = pdb.spec!;
    expect(unhealthyPodEvictionPolicy).to.equal('AlwaysAllow');
    await env.client.apply(pdbPath, { ...pdb, spec: defaultSpec }, { fieldManager: 'test' });
    await budgetSpent(1);
    expect(await evict(pods[0]!.metadata.name!)).to.equal(429);

    // The operator's budget: the drain goes on.
    const applied = await env.client.apply<KubeObject & { metadata: { generation: number } }>(pdbPath, pdb, {
      fieldManager: 'test',
    });
    await budgetSpent(applied.metadata.generation);
    expect(await evict(pods[0]!.metadata.name!)).to.equal(201);
    const left = await env.client.get<KubeList>(`/api/v1/namespaces/${namespace}/pods`);
    expect(left?.items.map((p) => p.metadata.name)).to.not.include(pods[0]!.metadata.name);
  });
});
