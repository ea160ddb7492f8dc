import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1NetworkPolicySpec } from '@kubernetes/client-node';
import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import { UsageError } from '../../common/args.js';
import { ApiError, type KubeObject } from '../../common/kube/client.js';
import { CRD_PATH, POOL_CRD_PATH, packageRoot } from '../../common/paths.js';
import { parsePodDefaults } from '../../operator/cli.js';
import { collectionPath, KINDS, kindByName, objectPath } from '../../operator/kube/kinds.js';
import { operatorStopSeconds } from '../../operator/stop.js';
import {
  CHART_VALUES_SCHEMA_PATH,
  syncChartCrd,
  syncChartValuesSchema,
} from '../../scripts/sync-chart-crd.js';
import { type Envtest, envtest, freshNamespace } from '../../testkit/envtest.js';

const CHART = join(packageRoot(), 'charts/jsm-sso');

describe('Helm chart charts/jsm-sso', function () {
  this.timeout(60_000);
  let env: Envtest;
  const helm = (...args: string[]) =>
    execFileSync(join(env.toolsDir, 'helm'), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

  before(async () => {
    env = await envtest();
  });

  it('ships the CRDs identical to crds/jsmssotenant.yaml and crds/jsmssopool.yaml', () => {
    expect(readFileSync(join(CHART, 'files/jsmssotenant.crd.yaml'), 'utf8')).to.equal(
      readFileSync(CRD_PATH, 'utf8'),
    );
    expect(readFileSync(join(CHART, 'files/jsmssopool.crd.yaml'), 'utf8')).to.equal(
      readFileSync(POOL_CRD_PATH, 'utf8'),
    );
  });

  it('gets the CRD copied by npm run gen (scripts/sync-chart-crd.ts), which reports a stale copy', () => {
    expect(readFileSync(join(packageRoot(), 'package.json'), 'utf8')).to.include(
      'tsx scripts/sync-chart-crd.ts',
    );
    const dir = mkdtempSync(join(tmpdir(), 'jsm-sso-crd-'));
    try {
      const stale = join(dir, 'chart-crd.yaml');
      writeFileSync(stale, 'old schema\n');
      expect(syncChartCrd(true, CRD_PATH, stale)).to.equal(false);
      expect(readFileSync(stale, 'utf8')).to.equal('old schema\n');
      syncChartCrd(false, CRD_PATH, stale);
      expect(readFileSync(stale, 'utf8')).to.equal(readFileSync(CRD_PATH, 'utf8'));
      expect(syncChartCrd(true, CRD_PATH, stale)).to.equal(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('passes helm lint --strict, cluster-wide and namespaced', () => {
    helm('lint', '--strict', CHART);
    helm(
      'lint',
      '--strict',
      CHART,
      '--set',
      'watchNamespaces[0]=a',
      '--set',
      'metrics.serviceMonitor.enabled=true',
    );
  });

  it('refuses values the schema does not know', () => {
    expect(() => helm('template', 'x', CHART, '--set', 'replicas=2')).to.throw(
      /additional properties|replicas/i,
    );
  });

  async function dryRunApply(objects: KubeObject[], namespace: string): Promise<string[]> {
    const applied: string[] = [];
    for (const object of objects) {
      if (object.kind === 'CustomResourceDefinition') continue; // installed by the test setup
      const path = pathOf(object, namespace);
      await env.client.apply(path, object, { fieldManager: 'helm-test', dryRun: true });
      applied.push(`${object.kind}/${object.metadata.name}`);
    }
    return applied;
  }

  function render(namespace: string, ...set: string[]): KubeObject[] {
    const out = helm(
      'template',
      'jsm-sso',
      CHART,
      '--namespace',
      namespace,
      // A value to --set, or a flag of its own (--skip-schema-validation).
      ...set.flatMap((s) => (s.startsWith('--') ? [s] : ['--set', s])),
    );
    return parseAllDocuments(out)
      .map((d) => d.toJS() as KubeObject | null)
      .filter((d): d is KubeObject => d !== null);
  }

  const POD_DEFAULTS_FLAG = '--tenant-pod-defaults=';
  function operatorArgs(objects: KubeObject[]): string[] {
    const deployment = objects.find((o) => o.kind === 'Deployment') as KubeObject & {
      spec: { template: { spec: { containers: { args: string[] }[] } } };
    };
    return deployment.spec.template.spec.containers[0]!.args;
  }

  it('renders objects the API server accepts (server-side dry run), with a ClusterRole by default', async () => {
    const namespace = await freshNamespace(env.client, 'helm');
    const applied = await dryRunApply(render(namespace), namespace);
    expect(applied).to.include.members([
      'ServiceAccount/jsm-sso',
      'ClusterRole/jsm-sso',
      'ClusterRoleBinding/jsm-sso',
      'Role/jsm-sso-leader-election',
      'Deployment/jsm-sso',
      'Service/jsm-sso-metrics',
      'PodDisruptionBudget/jsm-sso',
      'NetworkPolicy/jsm-sso',
    ]);
  });

  it('gives the operator a disruption budget and a NetworkPolicy (metrics in; DNS and the API server out), both optional', async () => {
    const namespace = await freshNamespace(env.client, 'helm');
    const objects = render(
      namespace,
      'replicaCount=3',
      'operatorNetworkPolicy.apiServerCIDRs[0]=10.0.0.1/32',
    );
    const deployment = objects.find((o) => o.kind === 'Deployment') as KubeObject & {
      spec: { template: { metadata: { labels: Record<string, string> } } };
    };
    const pdb = objects.find((o) => o.kind === 'PodDisruptionBudget') as KubeObject & {
      spec: {
        maxUnavailable: number;
        selector: { matchLabels: Record<string, string> };
        unhealthyPodEvictionPolicy: string;
      };
    };
    expect(pdb.spec.maxUnavailable).to.equal(1);
    // A crash-looping replica never holds up a node drain (test/operator/pod-disruption.test.ts).
    expect(pdb.spec.unhealthyPodEvictionPolicy).to.equal('AlwaysAllow');
    expect(deployment.spec.template.metadata.labels).to.include(pdb.spec.selector.matchLabels);
    const policy = objects.find((o) => o.kind === 'NetworkPolicy') as KubeObject & {
      spec: V1NetworkPolicySpec;
    };
    expect(deployment.spec.template.metadata.labels).to.include(policy.spec.podSelector!.matchLabels);
    expect(policy.spec.policyTypes).to.deep.equal(['Ingress', 'Egress']);
    expect(policy.spec.ingress).to.deep.equal([
      {
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
        ports: [{ port: 'management', protocol: 'TCP' }],
      },
    ]);
    expect(policy.spec.egress).to.deep.equal([
      {
        ports: [
          { port: 53, protocol: 'UDP' },
          { port: 53, protocol: 'TCP' },
        ],
      },
      {
        to: [{ ipBlock: { cidr: '10.0.0.1/32' } }],
        ports: [
          { port: 443, protocol: 'TCP' },
          { port: 6443, protocol: 'TCP' },
        ],
      },
    ]);
    await dryRunApply(objects, namespace);
    const kinds = render(
      namespace,
      'podDisruptionBudget.enabled=false',
      'operatorNetworkPolicy.enabled=false',
    ).map((o) => o.kind);
    expect(kinds).to.not.include('PodDisruptionBudget').and.not.include('NetworkPolicy');
  });

  it('passes tenantPodDefaults to the operator as a flag it accepts, with its pull Secrets by default', () => {
    const podDefaults = (objects: KubeObject[]) => {
      const flag = operatorArgs(objects).find((a) => a.startsWith(POD_DEFAULTS_FLAG));
      return parsePodDefaults(flag?.slice(POD_DEFAULTS_FLAG.length)).podDefaults;
    };
    expect(podDefaults(render('ops'))).to.deep.equal({
      resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' } },
    });
    expect(podDefaults(render('ops', 'imagePullSecrets[0].name=registry'))?.imagePullSecrets).to.deep.equal([
      { name: 'registry' },
    ]);
    const own = podDefaults(
      render(
        'ops',
        'imagePullSecrets[0].name=registry',
        'tenantPodDefaults.imagePullSecrets[0].name=tenant-registry',
        'tenantPodDefaults.priorityClassName=sso',
        'tenantPodDefaults.nodeSelector.pool=sso',
      ),
    );
    expect(own).to.deep.include({
      imagePullSecrets: [{ name: 'tenant-registry' }],
      priorityClassName: 'sso',
      nodeSelector: { pool: 'sso' },
    });
    expect(() =>
      podDefaults(render('ops', 'tenantPodDefaults.podLabels.app\\.kubernetes\\.io/name=x')),
    ).to.throw(/set by the operator/);
  });

  it('refuses, at helm install, tenantPodDefaults the operator would refuse at start, naming the value', () => {
    // Each was rendered into a flag on which the new operator pods exited, after an install Helm
    // called a success; the values schema now carries the CRD's pod settings (npm run gen).
    const refused: [string, RegExp][] = [
      [
        'tenantPodDefaults.resources.limits.memory=lots',
        /tenantPodDefaults\/resources\/limits\/memory': 'lots'/,
      ],
      [
        'tenantPodDefaults.resource.limits.memory=1Gi',
        /tenantPodDefaults': additional properties 'resource'/,
      ],
      ['tenantPodDefaults.tolerations[0].effect=Sometimes', /tenantPodDefaults\/tolerations\/0\/effect/],
      ['tenantPodDefaults.podLabels.team=a b', /tenantPodDefaults\/podLabels\/team': 'a b'/],
      ['tenantPodDefaults.priorityClassName=High', /tenantPodDefaults\/priorityClassName': 'High'/],
    ];
    for (const [value, message] of refused) {
      expect(() => render('ops', value), value).to.throw(message);
      // Rendered past the schema, the flag is one the operator refuses.
      const flag = operatorArgs(render('ops', '--skip-schema-validation', value)).find((a) =>
        a.startsWith(POD_DEFAULTS_FLAG),
      );
      expect(() => parsePodDefaults(flag!.slice(POD_DEFAULTS_FLAG.length)), value).to.throw(UsageError);
    }
    render('ops', 'tenantPodDefaults.priorityClassName=high', 'tenantPodDefaults.resources.limits.cpu=2');
  });

  it("takes extraEnv's every core/v1 EnvVarSource field, as the API server does", async () => {
    const namespace = await freshNamespace(env.client, 'helm');
    const sources = [
      'extraEnv[0].name=NODE_NAME',
      'extraEnv[0].valueFrom.fieldRef.apiVersion=v1',
      'extraEnv[0].valueFrom.fieldRef.fieldPath=spec.nodeName',
      'extraEnv[1].name=MEMORY_MI',
      'extraEnv[1].valueFrom.resourceFieldRef.containerName=operator',
      'extraEnv[1].valueFrom.resourceFieldRef.resource=limits.memory',
      'extraEnv[1].valueFrom.resourceFieldRef.divisor=1Mi',
      'extraEnv[2].name=REGION',
      'extraEnv[2].valueFrom.configMapKeyRef.name=site',
      'extraEnv[2].valueFrom.configMapKeyRef.key=region',
      'extraEnv[2].valueFrom.configMapKeyRef.optional=true',
      'extraEnv[3].name=HTTPS_PROXY',
      'extraEnv[3].valueFrom.secretKeyRef.name=proxy',
      'extraEnv[3].valueFrom.secretKeyRef.key=url',
      'extraEnv[3].valueFrom.secretKeyRef.optional=false',
    ];
    expect(await dryRunApply(render(namespace, ...sources), namespace)).to.include('Deployment/jsm-sso');
  });

  it("refuses a misspelt or malformed field of the operator's own pod or environment, which helm install would leave the API server to drop", async () => {
    const misspeltAffinity =
      'affinity.podAntiAfinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey=kubernetes.io/hostname';
    const refused: [string[], RegExp][] = [
      [[misspeltAffinity], /at '\/affinity': additional properties 'podAntiAfinity' not allowed/],
      [['resources.limit.memory=1Gi'], /at '\/resources': additional properties 'limit' not allowed/],
      [['resources.limits.cpu=lots'], /at '\/resources\/limits\/cpu': 'lots' does not match pattern/],
      [['tolerations[0].operator=Exist'], /at '\/tolerations\/0\/operator': value must be one of/],
      [['topologySpreadConstraints[0].maxSkew=1'], /at '\/topologySpreadConstraints\/0': missing properties/],
      // An EnvVar's misspelt value would reach the operator as an empty variable.
      [
        ['extraEnv[0].name=HTTPS_PROXY', 'extraEnv[0].vaule=http://proxy.corp:3128'],
        /at '\/extraEnv\/0': additional properties 'vaule' not allowed/,
      ],
      // The API server would drop it: the variable stays required, and a missing Secret holds the pod.
      [
        [
          'extraEnv[0].name=HTTPS_PROXY',
          'extraEnv[0].valueFrom.secretKeyRef.name=proxy',
          'extraEnv[0].valueFrom.secretKeyRef.key=url',
          'extraEnv[0].valueFrom.secretKeyRef.optinal=true',
        ],
        /at '\/extraEnv\/0\/valueFrom\/secretKeyRef': additional properties 'optinal' not allowed/,
      ],
      [
        ['extraEnv[0].name=NODE_NAME', 'extraEnv[0].valueFrom.fieldRef.fieldpath=spec.nodeName'],
        /at '\/extraEnv\/0\/valueFrom\/fieldRef': .*fieldpath/,
      ],
    ];
    for (const [values, message] of refused)
      expect(() => render('ops', ...values), values.join(' ')).to.throw(message);
    // Past the schema, Helm installs it: the API server drops the unknown field with a warning, and the
    // operator's replicas lose the spread over nodes that an empty affinity would have given them.
    const namespace = await freshNamespace(env.client, 'helm');
    helm(
      'install',
      'typo',
      CHART,
      '--kubeconfig',
      env.kubeconfigPath,
      '--namespace',
      namespace,
      '--skip-schema-validation',
      '--set',
      'crds.enabled=false',
      '--set',
      misspeltAffinity,
    );
    const installed = await env.client.get<
      KubeObject & { spec: { template: { spec: { affinity?: object } } } }
    >(objectPath(KINDS.deployment, namespace, 'typo-jsm-sso'));
    expect(installed?.spec.template.spec.affinity ?? {}).to.deep.equal({});
  });

  it("keeps tenantPodDefaults and the operator's pod fields in values.schema.json generated from the CRD (npm run gen reports a stale copy)", () => {
    expect(syncChartValuesSchema(true), 'values.schema.json is stale: npm run gen').to.equal(true);
    const dir = mkdtempSync(join(tmpdir(), 'jsm-sso-values-schema-'));
    try {
      const stale = join(dir, 'values.schema.json');
      const schema = JSON.parse(readFileSync(CHART_VALUES_SCHEMA_PATH, 'utf8'));
      schema.properties.tenantPodDefaults = { type: 'object', description: 'anything' };
      writeFileSync(stale, JSON.stringify(schema));
      expect(syncChartValuesSchema(true, stale)).to.equal(false);
      syncChartValuesSchema(false, stale);
      expect(syncChartValuesSchema(true, stale)).to.equal(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("gives the operator's pod the grace period its stop needs, even against a silent API server (ADR 0161)", () => {
    const deployment = render('ops').find((o) => o.kind === 'Deployment') as KubeObject & {
      spec: { template: { spec: { terminationGracePeriodSeconds: number } } };
    };
    expect(deployment.spec.template.spec.terminationGracePeriodSeconds).to.be.at.least(operatorStopSeconds());
  });

  it('refuses a disruption budget that would block every node drain (maxUnavailable 0)', () => {
    for (const value of ['0', '0%']) {
      expect(() => render('ops', `podDisruptionBudget.maxUnavailable=${value}`), value).to.throw(
        /podDisruptionBudget\/maxUnavailable/,
      );
    }
    for (const value of ['2', '50%']) render('ops', `podDisruptionBudget.maxUnavailable=${value}`);
  });

  it('uses namespaced Roles when watchNamespaces is set, and no wildcard verbs', async () => {
    const namespace = await freshNamespace(env.client, 'helm');
    const watched = await freshNamespace(env.client, 'tenants');
    const objects = render(namespace, `watchNamespaces[0]=${watched}`);
    // Cluster-wide only the namespaces' labels (a pool's tenants by namespace selector, ADR 0213).
    const clusterRoles = objects.filter((o) => o.kind === 'ClusterRole');
    expect(clusterRoles.map((o) => [o.metadata.name, o['rules']])).to.deep.equal([
      ['jsm-sso-namespaces', [{ apiGroups: [''], resources: ['namespaces'], verbs: ['list', 'watch'] }]],
    ]);
    const role = objects.find((o) => o.kind === 'Role' && o.metadata.namespace === watched);
    expect(role, 'Role in the watched namespace').to.not.equal(undefined);
    for (const o of objects.filter((x) => x.kind === 'Role' || x.kind === 'ClusterRole')) {
      for (const rule of o['rules'] as { verbs: string[]; resources: string[] }[]) {
        expect(rule.verbs).to.not.include('*');
        expect(rule.resources).to.not.include('*');
      }
    }
    await dryRunApply(objects, namespace);
    const deployment = objects.find((o) => o.kind === 'Deployment') as KubeObject & {
      spec: { replicas: number; template: { spec: { containers: { args: string[] }[] } } };
    };
    expect(deployment.spec.replicas).to.equal(2);
    expect(deployment.spec.template.spec.containers[0]?.args).to.include(`--watch-namespaces=${watched}`);
  });

  it('has an example tenant the API server accepts', async () => {
    const [example] = parseAllDocuments(readFileSync(join(CHART, 'examples/tenant.yaml'), 'utf8')).map(
      (d) => d.toJS() as KubeObject,
    );
    const namespace = await freshNamespace(env.client, 'example');
    example!.metadata.namespace = namespace;
    await env.client.apply(pathOf(example!, namespace), example, { fieldManager: 'helm-test', dryRun: true });
  });
});

function pathOf(object: KubeObject, namespace: string): string {
  const known = kindByName(object.kind ?? '');
  const rbac = ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'];
  const plural = `${(object.kind ?? '').toLowerCase()}s`;
  const ns = object.metadata.namespace ?? namespace;
  if (known) return objectPath(known, ns, object.metadata.name!);
  if (rbac.includes(object.kind ?? '')) {
    const cluster = object.kind!.startsWith('Cluster');
    const base = `/apis/rbac.authorization.k8s.io/v1${cluster ? '' : `/namespaces/${ns}`}/${plural}`;
    return `${base}/${object.metadata.name}`;
  }
  if (object.kind === 'ServiceAccount')
    return `/api/v1/namespaces/${ns}/serviceaccounts/${object.metadata.name}`;
  throw new ApiError(0, 'UnknownKind', `no path for ${object.kind} (${collectionPath.name})`);
}
