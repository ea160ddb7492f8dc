import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { V1PodSpec, V1PodTemplateSpec } from '@kubernetes/client-node';
import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import { checkTenant, type JsmSsoTenant } from '../../common/config/load.js';
import type { JsmSsoPool } from '../../common/config/pool.generated.js';
import type { KubeObject } from '../../common/kube/client.js';
import { packageRoot } from '../../common/paths.js';
import type { OperatorSettings, SecretFacts } from '../../operator/resources/common.js';
import { desiredObjects } from '../../operator/resources/index.js';
import { desiredPoolObjects, poolContext } from '../../operator/resources/pool.js';
import { type Envtest, envtest } from '../../testkit/envtest.js';
import { podRefusal, RESTRICTED_NAMESPACE_LABELS, UNHARDENED_POD } from '../../testkit/pod-security.js';
import { tenantObject } from '../../testkit/tenants.js';

/**
 * Every pod the chart and the operator make meets the "restricted" Pod Security Standard: each pod
 * template is created as a Pod (server-side dry run) in a namespace labelled
 * pod-security.kubernetes.io/enforce=restricted, so the API server's own PodSecurity admission
 * judges it, not a copy of its rules. test/cluster runs the same labels with the real pods. And
 * each pod names its disk (ephemeral-storage, ADR 0165), so a LimitRange's default cannot size it.
 */
