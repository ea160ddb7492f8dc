import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { V1PodTemplateSpec } from '@kubernetes/client-node';
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
 * judges it, not a copy of its rules. test/cluster runs the same labels with the real pods.
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

  async function expectAllAdmitted(objects: KubeObject[], expected: string[]): Promise<void> {
    const templates = podTemplates(objects);
    expect([...templates.keys()].sort(), 'the pod templates judged').to.deep.equal([...expected].sort());
    for (const [name, template] of templates) {
      const podName = name.toLowerCase().replace(/[^a-z0-9-]/g, '-');
      const refused = await podRefusal(
        env.client,
        namespace,
        podName,
        template.spec!,
        template.metadata?.annotations,
      );
      expect(refused, `${name} under enforce=restricted: ${refused}`).to.equal(undefined);
    }
  }

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
    privateKeys: {},
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

  /** A dedicated tenant's objects with `podAnnotations` on its broker's pods, the CRD's verdict left out. */
  function brokerAnnotated(
    name: string,
    podAnnotations: Record<string, string>,
    tenantSettings = settings,
  ): KubeObject[] {
    const tenant = checkTenant(tenantObject(namespace, name));
    tenant.metadata!.uid = `uid-${name}`;
    tenant.spec.broker.pod = { podAnnotations };
    return desiredObjects({
      tenant,
      settings: tenantSettings,
      secrets: {
        [`${name}-oidc`]: facts('clientSecret'),
        [`${name}-atlassian`]: facts('email', 'apiToken'),
        [`${name}-broker-signing`]: facts('tls.crt', 'tls.key'),
        [`${name}-portal-signing`]: facts('tls.crt', 'tls.key'),
      },
    });
  }

  it("admits a tenant's pods with the AppArmor annotations the CRD admits (runtime/default, localhost/<profile>)", async () => {
    const admitted = {
      'container.apparmor.security.beta.kubernetes.io/broker': 'localhost/sso-broker',
      'sidecar.istio.io/inject': 'false',
    };
    // The CRD admits them: testkit/tenants.ts, 'every pod setting on both parts'.
    await expectAllAdmitted(brokerAnnotated('armored', admitted), [
      'Deployment/armored-broker',
      'Deployment/armored-portal',
    ]);
  });

  it('would see the pods refused for each AppArmor or seccomp annotation the CRD refuses (ADR 0313)', async () => {
    for (const [annotation, value, refusal] of [
      [
        'container.apparmor.security.beta.kubernetes.io/broker',
        'unconfined',
        /violates PodSecurity "restricted:latest": forbidden AppArmor profile/,
      ],
      [
        'seccomp.security.alpha.kubernetes.io/pod',
        'unconfined',
        /seccomp type in annotation and field must match/,
      ],
      [
        'container.seccomp.security.alpha.kubernetes.io/broker',
        'unconfined',
        /seccomp type in annotation and field must match/,
      ],
    ] as const) {
      const broker = brokerAnnotated('weakened', { [annotation]: value }).find(
        (o) => o.metadata.name === 'weakened-broker',
      );
      const template = (broker!['spec'] as { template: V1PodTemplateSpec }).template;
      const refused = await podRefusal(
        env.client,
        namespace,
        'weakened',
        template.spec!,
        template.metadata?.annotations,
      );
      expect(refused, annotation).to.match(refusal);
    }
  });

  /** A pool with Redis client certificates and TLS, its objects built under `poolSettings`. */
  function poolObjects(poolSettings: OperatorSettings): KubeObject[] {
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
    return desiredPoolObjects(
      poolContext(pool, poolSettings, {
        'shared-redis': facts('url'),
        'shared-redis-ca': facts('ca.crt'),
        'shared-redis-client': facts('tls.crt', 'tls.key'),
        'shared-tls': facts('tls.crt', 'tls.key'),
      }),
    );
  }

  it("admits a pool's broker and portal pods, which call the API server with their service account", async () => {
    await expectAllAdmitted(poolObjects(settings), ['Deployment/shared-broker', 'Deployment/shared-portal']);
  });

  /** The user, group and fsGroup each pod template names, by `Kind/name`. */
  function podIds(objects: KubeObject[]): Record<string, unknown> {
    return Object.fromEntries(
      [...podTemplates(objects)].map(([name, template]) => {
        const { runAsUser, runAsGroup, fsGroup } = template.spec?.securityContext ?? {};
        return [name, { runAsUser, runAsGroup, fsGroup }];
      }),
    );
  }
  const NONE = { runAsUser: undefined, runAsGroup: undefined, fsGroup: undefined };
  const FIXED = { runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001 };

  it("admits a tenant's and a pool's pods with their IDs left to the platform (--pod-ids=platform), naming none", async () => {
    const platform: OperatorSettings = { ...settings, podIds: 'platform' };
    // By default the IDs are 10001, as vanilla Kubernetes needs nothing else.
    expect(podIds(brokerAnnotated('assigned', {}))).to.deep.equal({
      'Deployment/assigned-broker': FIXED,
      'Deployment/assigned-portal': FIXED,
    });
    const tenant = brokerAnnotated('assigned', {}, platform);
    const pool = poolObjects(platform);
    expect(podIds([...tenant, ...pool])).to.deep.equal({
      'Deployment/assigned-broker': NONE,
      'Deployment/assigned-portal': NONE,
      'Deployment/shared-broker': NONE,
      'Deployment/shared-portal': NONE,
    });
    for (const template of podTemplates([...tenant, ...pool]).values()) {
      expect(template.spec?.securityContext?.runAsNonRoot).to.equal(true);
    }
    await expectAllAdmitted(
      [...tenant, ...pool],
      [
        'Deployment/assigned-broker',
        'Deployment/assigned-portal',
        'Deployment/shared-broker',
        'Deployment/shared-portal',
      ],
    );
  });

  it("admits the chart's pods (the operator; any Job or hook it may render), whatever values are set", async () => {
    const chart = join(packageRoot(), 'charts/jsm-sso');
    const render = (...set: string[]) =>
      parseAllDocuments(
        execFileSync(
          join(env.toolsDir, 'helm'),
          ['template', 'jsm-sso', chart, '--namespace', namespace, ...set.flatMap((s) => ['--set', s])],
          { encoding: 'utf8' },
        ),
      )
        .map((d) => d.toJS() as KubeObject | null)
        .filter((d): d is KubeObject => d !== null);
    await expectAllAdmitted(render(), ['Deployment/jsm-sso']);
    // podIds=platform: the operator's pod names no user or group, and its tenants' and pools' pods none.
    const operatorArgs = (objects: KubeObject[]) =>
      podTemplates(objects).get('Deployment/jsm-sso')?.spec?.containers[0]?.args ?? [];
    expect(podIds(render())).to.deep.equal({ 'Deployment/jsm-sso': { ...FIXED, fsGroup: undefined } });
    expect(operatorArgs(render())).to.include('--pod-ids=fixed');
    const platform = render('podIds=platform');
    expect(podIds(platform)).to.deep.equal({ 'Deployment/jsm-sso': NONE });
    expect(operatorArgs(platform)).to.include('--pod-ids=platform');
    await expectAllAdmitted(platform, ['Deployment/jsm-sso']);
    await expectAllAdmitted(
      render(
        'watchNamespaces[0]=a',
        'metrics.serviceMonitor.enabled=true',
        'imagePullSecrets[0].name=registry',
        'replicaCount=3',
      ),
      ['Deployment/jsm-sso'],
    );
  });
});
