import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Deployment, V1PodSpec } from '@kubernetes/client-node';
import { expect } from 'chai';
import { parse, parseAllDocuments } from 'yaml';
import { UsageError } from '../../common/args.js';
import { checkTenant } from '../../common/config/load.js';
import type { JsmSsoPool } from '../../common/config/pool.generated.js';
import type { TenantPodSettings } from '../../common/config/tenant.generated.js';
import { ApiError, type KubeObject } from '../../common/kube/client.js';
import { packageRoot } from '../../common/paths.js';
import { parsePodDefaults } from '../../operator/cli.js';
import { collectionPath, KINDS, kindByName, objectPath } from '../../operator/kube/kinds.js';
import { labels, MANAGEMENT_PORT, selectorLabels } from '../../operator/resources/common.js';
import { desiredDeployment } from '../../operator/resources/deployment.js';
import { desiredPoolDeployment, poolContext } from '../../operator/resources/pool.js';
import { type Envtest, envtest, freshNamespace } from '../../testkit/envtest.js';
import { podRefusal, RESTRICTED_NAMESPACE_LABELS } from '../../testkit/pod-security.js';
import { tenantObject } from '../../testkit/tenants.js';
import { helmPath } from '../../testkit/tools.js';

const CHART = join(packageRoot(), 'charts/jsm-sso');

type Schema = {
  type?: string;
  description?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: boolean | Schema;
};

/** Paths of schema properties without a description. */
function undescribed(schema: Schema, path = ''): string[] {
  const missing: string[] = [];
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    const here = path ? `${path}.${name}` : name;
    if (!child.description) missing.push(here);
    missing.push(...undescribed(child, here));
    if (child.items) missing.push(...undescribed(child.items, `${here}[]`));
  }
  return missing;
}

/** The objects of a rendered chart (`helm template`'s documents, empty ones left out). */
/** The objects of a rendered chart; `version` '1.1' reads them as the API server's YAML reader does. */
function objectsOf(rendered: string, version: '1.1' | '1.2' = '1.2'): KubeObject[] {
  return parseAllDocuments(rendered, { version })
    .map((d) => d.toJS() as KubeObject | null)
    .filter((d): d is KubeObject => d !== null);
}

/** Every leaf path of a values document (objects descended, arrays and scalars are leaves). */
function leafPaths(value: unknown, path = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [path];
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return [path];
  return entries.flatMap(([k, v]) => leafPaths(v, path ? `${path}.${k}` : k));
}

