import { expect } from 'chai';
import { checkTenant, type JsmSsoTenant } from '../../common/config/load.js';
import type { TenantPodSettings } from '../../common/config/tenant.generated.js';
import { parsePodDefaults } from '../../operator/cli.js';
import type { DesiredContext } from '../../operator/resources/common.js';
import { desiredDeployment } from '../../operator/resources/deployment.js';
import { desiredHorizontalPodAutoscaler } from '../../operator/resources/hpa.js';
import { desiredObjects } from '../../operator/resources/index.js';
import { desiredPodDisruptionBudget } from '../../operator/resources/pdb.js';
import { tenantObject } from '../../testkit/tenants.js';

const REDIS = { urlSecretRef: { name: 'acme-redis' } };

function contextOf(spec: Record<string, unknown>, podDefaults?: TenantPodSettings): DesiredContext {
  const base = tenantObject('ns', 'acme');
  const tenant = checkTenant(
    tenantObject('ns', 'acme', {
      ...spec,
      portal: { ...base.spec.portal, ...(spec['portal'] as object) },
      broker: { ...base.spec.broker, ...(spec['broker'] as object) },
    } as Partial<JsmSsoTenant['spec']>),
  );
  tenant.metadata!.uid = 'uid-1';
  return {
    tenant,
    settings: {
      image: 'img:1',
      ingressNamespaceLabels: {},
      metricsNamespaceLabels: {},
      ...(podDefaults ? { podDefaults } : {}),
    },
    secrets: {},
  };
}

const podSpec = (context: DesiredContext, part: 'broker' | 'portal') =>
  desiredDeployment(context, part).spec!.template.spec!;