describe('Pod Security Standards: restricted', function () {
  this.timeout(60_000);
  let env: Envtest;
  const namespace = `pss-${process.pid}`;

  before(async () => {
    env = await envtest();
    await env.client.create('/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: namespace, labels: RESTRICTED_NAMESPACE_LABELS },
    });
  });

  /** The pod templates of workload objects (and bare Pods), by `Kind/name`. */
  function podTemplates(objects: KubeObject[]): Map<string, V1PodTemplateSpec> {
    const found = new Map<string, V1PodTemplateSpec>();
    for (const o of objects) {
      const spec = o['spec'] as
        | { template?: V1PodTemplateSpec; jobTemplate?: { spec?: { template?: V1PodTemplateSpec } } }
        | undefined;
      const template =
        o.kind === 'Pod' ? (o as V1PodTemplateSpec) : (spec?.template ?? spec?.jobTemplate?.spec?.template);
      // A HorizontalPodAutoscaler or PodDisruptionBudget has no pod template; a Service none either.
      if (template?.spec) found.set(`${o.kind}/${o.metadata.name}`, template);
    }
    return found;
  }

  async function expectAllAdmitted(
    objects: KubeObject[],
    expected: string[],
    into = namespace,
  ): Promise<void> {
    const templates = podTemplates(objects);
    expect([...templates.keys()].sort(), 'the pod templates judged').to.deep.equal([...expected].sort());
    for (const [name, template] of templates) {
      const podName = name.toLowerCase().replace(/[^a-z0-9-]/g, '-');
      const refused = await podRefusal(env.client, into, podName, template.spec!);
      expect(refused, `${name} admitted in ${into}: ${refused}`).to.equal(undefined);
    }
  }

  /** The chart's objects with `set` values (helm template), in `into`. */
  const renderChart = (into: string, ...set: string[]) =>
    parseAllDocuments(
      execFileSync(
        join(env.toolsDir, 'helm'),
        [
          'template',
          'jsm-sso',
          join(packageRoot(), 'charts/jsm-sso'),
          '--namespace',
          into,
          ...set.flatMap((s) => ['--set', s]),
        ],
        { encoding: 'utf8' },
      ),
    )
      .map((d) => d.toJS() as KubeObject | null)
      .filter((d): d is KubeObject => d !== null);

  it('refuses a pod that is not restricted there (the check can fail)', async () => {
    const message = await podRefusal(env.client, namespace, 'plain', UNHARDENED_POD);
    expect(message).to.match(/violates PodSecurity "restricted:latest"/);
    expect(message).to.match(/allowPrivilegeEscalation|runAsNonRoot|seccompProfile|capabilities/);
  });

  const settings: OperatorSettings = {
    image: 'img:1',
    ingressNamespaceLabels: {},
    metricsNamespaceLabels: {},
    podDefaults: { imagePullSecrets: [{ name: 'registry' }], nodeSelector: { pool: 'sso' } },
  };
  const facts = (...keys: string[]): SecretFacts => ({
    keyHashes: Object.fromEntries(keys.map((k) => [k, `h-${k}`])),
    certificates: {},
  });

  it("admits a dedicated tenant's broker and portal pods, plain and with TLS, Ingress, Redis and replicas", async () => {
    const plain = checkTenant(tenantObject(namespace, 'acme'));
    plain.metadata!.uid = 'uid-plain';
    await expectAllAdmitted(
      desiredObjects({
        tenant: plain,
        settings,
        secrets: {
          'acme-oidc': facts('clientSecret'),
          'acme-atlassian': facts('email', 'apiToken'),
          'acme-broker-signing': facts('tls.crt', 'tls.key'),
          'acme-portal-signing': facts('tls.crt', 'tls.key'),
        },
      }),
      ['Deployment/acme-broker', 'Deployment/acme-portal'],
    );
    const full = checkTenant(
      tenantObject(namespace, 'full', {
        redis: { urlSecretRef: { name: 'full-redis' } },
        ingress: { className: 'nginx' },
        broker: {
          url: 'https://sso.full.example',
          tlsSecretRef: { name: 'full-tls' },
          autoscaling: { minReplicas: 2, maxReplicas: 4 },
        },
        portal: { url: 'https://help.full.example', tlsSecretRef: { name: 'full-tls' }, replicas: 2 },
      } as Partial<JsmSsoTenant['spec']>),
    );
    full.metadata!.uid = 'uid-full';
    await expectAllAdmitted(
      desiredObjects({
        tenant: full,
        settings,
        secrets: {
          'full-oidc': facts('clientSecret'),
          'full-atlassian': facts('email', 'apiToken'),
          'full-redis': facts('url'),
          'full-tls': facts('tls.crt', 'tls.key'),
        },
      }),
      ['Deployment/full-broker', 'Deployment/full-portal'],
    );
  });

  it("admits a pool's broker and portal pods, which call the API server with their service account", async () => {
    const pool = {
      apiVersion: 'jsm-sso.io/v1alpha1',
      kind: 'JsmSsoPool',
      metadata: { name: 'shared', namespace, uid: 'uid-pool' },
      spec: {
        redis: {
          // The keys the CRD defaults (the API server would fill them in).
          urlSecretRef: { name: 'shared-redis', key: 'url' },
          caBundleSecretRef: { name: 'shared-redis-ca', key: 'ca.crt' },
          clientCertSecretRef: { name: 'shared-redis-client' },
        },
        portal: { tls: { defaultSecretRef: { name: 'shared-tls' } }, replicas: 2 },
        broker: { tls: {} },
      },
    } as JsmSsoPool & KubeObject;
    await expectAllAdmitted(
      desiredPoolObjects(
        poolContext(pool, settings, {
          'shared-redis': facts('url'),
          'shared-redis-ca': facts('ca.crt'),
          'shared-redis-client': facts('tls.crt', 'tls.key'),
          'shared-tls': facts('tls.crt', 'tls.key'),
        }),
      ),
      ['Deployment/shared-broker', 'Deployment/shared-portal'],
    );
  });

  it("admits the chart's pods (the operator; any Job or hook it may render), whatever values are set", async () => {
    await expectAllAdmitted(renderChart(namespace), ['Deployment/jsm-sso']);
    await expectAllAdmitted(
      renderChart(
        namespace,
        'watchNamespaces[0]=a',
        'metrics.serviceMonitor.enabled=true',
        'imagePullSecrets[0].name=registry',
        'replicaCount=3',
      ),
      ['Deployment/jsm-sso'],
    );
  });
  it("keeps each pod's disk its own where a LimitRange defaults ephemeral-storage below its /tmp: request and limit are the /tmp and the log", async () => {
    const limited = `limited-${process.pid}`;
    await env.client.create('/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: limited, labels: RESTRICTED_NAMESPACE_LABELS },
    });
    // A platform's default for containers that name no ephemeral-storage: the kubelet would evict
    // such a pod once its /tmp and log pass 100Mi, whatever its /tmp's sizeLimit says.
    await env.client.create(`/api/v1/namespaces/${limited}/limitranges`, {
      apiVersion: 'v1',
      kind: 'LimitRange',
      metadata: { name: 'disk' },
      spec: {
        limits: [
          {
            type: 'Container',
            default: { 'ephemeral-storage': '100Mi' },
            defaultRequest: { 'ephemeral-storage': '50Mi' },
          },
        ],
      },
    });
    const admitted = async (name: string, spec: V1PodSpec): Promise<V1PodSpec> =>
      (
        await env.client.create<{ spec: V1PodSpec }>(
          `/api/v1/namespaces/${limited}/pods`,
          { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec },
          { dryRun: 'All' },
        )
      ).spec;
    const disk = (pod: V1PodSpec) => {
      const { requests, limits } = pod.containers[0]!.resources!;
      const tmp = pod.volumes!.find((v) => v.name === 'tmp')!.emptyDir!.sizeLimit;
      return `${tmp} + log: ${requests?.['ephemeral-storage']} / ${limits?.['ephemeral-storage']}`;
    };

    const tenant = checkTenant(tenantObject(limited, 'acme'));
    tenant.metadata!.uid = 'uid-limited';
    const pool = {
      apiVersion: 'jsm-sso.io/v1alpha1',
      kind: 'JsmSsoPool',
      metadata: { name: 'shared', namespace: limited, uid: 'uid-limited-pool' },
      spec: { portal: { uploadSpool: { maxMiB: 2048 } } },
    } as JsmSsoPool & KubeObject;
    const templates = podTemplates([
      ...desiredObjects({
        tenant,
        settings,
        secrets: {
          'acme-oidc': facts('clientSecret'),
          'acme-atlassian': facts('email', 'apiToken'),
          'acme-broker-signing': facts('tls.crt', 'tls.key'),
          'acme-portal-signing': facts('tls.crt', 'tls.key'),
        },
      }),
      ...desiredPoolObjects(poolContext(pool, settings, {})),
      ...renderChart(limited),
    ]);
    const seen: Record<string, string> = {};
    for (const [name, template] of templates)
      seen[name] = disk(await admitted(name.toLowerCase().replace(/[^a-z0-9-]/g, '-'), template.spec!));
    expect(seen).to.deep.equal({
      'Deployment/acme-broker': '64Mi + log: 128Mi / 128Mi',
      // The CRD's default limits: 4 uploads at once of 5 files of 10 MiB.
      'Deployment/acme-portal': '264Mi + log: 328Mi / 328Mi',
      'Deployment/shared-broker': '64Mi + log: 128Mi / 128Mi',
      // spec.portal.uploadSpool.maxMiB, which the pool's portal process is given as its bound.
      'Deployment/shared-portal': '2112Mi + log: 2176Mi / 2176Mi',
      'Deployment/jsm-sso': '64Mi + log: 128Mi / 128Mi',
    });
    const poolPortal = templates.get('Deployment/shared-portal')!.spec!.containers[0]!.args!;
    expect(poolPortal.slice(poolPortal.indexOf('--upload-spool-mib'))).to.include.ordered.members([
      '--upload-spool-mib',
      '2048',
    ]);

    // The check can fail: the portal's pod as it was before ADR 0165, naming no ephemeral-storage,
    // gets the namespace's 100Mi, and would be evicted long before its /tmp is full.
    const unsized = structuredClone(templates.get('Deployment/acme-portal')!.spec!);
    for (const half of ['requests', 'limits'] as const)
      delete unsized.containers[0]!.resources![half]!['ephemeral-storage'];
    expect(disk(await admitted('unsized', unsized))).to.equal('264Mi + log: 50Mi / 100Mi');
  });
});