describe('Helm chart values and templates', function () {
  this.timeout(60_000);
  // The CRDs alone render to about 0.5 MB (Helm spells out their YAML anchors), past execFileSync's 1 MiB
  // default with the annotation test's three 256 KiB maps.
  const helm = (...args: string[]) =>
    execFileSync(helmPath(), args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 16 * 1024 * 1024,
    });
  const render = (...set: string[]): KubeObject[] =>
    objectsOf(helm('template', 'rel', CHART, '--namespace', 'ops', ...set.flatMap((s) => ['--set', s])));
  /** Rendered as if the schema had taken the values (as it did before ADR 0280 and 0281). */
  const renderUnchecked = (namespace: string, ...setString: string[]): KubeObject[] =>
    objectsOf(
      helm(
        'template',
        'x',
        CHART,
        '--namespace',
        namespace,
        '--skip-schema-validation',
        ...setString.flatMap((s) => ['--set-string', s]),
      ),
    );
  /** Values too large or nested for --set, as a file for -f. */
  const valuesFile = (values: Record<string, unknown>): string => {
    const path = join(mkdtempSync(join(tmpdir(), 'jsm-sso-values-')), 'values.json');
    writeFileSync(path, JSON.stringify(values));
    return path;
  };
  /** The API server's answer to a server-side dry run of a rendered object: `stored`, or its refusal. */
  const serverAnswer = (env: Envtest, namespace: string, object: KubeObject): Promise<string> =>
    env.client
      .apply(objectPath(kindByName(object.kind!)!, namespace, object.metadata.name!), object, {
        fieldManager: 'helm-test',
        dryRun: true,
      })
      .then(
        () => 'stored',
        (err: unknown) => (err instanceof ApiError ? err.serverMessage : String(err)),
      );
  const dryRunDeployment = (env: Envtest, namespace: string, deployment: KubeObject) =>
    env.client.apply(
      `/apis/apps/v1/namespaces/${namespace}/deployments/${deployment.metadata.name}`,
      deployment,
      {
        fieldManager: 'helm-test',
        dryRun: true,
      },
    );
  const operatorDeployment = (objects: KubeObject[]) =>
    objects.find((o) => o.kind === 'Deployment') as KubeObject & {
      spec: {
        template: {
          metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
          spec: Record<string, unknown> & { containers: { args: string[]; env: { name: string }[] }[] };
        };
      };
    };

  /** The tenants' pod defaults as the operator parses them from its Deployment's flag. */
  const podDefaultsOf = (deployment: ReturnType<typeof operatorDeployment>) => {
    const flag = '--tenant-pod-defaults=';
    const arg = deployment.spec.template.spec.containers[0]!.args.find((a) => a.startsWith(flag))!;
    return parsePodDefaults(arg.slice(flag.length)).podDefaults;
  };
  /** `helm template` of values given as a file (-f), for those too large or nested for --set. */
  const renderValues = (namespace: string, values: Record<string, unknown>, ...flags: string[]) =>
    objectsOf(helm('template', 'x', CHART, '--namespace', namespace, '-f', valuesFile(values), ...flags));
  /**
   * Each case's operator Deployment, rendered past the schema, is refused by the API server with the
   * first message (helm install would have created the ServiceAccount and the ClusterRole first), and
   * the schema refuses the values with the second before anything is sent.
   */
  const expectRefusedAtInstall = async (
    env: Envtest,
    namespace: string,
    cases: [Record<string, unknown>, RegExp, RegExp][],
  ) => {
    for (const [values, byServer, bySchema] of cases) {
      const unchecked = operatorDeployment(renderValues(namespace, values, '--skip-schema-validation'));
      expect(await serverAnswer(env, namespace, unchecked), JSON.stringify(values)).to.match(byServer);
      expect(() => renderValues(namespace, values), JSON.stringify(values)).to.throw(bySchema);
    }
  };
  /** The values render, and the API server stores the operator Deployment they give. */
  const expectAccepted = async (env: Envtest, namespace: string, values: Record<string, unknown>) =>
    expect(
      await serverAnswer(env, namespace, operatorDeployment(renderValues(namespace, values))),
      JSON.stringify(values),
    ).to.equal('stored');

  it('describes every field of values.schema.json, and every default in values.yaml is in the schema', () => {
    const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as Schema;
    expect(undescribed(schema)).to.deep.equal([]);
    const values = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as unknown;
    for (const leaf of leafPaths(values)) {
      let node: Schema | undefined = schema;
      for (const part of leaf.split('.')) {
        // A free-form object (resources, affinity) takes any key below it.
        if (node && !node.properties && node.additionalProperties === undefined) break;
        const additional: Schema['additionalProperties'] = node?.additionalProperties;
        node = node?.properties?.[part] ?? (typeof additional === 'object' ? additional : undefined);
      }
      expect(node, `values.yaml ${leaf} has no schema`).to.not.equal(undefined);
    }
  });

  it('accepts the usual overrides and wires each into the operator Deployment', () => {
    const objects = render(
      'nameOverride=sso',
      'fullnameOverride=corp-sso',
      'commonLabels.team=identity',
      'podLabels.cost-centre=c42',
      'podAnnotations.example\\.com/scrape=no',
      'priorityClassName=platform-critical',
      'topologySpreadConstraints[0].maxSkew=1',
      'topologySpreadConstraints[0].topologyKey=topology.kubernetes.io/zone',
      'topologySpreadConstraints[0].whenUnsatisfiable=ScheduleAnyway',
      'extraEnv[0].name=HTTPS_PROXY',
      'extraEnv[0].value=http://proxy.corp:3128',
      'workers=8',
      'resyncSeconds=300',
    );
    const deployment = operatorDeployment(objects);
    expect(deployment.metadata.name).to.equal('corp-sso');
    expect(deployment.metadata.labels).to.include({ 'app.kubernetes.io/name': 'sso', team: 'identity' });
    const pod = deployment.spec.template;
    expect(pod.metadata.labels).to.include({ 'cost-centre': 'c42', team: 'identity' });
    expect(pod.spec['priorityClassName']).to.equal('platform-critical');
    expect(pod.spec['topologySpreadConstraints']).to.deep.equal([
      {
        labelSelector: {
          matchLabels: {
            'app.kubernetes.io/name': 'sso',
            'app.kubernetes.io/instance': 'rel',
            'app.kubernetes.io/component': 'operator',
          },
        },
        maxSkew: 1,
        topologyKey: 'topology.kubernetes.io/zone',
        whenUnsatisfiable: 'ScheduleAnyway',
      },
    ]);
    expect(pod.spec.containers[0]!.env).to.deep.include({
      name: 'HTTPS_PROXY',
      value: 'http://proxy.corp:3128',
    });
    expect(pod.spec.containers[0]!.args).to.include.members(['--workers=8', '--resync-seconds=300']);
    for (const o of objects) expect(o.metadata.labels, `${o.kind} labels`).to.include({ team: 'identity' });
    helm('lint', '--strict', CHART, '--set', 'nameOverride=sso', '--set', 'podLabels.a=b');
  });

  // YAML 1.1 reads a bare on, yes, true, null, 1 as no string: `helm install on` failed with "cannot unmarshal
  // bool into ... metadata.labels of type string", its selector labels and namespaces written unquoted; so did
  // a nameOverride, fullnameOverride or serviceAccount.name written so (a string in values, bare in the YAML).
  const literalNames: Array<{ set: string[]; name: string; fullname: string; serviceAccount: string }> = [
    { set: [], name: 'jsm-sso', fullname: 'on-jsm-sso', serviceAccount: 'on-jsm-sso' },
    { set: ['nameOverride=1'], name: '1', fullname: 'on-1', serviceAccount: 'on-1' },
    {
      set: ['nameOverride=null', 'fullnameOverride=true'],
      name: 'null',
      fullname: 'true',
      serviceAccount: 'true',
    },
    // A release name holding the chart's name is the full name: `on` alone.
    {
      set: ['nameOverride=on', 'serviceAccount.name=yes'],
      name: 'on',
      fullname: 'on',
      serviceAccount: 'yes',
    },
  ];
  for (const { set, name, fullname, serviceAccount } of literalNames)
    it(`renders a release and a namespace named as YAML literals (on, null)${set.length ? ` with ${set.join(', ')}` : ''} as those names, every name, label and namespace a string`, () => {
      const objects = objectsOf(
        helm('template', 'on', CHART, '--namespace', 'null', ...set.flatMap((s) => ['--set-string', s])),
        '1.1',
      );
      const strings = (map: Record<string, unknown> | undefined) =>
        Object.values(map ?? {}).every((v) => typeof v === 'string');
      for (const o of objects) {
        const where = `${o.kind}/${String(o.metadata.name)}`;
        // Every object is named after the release, but the CRDs, named by their group, and the
        // ServiceAccount, named by serviceAccount.name when set.
        const named = o.kind === 'ServiceAccount' ? serviceAccount : fullname;
        if (o.kind !== 'CustomResourceDefinition')
          expect(o.metadata.name, where)
            .to.be.a('string')
            .and.match(new RegExp(`^${named}(-|$)`));
        expect(strings(o.metadata.labels), where).to.equal(true);
        expect(o.metadata.labels?.['app.kubernetes.io/name'], where).to.equal(name);
        if (o.metadata.namespace !== undefined) expect(o.metadata.namespace, where).to.equal('null');
        for (const subject of (o as { subjects?: { name: unknown }[] }).subjects ?? [])
          expect(subject.name, `${where} subject`).to.equal(serviceAccount);
      }
      const deployment = operatorDeployment(objects);
      const { matchLabels } = (
        deployment.spec as unknown as { selector: { matchLabels: Record<string, unknown> } }
      ).selector;
      expect(matchLabels).to.include({ 'app.kubernetes.io/instance': 'on', 'app.kubernetes.io/name': name });
      expect(deployment.spec.template.metadata.labels).to.include({
        'app.kubernetes.io/instance': 'on',
        'app.kubernetes.io/name': name,
      });
      expect(deployment.spec.template.spec['serviceAccountName']).to.equal(serviceAccount);
    });

  it("renders every label once where commonLabels, podLabels or a monitor's labels name a key the chart or another of them sets, the more specific value winning", () => {
    const rendered = helm(
      'template',
      'rel',
      CHART,
      '--namespace',
      'ops',
      ...[
        // A platform's own part-of, as many set on everything they install.
        'commonLabels.app\\.kubernetes\\.io/part-of=identity',
        'commonLabels.team=identity',
        'podLabels.team=operator-pods',
        'metrics.serviceMonitor.enabled=true',
        'metrics.serviceMonitor.labels.team=monitoring',
        'metrics.tenantPodMonitor.enabled=true',
        'metrics.tenantPodMonitor.labels.team=monitoring',
        'metrics.prometheusRule.enabled=true',
        'metrics.prometheusRule.labels.team=monitoring',
        'metrics.grafanaDashboard.enabled=true',
        'commonLabels.grafana_dashboard=other',
      ].flatMap((s) => ['--set', s]),
    );
    // A key twice in one mapping is invalid YAML (YAML 1.2, 3.2.1.1): Helm reads the last one, but
    // kustomize's helmCharts (`kubectl kustomize --enable-helm`) and other YAML 1.2 readers refuse the
    // release ("mapping key ... already defined").
    const documents = parseAllDocuments(rendered);
    expect(documents.flatMap((d) => d.errors.map((e) => e.message))).to.deep.equal([]);
    const objects = objectsOf(rendered);
    for (const o of objects)
      expect(o.metadata.labels, `${o.kind} labels`).to.include({ 'app.kubernetes.io/part-of': 'identity' });
    expect(operatorDeployment(objects).spec.template.metadata.labels).to.include({ team: 'operator-pods' });
    for (const kind of ['ServiceMonitor', 'PodMonitor', 'PrometheusRule'])
      expect(objects.find((o) => o.kind === kind)!.metadata.labels, kind).to.include({ team: 'monitoring' });
    // The dashboard's own label, which Grafana's sidecar looks for, over a commonLabels of the same key.
    expect(objects.find((o) => o.kind === 'ConfigMap')!.metadata.labels).to.include({
      grafana_dashboard: '1',
    });
  });

  it('still refuses a misspelt value', () => {
    expect(() => helm('template', 'x', CHART, '--set', 'podLabel.a=b')).to.throw(
      /additional properties|podLabel/i,
    );
    expect(() =>
      helm('template', 'x', CHART, '--set', 'networkPolicy.ingressNamespaceSelector=nginx'),
    ).to.throw(/ingressNamespaceSelector/);
    expect(() => helm('template', 'x', CHART, '--set', 'workers=0')).to.throw(/workers/);
  });

  it('refuses names and labels the API server would refuse once helm install had created part of the release', () => {
    // `helm install` creates the objects one by one: a refused Deployment or Service left the
    // ServiceAccount, the ClusterRole (every Secret) and its binding behind a failed release.
    const refusals: [string, RegExp][] = [
      ['nameOverride=Sso', /nameOverride/],
      ['nameOverride=sso_x', /nameOverride/],
      ['fullnameOverride=Corp-sso', /fullnameOverride/],
      ['fullnameOverride=1sso', /fullnameOverride/],
      ['commonLabels.app\\.kubernetes\\.io/component=x', /commonLabels/],
      ['podLabels.app\\.kubernetes\\.io/name=x', /podLabels/],
      ['podLabels.app\\.kubernetes\\.io/instance=x', /podLabels/],
      ['serviceAccount.name=Ops SA', /serviceAccount\/name/],
      ['priorityClassName=High Priority', /priorityClassName/],
      ['operatorNetworkPolicy.apiServerCIDRs={10.0.0.1}', /apiServerCIDRs/],
      ['operatorNetworkPolicy.apiServerCIDRs={10.0.0.0/33}', /apiServerCIDRs/],
      ['operatorNetworkPolicy.apiServerCIDRs={fd00::/129}', /apiServerCIDRs/],
    ];
    for (const [set, refusal] of refusals)
      expect(() => helm('template', 'x', CHART, '--set', set), set).to.throw(refusal);
    // The longest full name still names a Service (a DNS label: 63 characters at most).
    for (const set of [`fullnameOverride=a${'b'.repeat(62)}`, `nameOverride=a${'b'.repeat(62)}`]) {
      const objects = render(set);
      const names = objects.map((o) => o.metadata.name ?? '');
      const service = objects.find((o) => o.kind === 'Service')!;
      expect(service.metadata.name!.length, set).to.be.at.most(63);
      expect(service.metadata.name, set).to.match(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);
      expect(names.filter((n) => n.length > 253)).to.deep.equal([]);
    }
    expect(render('podLabels.app\\.kubernetes\\.io/part-of=corp').length).to.be.above(0);
    const policy = render('operatorNetworkPolicy.apiServerCIDRs={10.96.0.1/32,fd00:10:96::1/128}');
    expect(policy.some((o) => o.kind === 'NetworkPolicy')).to.equal(true);
  });

  it('refuses an extraEnv variable the chart sets itself, which would replace it with only a warning from the API server', () => {
    // A second NODE_OPTIONS replaced nodeOptions' heap size for the kubelet, and a merge patch of the
    // env list at helm upgrade may drop one of the two.
    for (const name of ['NODE_OPTIONS', 'LOG_LEVEL', 'POD_NAME', 'POD_NAMESPACE'])
      expect(
        () =>
          helm('template', 'x', CHART, '--set', `extraEnv[0].name=${name}`, '--set', 'extraEnv[0].value=x'),
        name,
      ).to.throw(/extraEnv\/0\/name/);
  });

  it('refuses labels, annotations and a nodeSelector the API server would refuse once helm install had created part of the release', async () => {
    // Past the schema, as the schema took them before: each object carrying one is refused, the
    // commonLabels one already on the ServiceAccount, the first object helm install creates.
    const env = await envtest();
    const namespace = await freshNamespace(env.client, 'meta');
    const unchecked = renderUnchecked(
      namespace,
      'commonLabels.team=a b',
      'podAnnotations.bad key=x',
      'nodeSelector.disk=ssd fast',
      'tolerations[0].key=a b',
      'tolerations[0].operator=Exists',
      'metrics.grafanaDashboard.enabled=true',
      'metrics.grafanaDashboard.annotations.grafana folder=x',
    );
    const refusal = (kind: string) => serverAnswer(env, namespace, unchecked.find((o) => o.kind === kind)!);
    expect(await refusal('ServiceAccount')).to.match(/metadata.labels: Invalid/);
    const deployment = await refusal('Deployment');
    expect(deployment).to.match(/spec.template.annotations: Invalid value: "bad key"/);
    expect(deployment).to.match(/spec.template.spec.nodeSelector: Invalid value: "ssd fast"/);
    expect(deployment).to.match(/spec.template.spec.tolerations\[0\].key: Invalid value: "a b"/);
    // The monitors' labels are metadata the same way (a ServiceMonitor is checked as this ConfigMap is).
    expect(await refusal('ConfigMap')).to.match(/metadata.annotations: Invalid/);
    const refusals: [string, RegExp][] = [
      ['commonLabels.team=a b', /commonLabels\/team/],
      ['commonLabels.Team Name=x', /commonLabels[\s\S]*invalid propertyName 'Team Name'/],
      ['podLabels.a b=c', /podLabels[\s\S]*invalid propertyName/],
      [`podLabels.v=${'x'.repeat(64)}`, /podLabels\/v/],
      ['podAnnotations.bad key=x', /podAnnotations[\s\S]*invalid propertyName/],
      ['podAnnotations.example\\.com/a/b=x', /podAnnotations[\s\S]*invalid propertyName/],
      ['nodeSelector.bad key=x', /nodeSelector[\s\S]*invalid propertyName/],
      ['nodeSelector.disk=ssd fast', /nodeSelector\/disk/],
      ['tolerations[0].key=a b', /tolerations\/0\/key/],
      ['tolerations[0].value=x y', /tolerations\/0\/value/],
      ['serviceAccount.annotations.a b=x', /serviceAccount\/annotations[\s\S]*invalid propertyName/],
      ['metrics.serviceMonitor.labels.release=kube prom', /serviceMonitor\/labels\/release/],
      [
        'metrics.tenantPodMonitor.labels.Bad\\.Prefix/x=y',
        /tenantPodMonitor\/labels[\s\S]*invalid propertyName/,
      ],
      ['metrics.prometheusRule.labels.role=alert rules', /prometheusRule\/labels\/role/],
      ['metrics.grafanaDashboard.labels.a b=1', /grafanaDashboard\/labels[\s\S]*invalid propertyName/],
      ['metrics.grafanaDashboard.annotations.grafana folder=x', /grafanaDashboard\/annotations/],
    ];
    for (const [set, message] of refusals)
      expect(() => helm('template', 'x', CHART, '--set-string', set), set).to.throw(message);
    const spread = ['maxSkew=1', 'topologyKey=a b', 'whenUnsatisfiable=ScheduleAnyway'].flatMap((s) => [
      '--set',
      `topologySpreadConstraints[0].${s}`,
    ]);
    expect(() => helm('template', 'x', CHART, ...spread)).to.throw(
      /topologySpreadConstraints\/0\/topologyKey/,
    );
    // What real installs set stays accepted, here and by the API server: prefixed keys, an upper-case
    // annotation prefix (the API server checks it in lower case), an empty label value.
    const deploymentOf = operatorDeployment(
      objectsOf(
        helm(
          'template',
          'x',
          CHART,
          '--namespace',
          namespace,
          ...[
            'podAnnotations.prometheus\\.io/scrape=true',
            'podAnnotations.Example\\.COM/Owner=team a',
            'podLabels.canary=',
            'nodeSelector.kubernetes\\.io/os=linux',
            'nodeSelector.node-role\\.kubernetes\\.io/infra=',
            'tolerations[0].key=node-role\\.kubernetes\\.io/control-plane',
            'tolerations[0].operator=Exists',
            'tolerations[1].operator=Exists',
            'serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn=arn:aws:iam::1:role/sso',
            'metrics.serviceMonitor.labels.release=kube-prometheus-stack',
          ].flatMap((s) => ['--set-string', s]),
        ),
      ),
    );
    expect(deploymentOf.spec.template.spec['nodeSelector']).to.deep.equal({
      'kubernetes.io/os': 'linux',
      'node-role.kubernetes.io/infra': '',
    });
    expect(deploymentOf.spec.template.metadata.labels).to.include({ canary: '' });
    expect(deploymentOf.spec.template.spec['tolerations']).to.have.length(2);
    await dryRunDeployment(env, namespace, deploymentOf);
  });

  it('refuses a release name that names no Service (a digit first, a dot), which Helm takes and the API server refuses after creating part of the release', async () => {
    // Helm takes both (a DNS subdomain of up to 53 characters); the Deployment, ServiceAccount and
    // ClusterRole named from them are DNS subdomains too, but the metrics Service's name is a
    // DNS-1035 label, and helm install met its refusal after the ServiceAccount and the ClusterRole.
    const env = await envtest();
    const namespace = await freshNamespace(env.client, 'release');
    const service = renderValues(namespace, {}).find((o) => o.kind === 'Service')!;
    for (const release of ['1rel', 'a.b', '9-jsm-sso']) {
      const name = release.endsWith('jsm-sso') ? `${release}-metrics` : `${release}-jsm-sso-metrics`;
      const named = { ...service, metadata: { ...service.metadata, name } };
      expect(await serverAnswer(env, namespace, named), release).to.match(
        /metadata.name: Invalid value: .*a DNS-1035 label must consist of lower case/,
      );
      expect(() => helm('template', release, CHART, '--namespace', namespace), release).to.throw(
        `release name "${release}": the metrics Service would be named "${name}", and a Service's name must start with a letter and hold only lower-case letters, digits and '-'; use such a release name, or set fullnameOverride`,
      );
    }
    // The way round: fullnameOverride names every object, the release name stays a label value.
    const objects = objectsOf(
      helm('template', '1rel', CHART, '--namespace', namespace, '--set', 'fullnameOverride=sso'),
    );
    const overridden = objects.find((o) => o.kind === 'Service')!;
    expect(overridden.metadata.name).to.equal('sso-metrics');
    expect(await serverAnswer(env, namespace, overridden)).to.equal('stored');
    expect(await serverAnswer(env, namespace, operatorDeployment(objects))).to.equal('stored');
  });

  it('refuses annotations adding up to more than the API server takes on one object (256 KiB), each of them a valid one', async () => {
    const env = await envtest();
    const namespace = await freshNamespace(env.client, 'annotations');
    const limit = 256 * 1024;
    /** Two annotations whose keys and values add up to `bytes`. */
    const annotationsOf = (bytes: number): Record<string, string> => {
      const key = (k: string) => `example.com/${k}`;
      const half = Math.floor(bytes / 2);
      return {
        [key('a')]: 'a'.repeat(half - key('a').length),
        [key('b')]: 'b'.repeat(bytes - half - key('b').length),
      };
    };
    const at = (bytes: number) => ({
      podAnnotations: annotationsOf(bytes),
      serviceAccount: { annotations: annotationsOf(bytes) },
      metrics: { grafanaDashboard: { enabled: true, annotations: annotationsOf(bytes) } },
    });
    // At the limit, all three objects are stored; a byte more on each and the API server refuses it.
    const objects = renderValues(namespace, at(limit));
    const carrying = ['Deployment', 'ServiceAccount', 'ConfigMap'].map(
      (kind) => objects.find((o) => o.kind === kind)!,
    );
    for (const object of carrying)
      expect(await serverAnswer(env, namespace, object), object.kind).to.equal('stored');
    const over = annotationsOf(limit + 1);
    const [deployment, ...others] = carrying.map((o) => structuredClone(o)) as [
      ReturnType<typeof operatorDeployment>,
      ...KubeObject[],
    ];
    deployment.spec.template.metadata.annotations = over;
    expect(await serverAnswer(env, namespace, deployment)).to.match(
      /spec.template.annotations: Too long: may not be more than 262144 bytes/,
    );
    for (const object of others) {
      object.metadata.annotations = over;
      expect(await serverAnswer(env, namespace, object), object.kind).to.match(
        /metadata.annotations: Too long: may not be more than 262144 bytes/,
      );
    }
    // The chart refuses each before anything is sent, past the schema too (no per-key schema sees a sum).
    const withOver: [string, Record<string, unknown>][] = [
      ['podAnnotations', { podAnnotations: over }],
      ['serviceAccount.annotations', { serviceAccount: { annotations: over } }],
      [
        'metrics.grafanaDashboard.annotations',
        { metrics: { grafanaDashboard: { enabled: true, annotations: over } } },
      ],
    ];
    for (const [path, values] of withOver)
      for (const flags of [[], ['--skip-schema-validation']])
        expect(() => renderValues(namespace, values, ...flags), path).to.throw(
          `${path}: its keys and values add up to ${limit + 1} bytes, over the 262144 (256 KiB) the API server takes on one object`,
        );
  });

  it('refuses tolerations whose fields do not go together, which the API server refuses', async () => {
    const env = await envtest();
    const namespace = await freshNamespace(env.client, 'tolerations');
    const tolerations = (...list: Record<string, unknown>[]) => ({ tolerations: list });
    await expectRefusedAtInstall(env, namespace, [
      [
        tolerations({ key: 'k', operator: 'Exists', value: 'v' }),
        /tolerations\[0\].operator: Invalid value: .*value must be empty when `operator` is 'Exists'/,
        /tolerations\/0\/value': value must be ''/,
      ],
      [
        tolerations({ value: 'v' }),
        /tolerations\[0\].operator: Invalid value: "": operator must be Exists when `key` is empty/,
        /tolerations\/0': missing property 'operator'/,
      ],
      [
        tolerations({ key: '', operator: 'Equal' }),
        /tolerations\[0\].operator: Invalid value: "Equal": operator must be Exists when `key` is empty/,
        /tolerations\/0\/operator': value must be 'Exists'/,
      ],
      [
        tolerations({ key: 'k', tolerationSeconds: 30 }),
        /tolerations\[0\].effect: Invalid value: "": effect must be 'NoExecute' when `tolerationSeconds` is set/,
        /tolerations\/0': missing property 'effect'/,
      ],
      [
        tolerations({ key: 'k', effect: 'NoSchedule', tolerationSeconds: 30 }),
        /effect must be 'NoExecute' when `tolerationSeconds` is set/,
        /tolerations\/0\/effect': value must be 'NoExecute'/,
      ],
    ]);
    await expectAccepted(
      env,
      namespace,
      tolerations(
        { operator: 'Exists' },
        { key: 'k', operator: 'Exists', value: '' },
        {
          key: 'node.kubernetes.io/unreachable',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 30,
        },
        { key: 'dedicated', value: 'sso', effect: 'NoSchedule' },
      ),
    );
  });

  it('refuses affinity and spread selectors whose operators and values do not go together, or a field the API server would drop', async () => {
    const env = await envtest();
    const namespace = await freshNamespace(env.client, 'affinity');
    const term = (matchExpressions: Record<string, unknown>[]) => ({
      topologyKey: 'kubernetes.io/hostname',
      labelSelector: { matchExpressions },
    });
    const nodeTerms = (matchExpressions: Record<string, unknown>[]) => ({
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions }] },
        },
      },
    });
    const spread = (matchExpressions: Record<string, unknown>[]) => ({
      topologySpreadConstraints: [
        {
          maxSkew: 1,
          topologyKey: 'kubernetes.io/hostname',
          whenUnsatisfiable: 'ScheduleAnyway',
          labelSelector: { matchExpressions },
        },
      ],
    });
    await expectRefusedAtInstall(env, namespace, [
      [
        {
          affinity: {
            podAntiAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: [term([{ key: 'app', operator: 'In' }])],
            },
          },
        },
        /matchExpressions\[0\].values: Required value: must be specified when `operator` is 'In' or 'NotIn'/,
        /requiredDuringSchedulingIgnoredDuringExecution\/0\/labelSelector\/matchExpressions\/0': missing property 'values'/,
      ],
      [
        {
          affinity: {
            podAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                { weight: 10, podAffinityTerm: term([{ key: 'app', operator: 'Exists', values: ['x'] }]) },
              ],
            },
          },
        },
        /matchExpressions\[0\].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'/,
        /podAffinityTerm\/labelSelector\/matchExpressions\/0\/values': maxItems: got 1, want 0/,
      ],
      [
        {
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 0, podAffinityTerm: term([]) }],
            },
          },
        },
        /weight: Invalid value: 0: must be in the range 1-100/,
        /preferredDuringSchedulingIgnoredDuringExecution\/0\/weight': minimum: got 0, want 1/,
      ],
      [
        {
          affinity: {
            podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: {} }] },
          },
        },
        /topologyKey: Required value: can not be empty/,
        /requiredDuringSchedulingIgnoredDuringExecution\/0': missing property 'topologyKey'/,
      ],
      [
        nodeTerms([{ key: 'disk', operator: 'NotIn', values: [] }]),
        /matchExpressions\[0\].values: Required value: must be specified when `operator` is 'In' or 'NotIn'/,
        /nodeSelectorTerms\/0\/matchExpressions\/0\/values': minItems: got 0, want 1/,
      ],
      [
        nodeTerms([{ key: 'disk', operator: 'DoesNotExist', values: ['ssd'] }]),
        /matchExpressions\[0\].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'/,
        /nodeSelectorTerms\/0\/matchExpressions\/0\/values': maxItems: got 1, want 0/,
      ],
      [
        nodeTerms([{ key: 'cores', operator: 'Gt', values: ['2', '4'] }]),
        /matchExpressions\[0\].values: Required value: must be specified single value when `operator` is 'Lt' or 'Gt'/,
        /nodeSelectorTerms\/0\/matchExpressions\/0\/values': maxItems: got 2, want 1/,
      ],
      [
        spread([{ key: 'app', operator: 'DoesNotExist', values: ['x'] }]),
        /topologySpreadConstraints\[0\].labelSelector.matchExpressions\[0\].values: Forbidden/,
        /topologySpreadConstraints\/0\/labelSelector\/matchExpressions\/0\/values': maxItems: got 1, want 0/,
      ],
    ]);
    // Created as helm install creates it (POST, no field validation asked), the Deployment is stored
    // without a misspelt field, the API server only warning: the term left selects no pod, and the
    // operator's replicas lose their spread. The schema names it.
    const misspelt = {
      affinity: {
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelecter: {} } },
          ],
        },
      },
    };
    const created = await env.client.create<ReturnType<typeof operatorDeployment>>(
      collectionPath(KINDS.deployment, namespace),
      operatorDeployment(renderValues(namespace, misspelt, '--skip-schema-validation')),
      { dryRun: 'All' },
    );
    expect(created.spec.template.spec['affinity']).to.deep.equal({
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname' } },
        ],
      },
    });
    expect(() => renderValues(namespace, misspelt)).to.throw(
      /podAffinityTerm': additional properties 'labelSelecter' not allowed/,
    );
    // Every shape of core/v1 Affinity stays accepted, by the schema and the API server.
    await expectAccepted(env, namespace, {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              {
                matchExpressions: [
                  { key: 'kubernetes.io/os', operator: 'In', values: ['linux'] },
                  { key: 'cores', operator: 'Gt', values: ['2'] },
                ],
              },
              { matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['node-a'] }] },
            ],
          },
          preferredDuringSchedulingIgnoredDuringExecution: [
            {
              weight: 50,
              preference: {
                matchExpressions: [{ key: 'node-role.kubernetes.io/infra', operator: 'Exists' }],
              },
            },
          ],
        },
        podAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            {
              weight: 1,
              podAffinityTerm: {
                topologyKey: 'topology.kubernetes.io/zone',
                labelSelector: { matchLabels: { app: 'redis' } },
                namespaceSelector: {
                  matchExpressions: [{ key: 'team', operator: 'NotIn', values: ['a', 'b'] }],
                },
                namespaces: ['data'],
              },
            },
          ],
        },
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            {
              ...term([
                { key: 'app.kubernetes.io/name', operator: 'In', values: ['jsm-sso'] },
                { key: 'canary', operator: 'DoesNotExist', values: [] },
              ]),
              matchLabelKeys: ['pod-template-hash'],
            },
          ],
        },
      },
      ...spread([{ key: 'app.kubernetes.io/name', operator: 'Exists' }]),
    });
  });

  it("refuses tenantPodDefaults the API server refuses in every tenant's Deployment, as the operator does at start", async () => {
    // The operator checks them against the CRD's pod rules (ADR 0311) and exits; before, it started
    // and each tenant's broker and portal Deployment was refused (the tenant's Applied condition False).
    const env = await envtest();
    const namespace = await freshNamespace(env.client, 'defaults');
    const tenant = checkTenant(tenantObject(namespace, 'acme'));
    const settings = { image: 'img:1', ingressNamespaceLabels: {}, metricsNamespaceLabels: {} };
    const cases: [Record<string, unknown>, RegExp, RegExp][] = [
      [
        { nodeSelector: { disk: 'ssd fast' } },
        /spec.template.spec.nodeSelector: Invalid value: "ssd fast"/,
        /tenantPodDefaults\/nodeSelector\/disk/,
      ],
      [
        { tolerations: [{ key: 'k', operator: 'Exists', value: 'v' }] },
        /value must be empty when `operator` is 'Exists'/,
        /tenantPodDefaults\/tolerations\/0\/value': value must be ''/,
      ],
      [
        {
          affinity: {
            podAntiAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: [
                {
                  topologyKey: 'kubernetes.io/hostname',
                  labelSelector: { matchExpressions: [{ key: 'app', operator: 'In' }] },
                },
              ],
            },
          },
        },
        /matchExpressions\[0\].values: Required value/,
        /tenantPodDefaults\/affinity\/podAntiAffinity\/requiredDuringSchedulingIgnoredDuringExecution\/0\/labelSelector\/matchExpressions\/0': missing property 'values'/,
      ],
    ];
    for (const [defaults, byServer, bySchema] of cases) {
      const values = { tenantPodDefaults: defaults };
      const unchecked = operatorDeployment(renderValues(namespace, values, '--skip-schema-validation'));
      expect(() => podDefaultsOf(unchecked), JSON.stringify(defaults)).to.throw(UsageError);
      const tenantDeployment = desiredDeployment(
        { tenant, settings: { ...settings, podDefaults: defaults as TenantPodSettings }, secrets: {} },
        'broker',
      );
      expect(
        await serverAnswer(env, namespace, tenantDeployment as KubeObject),
        JSON.stringify(defaults),
      ).to.match(byServer);
      expect(() => renderValues(namespace, values), JSON.stringify(defaults)).to.throw(bySchema);
    }
  });

  it("refuses pod annotations that would take the operator's pods, or every tenant's, out of the restricted Pod Security Standard (ADR 0313)", async () => {
    const env = await envtest();
    const namespace = `restricted-values-${process.pid}`;
    await env.client.create('/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: namespace, labels: RESTRICTED_NAMESPACE_LABELS },
    });
    const operatorPodRefusal = (...setString: string[]) => {
      const template = operatorDeployment(renderUnchecked(namespace, ...setString)).spec.template;
      return podRefusal(
        env.client,
        namespace,
        'operator',
        template.spec as unknown as V1PodSpec,
        template.metadata.annotations,
      );
    };
    const apparmor = 'podAnnotations.container\\.apparmor\\.security\\.beta\\.kubernetes\\.io/operator';
    const seccomp = 'podAnnotations.seccomp\\.security\\.alpha\\.kubernetes\\.io/pod';
    // Past the schema, the ReplicaSet's pods are refused: helm install succeeds and no operator runs.
    expect(await operatorPodRefusal(`${apparmor}=unconfined`)).to.match(/forbidden AppArmor profile/);
    expect(await operatorPodRefusal(`${seccomp}=unconfined`)).to.match(
      /seccomp type in annotation and field/,
    );
    for (const set of [`${apparmor}=unconfined`, `${apparmor}=localhost/`, `${seccomp}=runtime/default`])
      expect(() => helm('template', 'x', CHART, '--set-string', set), set).to.throw(/podAnnotations/);
    for (const set of [`${apparmor}=runtime/default`, `${apparmor}=localhost/operator`]) {
      expect(render(set).length, set).to.be.above(0);
      expect(await operatorPodRefusal(set), set).to.equal(undefined);
    }
    // The tenants' defaults: past the schema, the operator refuses them at start (the CRD's rule).
    const unconfined = {
      tenantPodDefaults: {
        podAnnotations: { 'container.apparmor.security.beta.kubernetes.io/broker': 'unconfined' },
      },
    };
    const unchecked = operatorDeployment(renderValues(namespace, unconfined, '--skip-schema-validation'));
    expect(() => podDefaultsOf(unchecked)).to.throw(UsageError, /AppArmor/);
    expect(() => renderValues(namespace, unconfined)).to.throw(/tenantPodDefaults\/podAnnotations/);
  });

  it('refuses an image pull Secret name that is no Secret name, which the API server takes and the operator refuses at start', async () => {
    // The API server stores it (it checks only that nothing but the name is set); the kubelet finds no
    // such Secret and pulls without it; the operator, given it as the tenants' default, exits at start
    // on every restart.
    const env = await envtest();
    const namespace = await freshNamespace(env.client, 'pull');
    const deployment = operatorDeployment(renderUnchecked(namespace, 'imagePullSecrets[0].name=My Secret'));
    await dryRunDeployment(env, namespace, deployment);
    expect(() => podDefaultsOf(deployment)).to.throw(UsageError, /imagePullSecrets\[0\]\.name/);
    for (const bad of ['My Secret', 'regcred_x', 'a/b'])
      expect(() => helm('template', 'x', CHART, '--set', `imagePullSecrets[0].name=${bad}`), bad).to.throw(
        /imagePullSecrets\/0\/name/,
      );
    expect(render('imagePullSecrets[0].name=ghcr.io-pull').length).to.be.above(0);
  });

  it("binds the operator's rights to the ServiceAccount named with serviceAccount.create=false, and refuses none or `default`", () => {
    // `default` is what every pod of the release namespace that names no ServiceAccount runs as.
    const existing = ['serviceAccount.create=false', 'serviceAccount.name=sso-operator'];
    const objects = render(...existing);
    expect(objects.filter((o) => o.kind === 'ServiceAccount')).to.deep.equal([]);
    const subjects = objects
      .filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding')
      .flatMap((o) => (o as KubeObject & { subjects: { name: string }[] }).subjects.map((s) => s.name));
    expect(subjects).to.not.deep.equal([]);
    expect(new Set(subjects)).to.deep.equal(new Set(['sso-operator']));
    expect(operatorDeployment(objects).spec.template.spec['serviceAccountName']).to.equal('sso-operator');
    const refused: [string[], RegExp][] = [
      [['serviceAccount.create=false'], /serviceAccount\/name': minLength/],
      [['serviceAccount.create=false', 'serviceAccount.name=default'], /serviceAccount\/name': 'not' failed/],
    ];
    for (const [set, message] of refused) {
      const flags = set.flatMap((s) => ['--set', s]);
      expect(() => helm('template', 'x', CHART, ...flags), set.join()).to.throw(message);
      const lint = spawnSync(helmPath(), ['lint', '--strict', CHART, ...flags], { encoding: 'utf8' });
      expect(lint.status, set.join()).to.not.equal(0);
      expect(lint.stdout + lint.stderr, set.join()).to.match(message);
      // Past the schema, the template says why.
      expect(() => helm('template', 'x', CHART, '--skip-schema-validation', ...flags), set.join()).to.throw(
        /serviceAccount.name: with serviceAccount.create=false, name the existing ServiceAccount/,
      );
    }
  });

  it('admits every namespace to the tenants’ public ports by default, and the one named when set', () => {
    const args = (...set: string[]) =>
      operatorDeployment(render(...set)).spec.template.spec.containers[0]!.args;
    expect(args()).to.include('--ingress-namespace-selector=');
    expect(args('networkPolicy.ingressNamespaceSelector=kubernetes.io/metadata.name=gateways')).to.include(
      '--ingress-namespace-selector=kubernetes.io/metadata.name=gateways',
    );
  });

  it("pins the operator's and the tenants' image by digest (image.digest), and refuses a digest that is not one", () => {
    const digest = `sha256:${'0123456789abcdef'.repeat(4)}`;
    const container = operatorDeployment(
      render('image.repository=registry.example/jsm-sso', 'image.tag=0.1.0', `image.digest=${digest}`),
    ).spec.template.spec.containers[0]! as { image?: string; args: string[] };
    expect(container.image).to.equal(`registry.example/jsm-sso:0.1.0@${digest}`);
    expect(container.args).to.include(`--image=registry.example/jsm-sso:0.1.0@${digest}`);
    for (const bad of ['0123abcd', 'sha256:0123', `sha256:${'0123456789ABCDEF'.repeat(4)}`])
      expect(() => helm('template', 'x', CHART, '--set', `image.digest=${bad}`), bad).to.throw(/digest/);
  });

  it('refuses an image repository or tag that is not one, which the API server would take and no node could pull', async () => {
    // Past the schema, the API server stores such a Deployment: only the kubelet says InvalidImageName.
    const env = await envtest();
    const namespace = await freshNamespace(env.client, 'image');
    await dryRunDeployment(
      env,
      namespace,
      operatorDeployment(renderUnchecked(namespace, 'image.tag=0.1.0 bad')),
    );
    const image = (...set: string[]) =>
      (operatorDeployment(render(...set)).spec.template.spec.containers[0] as { image?: string }).image;
    expect(image('image.repository=localhost:5000/team/jsm_sso', 'image.tag=v1.2.3-rc.1_b')).to.equal(
      'localhost:5000/team/jsm_sso:v1.2.3-rc.1_b',
    );
    // A space, a comment mark (the unquoted --image flag lost what followed it), a second colon, a
    // tag starting with a dot, one of 129 characters; a repository with a space, upper case or a tag.
    for (const bad of ['0.1.0 bad', '0.1.0 #x', '0.1:0', '.0', `a${'1'.repeat(128)}`])
      expect(() => helm('template', 'x', CHART, '--set-string', `image.tag=${bad}`), bad).to.throw(
        /image\/tag/,
      );
    for (const bad of ['registry.example/jsm sso', 'registry.example/JSM-SSO', 'jsm-sso:0.1.0', 'a//b', 'a/'])
      expect(() => helm('template', 'x', CHART, '--set-string', `image.repository=${bad}`), bad).to.throw(
        /image\/repository/,
      );
  });

  it('scrapes tenant pods by the labels and port the operator gives them', () => {
    const monitor = render('metrics.tenantPodMonitor.enabled=true', 'watchNamespaces[0]=acme').find(
      (o) => o.kind === 'PodMonitor',
    ) as KubeObject & {
      spec: {
        namespaceSelector: { matchNames: string[] };
        selector: {
          matchLabels: Record<string, string>;
          matchExpressions: { key: string; operator: string; values: string[] }[];
        };
        podMetricsEndpoints: { port: string; path: string }[];
      };
    };
    expect(monitor.spec.namespaceSelector).to.deep.equal({ matchNames: ['acme'] });
    const { matchLabels, matchExpressions } = monitor.spec.selector;
    const selects = (podLabels: Record<string, string>): boolean =>
      Object.entries(matchLabels).every(([key, value]) => podLabels[key] === value) &&
      matchExpressions.every(
        ({ key, operator, values }) => operator === 'In' && values.includes(podLabels[key] ?? ''),
      );
    const settings = { image: 'img:1', ingressNamespaceLabels: {}, metricsNamespaceLabels: {} };
    const tenant = checkTenant(tenantObject('acme', 'acme'));
    // A pooled tenant's broker and portal are its pool's pods, whose metrics (and the pool alerts)
    // come only from them.
    const pool = {
      apiVersion: 'jsm-sso.io/v1alpha1',
      kind: 'JsmSsoPool',
      metadata: { name: 'shared', namespace: 'acme', uid: 'uid-pool' },
      spec: {},
    } as JsmSsoPool & KubeObject;
    for (const part of ['broker', 'portal'] as const) {
      const deployments = [
        desiredDeployment({ tenant, settings, secrets: {} }, part),
        desiredPoolDeployment(poolContext(pool, settings, {}), part) as V1Deployment,
      ];
      for (const deployment of deployments) {
        const pod = deployment.spec!.template;
        expect(selects(pod.metadata!.labels!), `${deployment.metadata!.name} selected`).to.equal(true);
        const port = pod.spec!.containers[0]!.ports!.find(
          (p) => p.name === monitor.spec.podMetricsEndpoints[0]!.port,
        );
        expect(port?.containerPort).to.equal(MANAGEMENT_PORT);
      }
      expect(selects(labels(tenant, part))).to.equal(true);
    }
    // The operator's own pods are not tenant pods.
    const operatorPod = operatorDeployment(render()).spec.template.metadata.labels;
    expect(selects(operatorPod)).to.equal(false);
    expect(selectorLabels(tenant, 'broker')['app.kubernetes.io/name']).to.equal('jsm-sso');
    expect(
      render('metrics.tenantPodMonitor.enabled=true').find((o) => o.kind === 'PodMonitor')!['spec'],
    ).to.deep.include({
      namespaceSelector: { any: true },
    });
  });

  it('ships the Grafana dashboard in a ConfigMap for the sidecar when asked', () => {
    expect(render().map((o) => o.kind)).to.not.include('ConfigMap');
    const configMap = render('metrics.grafanaDashboard.enabled=true').find((o) => o.kind === 'ConfigMap')!;
    expect(configMap.metadata.labels).to.include({ grafana_dashboard: '1' });
    const dashboard = JSON.parse((configMap['data'] as Record<string, string>)['jsm-sso.json']!) as {
      uid: string;
    };
    expect(dashboard.uid).to.equal('jsm-sso');
  });

  it('has no icon it cannot show, and NOTES that apply the example shipped in the chart, not a URL', async () => {
    const chart = parse(readFileSync(join(CHART, 'Chart.yaml'), 'utf8')) as Record<string, unknown>;
    expect(chart['icon']).to.equal(undefined);
    const env = await envtest();
    // NOTES render only on install; a release of its own, without the CRD other tests installed.
    const notes = helm(
      'install',
      `notes-${process.pid}`,
      CHART,
      '--dry-run=client',
      '--namespace',
      'ops',
      '--set',
      'crds.enabled=false',
      '--kubeconfig',
      env.kubeconfigPath,
    );
    const body = notes.slice(notes.indexOf('NOTES:'));
    expect(body).to.not.match(/https?:\/\/raw\.githubusercontent/);
    expect(body).to.include('may read every Secret in the cluster');
    const heredoc = /<<'YAML'\n([\s\S]*?)\n\s*YAML\n/.exec(body)?.[1];
    expect(heredoc, 'the tenant heredoc').to.be.a('string');
    expect(parse(heredoc!)).to.deep.equal(parse(readFileSync(join(CHART, 'examples/tenant.yaml'), 'utf8')));
    // Pasted into a shell as printed, indentation and all, from `kubectl apply` to its terminator: a
    // terminator the shell does not see as one leaves it waiting for more input at a `>` prompt.
    const pasted = /^ *kubectl apply -f - <<'YAML'\n[\s\S]*?\n *YAML\n/m.exec(body)![0];
    const namespace = await freshNamespace(env.client, 'notes');
    const applied = spawnSync(
      'bash',
      [
        '-c',
        pasted
          .replace('kubectl apply', 'kubectl apply --dry-run=server')
          .replace('namespace: acme', `namespace: ${namespace}`),
      ],
      {
        encoding: 'utf8',
        env: {
          ...process.env,
          KUBECONFIG: env.kubeconfigPath,
          PATH: `${env.toolsDir}:${process.env['PATH']}`,
        },
      },
    );
    expect(applied.stderr).to.equal('');
    expect(applied.stdout).to.equal('jsmssotenant.jsm-sso.io/acme created (server dry run)\n');
  });
});