describe('tenant pod settings, autoscaling and placement (pure)', () => {
  it('keeps one pod without spread, budget or autoscaler when the tenant says nothing', () => {
    const context = contextOf({});
    expect(desiredDeployment(context, 'broker').spec!.replicas).to.equal(1);
    expect(podSpec(context, 'broker').topologySpreadConstraints).to.equal(undefined);
    expect(desiredPodDisruptionBudget(context, 'broker')).to.equal(undefined);
    expect(desiredHorizontalPodAutoscaler(context, 'broker')).to.equal(undefined);
    // No ephemeral-storage: a node without local storage capacity isolation could place no such pod (ADR 0165).
    expect(podSpec(context, 'broker').containers[0]!.resources).to.deep.equal({
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { cpu: '1', memory: '512Mi' },
    });
  });

  it('spreads two or more replicas across nodes and zones, counting only this part and rollout', () => {
    const context = contextOf({ redis: REDIS, portal: { replicas: 2 } });
    const spread = podSpec(context, 'portal').topologySpreadConstraints!;
    expect(spread.map((c) => c.topologyKey)).to.deep.equal([
      'kubernetes.io/hostname',
      'topology.kubernetes.io/zone',
    ]);
    for (const c of spread) {
      expect(c).to.include({ maxSkew: 1, whenUnsatisfiable: 'ScheduleAnyway' });
      expect(c.matchLabelKeys).to.deep.equal(['pod-template-hash']);
      expect(c.labelSelector?.matchLabels).to.deep.equal(
        desiredDeployment(context, 'portal').spec!.selector.matchLabels,
      );
    }
    expect(podSpec(context, 'broker').topologySpreadConstraints, 'the one-replica broker').to.equal(
      undefined,
    );
  });

  it('with autoscaling makes a HorizontalPodAutoscaler and leaves replicas out of the Deployment', () => {
    const context = contextOf({
      redis: REDIS,
      broker: { autoscaling: { minReplicas: 2, maxReplicas: 6, targetCPUUtilizationPercentage: 60 } },
    });
    const deployment = desiredDeployment(context, 'broker');
    expect(deployment.spec).to.not.have.property('replicas');
    const hpa = desiredHorizontalPodAutoscaler(context, 'broker')!;
    expect(hpa.apiVersion).to.equal('autoscaling/v2');
    expect(hpa.spec).to.deep.equal({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata!.name },
      minReplicas: 2,
      maxReplicas: 6,
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } },
        },
      ],
    });
    expect(desiredPodDisruptionBudget(context, 'broker')).to.not.equal(undefined);
    expect(podSpec(context, 'broker').topologySpreadConstraints).to.have.length(2);
    expect(desiredObjects(context).map((o) => o.kind)).to.include('HorizontalPodAutoscaler');
  });

  it("applies the chart's defaults, replaced field by field by the tenant, labels and annotations merged", () => {
    const defaults: TenantPodSettings = {
      imagePullSecrets: [{ name: 'cluster-registry' }],
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'sso', effect: 'NoSchedule' }],
      priorityClassName: 'default-priority',
      podLabels: { team: 'platform', tier: 'edge' },
      podAnnotations: { 'example.com/scrape': 'true' },
      resources: { requests: { cpu: '50m', memory: '96Mi' } },
    };
    const context = contextOf(
      {
        portal: {
          pod: {
            imagePullSecrets: [{ name: 'tenant-registry' }],
            priorityClassName: 'portal-priority',
            podLabels: { team: 'helpdesk' },
            affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] } },
          },
        },
      },
      defaults,
    );
    const portal = podSpec(context, 'portal');
    expect(portal.imagePullSecrets).to.deep.equal([{ name: 'tenant-registry' }]);
    expect(portal.priorityClassName).to.equal('portal-priority');
    expect(portal.nodeSelector).to.deep.equal({ 'kubernetes.io/os': 'linux' });
    expect(portal.tolerations).to.deep.equal(defaults.tolerations);
    expect(portal.affinity).to.deep.equal({
      nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] },
    });
    expect(portal.containers[0]!.resources).to.deep.equal({ requests: { cpu: '50m', memory: '96Mi' } });
    const template = desiredDeployment(context, 'portal').spec!.template.metadata!;
    expect(template.labels).to.include({
      team: 'helpdesk',
      tier: 'edge',
      'app.kubernetes.io/component': 'portal',
    });
    expect(template.annotations).to.include({ 'example.com/scrape': 'true' });
    expect(template.annotations).to.have.property('jsm-sso.io/config-hash');
    const broker = podSpec(context, 'broker');
    expect(broker.imagePullSecrets).to.deep.equal([{ name: 'cluster-registry' }]);
    expect(broker.priorityClassName).to.equal('default-priority');
  });

  it("keeps the tenant's own spread constraints, filling in this part's pods as their selector", () => {
    const context = contextOf({
      redis: REDIS,
      portal: {
        replicas: 3,
        pod: {
          topologySpreadConstraints: [
            { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule' },
          ],
        },
      },
    });
    const [only, ...rest] = podSpec(context, 'portal').topologySpreadConstraints!;
    expect(rest).to.deep.equal([]);
    expect(only).to.include({
      topologyKey: 'topology.kubernetes.io/zone',
      whenUnsatisfiable: 'DoNotSchedule',
    });
    expect(only!.labelSelector?.matchLabels?.['app.kubernetes.io/component']).to.equal('portal');
  });

  it('reads --tenant-pod-defaults as JSON checked against the CRD, ignoring the empty fields the chart lists', () => {
    expect(parsePodDefaults(undefined)).to.deep.equal({});
    expect(
      parsePodDefaults(
        JSON.stringify({
          priorityClassName: '',
          tolerations: [],
          nodeSelector: { pool: 'sso' },
          podLabels: {},
        }),
      ),
    ).to.deep.equal({ podDefaults: { nodeSelector: { pool: 'sso' } } });
    expect(() => parsePodDefaults('{nope')).to.throw(/must be a JSON object/);
    expect(() => parsePodDefaults(JSON.stringify({ tolerations: [{ operator: 'Sometimes' }] }))).to.throw(
      /tenant-pod-defaults\.tolerations\[0\]\.operator: must be one of: Exists, Equal/,
    );
    expect(() => parsePodDefaults(JSON.stringify({ podLabels: { 'app.kubernetes.io/name': 'x' } }))).to.throw(
      /tenant-pod-defaults\.podLabels: the labels app\.kubernetes\.io/,
    );
    expect(() => parsePodDefaults(JSON.stringify({ hostNetwork: true }))).to.throw(
      /tenant-pod-defaults\.hostNetwork: unknown field/,
    );
  });
});
