import type { V1Deployment, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { expect } from 'chai';
import type { KubeClient, KubeObject } from '../../common/kube/client.js';
import type { Controller } from '../../operator/controller.js';
import { collectionPath, KINDS, objectPath } from '../../operator/kube/kinds.js';
import { appliesReplicas, HANDOVER_MANAGER } from '../../operator/replica-handover.js';
import { FIELD_MANAGER, type OperatorSettings } from '../../operator/resources/common.js';
import { ROLLED_OUT, reportDeploymentStatus } from '../../testkit/deployment-status.js';
import { type Envtest, envtest, eventually, freshNamespace } from '../../testkit/envtest.js';
import { operatorIdle, startTestController } from '../../testkit/operator-controller.js';
import { createTenantSecrets, secretObject, tenantObject } from '../../testkit/tenants.js';

/**
 * Autoscaling, placement and pod settings as a real API server stores them: the operator's
 * Deployment leaves replicas to a HorizontalPodAutoscaler (an autoscaler's change survives drift
 * repair), spreads several replicas, and carries the chart's defaults under the tenant's settings.
 */
describe('autoscaling, placement and pod settings against a real API server', function () {
  this.timeout(90_000);
  let env: Envtest;
  let client: KubeClient;
  let controller: Controller;
  let namespace: string;
  const settings: OperatorSettings = {
    image: 'jsm-sso:test',
    ingressNamespaceLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' },
    metricsNamespaceLabels: { 'kubernetes.io/metadata.name': 'monitoring' },
    podDefaults: {
      imagePullSecrets: [{ name: 'cluster-registry' }],
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'sso', effect: 'NoSchedule' }],
      podLabels: { team: 'platform' },
    },
  };

  before(async () => {
    env = await envtest();
    namespace = await freshNamespace(env.client, 'scale');
    ({ client, controller } = await startTestController(env, {
      namespace,
      settings,
      instance: 'scaling-test',
    }));
  });

  after(async () => {
    await controller?.stop();
    client?.close();
  });

  async function createTenant(name: string, spec: Record<string, unknown>): Promise<void> {
    await createTenantSecrets(env.client, namespace, name);
    await env.client.create(
      collectionPath(KINDS.secret, namespace),
      secretObject(namespace, `${name}-redis`, { url: 'redis://redis.example:6379' }),
    );
    const base = tenantObject(namespace, name);
    await env.client.create(
      collectionPath(KINDS.tenant, namespace),
      tenantObject(namespace, name, {
        redis: { urlSecretRef: { name: `${name}-redis` } },
        ...spec,
        portal: { ...base.spec.portal, ...(spec['portal'] as object) },
        broker: { ...base.spec.broker, ...(spec['broker'] as object) },
      } as never),
    );
  }

  const deploymentPath = (name: string) => objectPath(KINDS.deployment, namespace, name);
  const hpaPath = (name: string) => objectPath(KINDS.horizontalPodAutoscaler, namespace, name);
  const deployment = (name: string) => env.client.get<V1Deployment>(deploymentPath(name));

  interface Condition {
    type: string;
    status: string;
    reason: string;
    message: string;
  }
  const tenant = (name: string) =>
    env.client.get<{ status?: { conditions?: Condition[] } }>(objectPath(KINDS.tenant, namespace, name));
  const readyOf = (t: { status?: { conditions?: Condition[] } } | undefined) =>
    t?.status?.conditions?.find((c) => c.type === 'Ready');

  const operatorOwnsReplicas = (d: V1Deployment) => appliesReplicas(d as KubeObject, FIELD_MANAGER);

  const quiet = () => operatorIdle(controller);

  /** What the server stored matches what the operator wants: a resync of the tenant writes nothing. */
  async function expectIdleResync(name: string): Promise<void> {
    await quiet();
    const writesBefore = client.writes;
    controller.queue.add(`${namespace}/${name}`);
    await quiet();
    expect(client.writes - writesBefore, `writes resyncing ${name}`).to.equal(0);
  }

  it('gives an autoscaled part a HorizontalPodAutoscaler and never reverts the replica count it sets', async () => {
    await createTenant('auto', { broker: { autoscaling: { minReplicas: 2, maxReplicas: 5 } } });
    const hpa = await eventually(
      () => env.client.get<V2HorizontalPodAutoscaler>(hpaPath('auto-broker')),
      'the HorizontalPodAutoscaler',
    );
    expect(hpa.spec).to.deep.include({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'auto-broker' },
      minReplicas: 2,
      maxReplicas: 5,
    });
    expect(hpa.spec?.metrics?.[0]?.resource?.target).to.deep.equal({
      type: 'Utilization',
      averageUtilization: 70,
    });
    expect(hpa.metadata?.ownerReferences?.[0]?.kind).to.equal('JsmSsoTenant');
    const created = await eventually(() => deployment('auto-broker'), 'the broker Deployment');
    expect(operatorOwnsReplicas(created), 'the operator claims replicas').to.equal(false);
    await quiet();

    // What the autoscaler does: write the scale subresource under its own field manager.
    await env.client.request('PATCH', `${deploymentPath('auto-broker')}/scale`, {
      body: { spec: { replicas: 4 } },
      contentType: 'application/merge-patch+json',
      query: { fieldManager: 'horizontal-pod-autoscaler' },
    });
    // Drift elsewhere in the Deployment makes the operator apply it again.
    await env.client.request('PATCH', deploymentPath('auto-broker'), {
      body: { spec: { template: { spec: { containers: [{ name: 'broker', image: 'evil:latest' }] } } } },
      contentType: 'application/strategic-merge-patch+json',
    });
    const repaired = await eventually(async () => {
      const d = await deployment('auto-broker');
      return d?.spec?.template.spec?.containers[0]?.image === 'jsm-sso:test' ? d : undefined;
    }, 'the image edit to be reverted');
    expect(repaired.spec?.replicas, 'the autoscaler’s count').to.equal(4);
    await expectIdleResync('auto');
    expect((await deployment('auto-broker'))?.spec?.replicas).to.equal(4);

    // The portal, with a fixed count, still has its replicas restored.
    expect((await deployment('auto-portal'))?.spec?.replicas).to.equal(1);
  });

  it("takes an autoscaler's scale for no rollout: the part stays available and the tenant Ready, its count of pods the only write", async () => {
    await createTenant('scaled', { broker: { autoscaling: { minReplicas: 2, maxReplicas: 5 } } });
    // The Deployment controller's report once the pods run (envtest runs neither).
    for (const [part, replicas] of [
      ['broker', 2],
      ['portal', 1],
    ] as const) {
      await eventually(() => deployment(`scaled-${part}`), `the ${part} Deployment`);
      await reportDeploymentStatus(
        env.client,
        namespace,
        `scaled-${part}`,
        { replicas, updatedReplicas: replicas, availableReplicas: replicas },
        ROLLED_OUT,
      );
    }
    const before = await eventually(async () => {
      const t = await tenant('scaled');
      return readyOf(t)?.status === 'True' ? t : undefined;
    }, 'the tenant Ready on its running pods');
    await quiet();
    const writesBefore = client.writes;

    // What the autoscaler does; the Deployment controller has not yet observed it (its generation moved).
    await env.client.request('PATCH', `${deploymentPath('scaled-broker')}/scale`, {
      body: { spec: { replicas: 4 } },
      contentType: 'application/merge-patch+json',
      query: { fieldManager: 'horizontal-pod-autoscaler' },
    });
    await eventually(
      async () =>
        (controller.get(KINDS.deployment, namespace, 'scaled-broker') as V1Deployment | undefined)?.spec
          ?.replicas === 4,
      'the operator to see the scale',
    );
    await quiet();
    const after = await tenant('scaled');
    const broker = after?.status?.conditions?.find((c) => c.type === 'BrokerAvailable');
    // Before (ADR 0360): Unknown, RolloutPending, and Ready False until the Deployment controller caught up.
    expect(broker).to.include({ status: 'True', message: '2/4 broker pods available' });
    expect(readyOf(after)).to.deep.equal(readyOf(before));
    expect(
      client.writes - writesBefore,
      'writes after the scale: the status, for its count of pods',
    ).to.equal(1);

    // Restarted, the operator knows of no write of its own: the spec it reads, once observed, is taken as its.
    await reportDeploymentStatus(
      env.client,
      namespace,
      'scaled-broker',
      { replicas: 4, updatedReplicas: 4, availableReplicas: 4 },
      ROLLED_OUT,
    );
    await quiet();
    await controller.stop();
    client.close();
    ({ client, controller } = await startTestController(env, {
      namespace,
      settings,
      instance: 'scaling-test',
    }));
    await quiet();
    await env.client.request('PATCH', `${deploymentPath('scaled-broker')}/scale`, {
      body: { spec: { replicas: 5 } },
      contentType: 'application/merge-patch+json',
      query: { fieldManager: 'horizontal-pod-autoscaler' },
    });
    const rescaled = await eventually(async () => {
      const t = await tenant('scaled');
      const c = t?.status?.conditions?.find((x) => x.type === 'BrokerAvailable');
      return c?.status !== 'True' || c.message === '4/5 broker pods available' ? c : undefined;
    }, 'the restarted operator to count the scaled broker');
    expect(rescaled).to.include({ status: 'True', reason: 'MinimumReplicasAvailable' });
  });

  it('removes the HorizontalPodAutoscaler and sets the count when the tenant goes back to replicas', async () => {
    await eventually(() => env.client.get(hpaPath('auto-broker')), 'the HorizontalPodAutoscaler');
    await env.client.request('PATCH', objectPath(KINDS.tenant, namespace, 'auto'), {
      body: { spec: { broker: { autoscaling: null, replicas: 3 } } },
      contentType: 'application/merge-patch+json',
    });
    await eventually(
      async () => (await env.client.get(hpaPath('auto-broker'))) === undefined,
      'the HorizontalPodAutoscaler to be deleted',
    );
    const d = await eventually(async () => {
      const live = await deployment('auto-broker');
      return live?.spec?.replicas === 3 ? live : undefined;
    }, 'three broker replicas');
    expect(operatorOwnsReplicas(d)).to.equal(true);
  });

  it('hands the live replica count over when a part moves to autoscaling, so no pod is lost', async () => {
    await createTenant('handover', { broker: { replicas: 3 } });
    await eventually(async () => {
      const d = await deployment('handover-broker');
      return d?.spec?.replicas === 3 && operatorOwnsReplicas(d);
    }, 'three broker replicas applied by the operator');
    await env.client.request('PATCH', objectPath(KINDS.tenant, namespace, 'handover'), {
      body: { spec: { broker: { replicas: null, autoscaling: { minReplicas: 2, maxReplicas: 6 } } } },
      contentType: 'application/merge-patch+json',
    });
    await eventually(() => env.client.get(hpaPath('handover-broker')), 'the HorizontalPodAutoscaler');
    const moved = await eventually(async () => {
      const d = await deployment('handover-broker');
      return d && !operatorOwnsReplicas(d) ? d : undefined;
    }, 'the operator to release replicas');
    // Without the hand-over the API server would have reset the count to 1 (no autoscaler runs here).
    expect(moved.spec?.replicas).to.equal(3);
    expect(appliesReplicas(moved as KubeObject, HANDOVER_MANAGER)).to.equal(true);
    await expectIdleResync('handover');
  });

  it('spreads two or more replicas across nodes and zones, and keeps one replica unconstrained', async () => {
    await createTenant('spread', { portal: { replicas: 2 } });
    const portal = await eventually(() => deployment('spread-portal'), 'the portal Deployment');
    const spread = portal.spec?.template.spec?.topologySpreadConstraints ?? [];
    expect(spread.map((c) => [c.topologyKey, c.whenUnsatisfiable, c.maxSkew])).to.deep.equal([
      ['kubernetes.io/hostname', 'ScheduleAnyway', 1],
      ['topology.kubernetes.io/zone', 'ScheduleAnyway', 1],
    ]);
    expect(spread[0]?.labelSelector?.matchLabels).to.deep.equal(portal.spec?.selector.matchLabels);
    expect(spread[0]?.matchLabelKeys).to.deep.equal(['pod-template-hash']);
    const broker = await eventually(() => deployment('spread-broker'), 'the broker Deployment');
    expect(broker.spec?.template.spec?.topologySpreadConstraints).to.equal(undefined);
    await eventually(
      () => env.client.get(objectPath(KINDS.podDisruptionBudget, namespace, 'spread-portal')),
      'the portal PodDisruptionBudget',
    );
    await expectIdleResync('spread');
  });

  it("stores the chart's pod defaults under the tenant's own pod settings, and applies them once", async () => {
    await createTenant('pods', {
      portal: {
        pod: {
          imagePullSecrets: [{ name: 'tenant-registry' }],
          resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '1Gi' } },
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [{ matchExpressions: [{ key: 'pool', operator: 'In', values: ['sso'] }] }],
              },
            },
          },
          podLabels: { team: 'helpdesk' },
          podAnnotations: { 'sidecar.istio.io/inject': 'false' },
          priorityClassName: 'sso-critical',
        },
      },
    });
    const portal = await eventually(() => deployment('pods-portal'), 'the portal Deployment');
    const pod = portal.spec!.template.spec!;
    expect(pod.imagePullSecrets).to.deep.equal([{ name: 'tenant-registry' }]);
    expect(pod.containers[0]?.resources).to.deep.equal({
      requests: { cpu: '250m', memory: '256Mi' },
      limits: { memory: '1Gi' },
    });
    expect(pod.nodeSelector).to.deep.equal({ 'kubernetes.io/os': 'linux' });
    expect(pod.tolerations).to.deep.equal(settings.podDefaults!.tolerations);
    expect(
      pod.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms,
    ).to.have.length(1);
    expect(pod.priorityClassName).to.equal('sso-critical');
    expect(portal.spec?.template.metadata?.labels).to.include({
      team: 'helpdesk',
      'app.kubernetes.io/component': 'portal',
    });
    expect(portal.spec?.template.metadata?.annotations).to.include({ 'sidecar.istio.io/inject': 'false' });
    const broker = (await eventually(() => deployment('pods-broker'), 'the broker Deployment')).spec!
      .template;
    expect(broker.spec?.imagePullSecrets).to.deep.equal([{ name: 'cluster-registry' }]);
    expect(broker.metadata?.labels).to.include({ team: 'platform' });

    await expectIdleResync('pods');
  });

  // The CRD refuses at admission what it can judge field by field (ADR 0311); a spread constraint whose
  // matchLabelKeys names a key its own labelSelector also selects on is judged by the API server alone.
  it('reports a pod field the API server refuses in Applied, naming the Deployment and the field', async () => {
    await createTenant('badaffinity', {
      broker: {
        pod: {
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: 'kubernetes.io/hostname',
              whenUnsatisfiable: 'ScheduleAnyway',
              labelSelector: { matchLabels: { team: 'platform' } },
              matchLabelKeys: ['team'],
            },
          ],
        },
      },
    });
    const applied = await eventually(async () => {
      const t = await env.client.get<{
        status?: { conditions?: { type: string; status: string; reason: string; message: string }[] };
      }>(objectPath(KINDS.tenant, namespace, 'badaffinity'));
      const c = t?.status?.conditions?.find((x) => x.type === 'Applied');
      return c?.status === 'False' ? c : undefined;
    }, 'Applied=False');
    expect(applied.reason).to.equal('ApplyFailed');
    expect(applied.message)
      .to.include('Deployment badaffinity-broker')
      .and.include('matchLabelKeys')
      .and.include('exists in both matchLabelKeys and labelSelector');
  });
});
