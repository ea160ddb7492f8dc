import { expect } from 'chai';
import { type SchemaNode, tenantCrd } from '../../common/config/crd-schema.js';
import { checkTenant } from '../../common/config/load.js';
import type { TenantPodSettings } from '../../common/config/tenant.generated.js';
import { ConfigError } from '../../common/errors.js';
import { ApiError } from '../../common/kube/client.js';
import { collectionPath, KINDS, objectPath } from '../../operator/kube/kinds.js';
import type { DesiredContext } from '../../operator/resources/common.js';
import { desiredDeployment } from '../../operator/resources/deployment.js';
import {
  type Envtest,
  envtest,
  eventually,
  freshNamespace,
  installCrd,
  runScript,
  separateEnvtest,
} from '../../testkit/envtest.js';
import { EVERY_POD_SHAPE } from '../../testkit/pod-shapes.js';
import { TENANTS_OF_ANY_NAMESPACE, tenantObject } from '../../testkit/tenants.js';

/**
 * A tenant's (and a pool's) spec.<part>.pod is refused at admission when the API server would refuse
 * the Deployment the operator builds from it (ADR 0311): each case's Deployment is refused by the real
 * API server with the message the CRD now answers with, at the same field.
 */
interface PodFieldCase {
  what: string;
  pod: Record<string, unknown>;
  /** The field the refusal names, below spec.broker.pod. */
  field: string;
  /** A fragment of the API server's own message, as the Deployment's refusal words it. */
  message: string;
  /** What the CRD adds to the API server's words, when it cannot name the value as they do. */
  crdMessage?: string;
  /** The offline loader's words for a structural (not CEL) refusal, when they differ. */
  offlineMessage?: string;
}

const nodeTerm = (expression: Record<string, unknown>) => ({
  nodeAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [{ matchExpressions: [expression] }],
    },
  },
});
const antiAffinity = (term: Record<string, unknown>) => ({
  podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] },
});
const spread = (constraint: Record<string, unknown>) => [
  { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', ...constraint },
];
const NODE_TERM = 'affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]';
const ANTI_TERM = 'affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]';

const POD_FIELD_CASES: PodFieldCase[] = [
  {
    what: 'a toleration with operator Exists and a value',
    pod: { tolerations: [{ key: 'k', operator: 'Exists', value: 'v' }] },
    field: 'tolerations[0].value',
    message: "value must be empty when `operator` is 'Exists'",
  },
  {
    what: 'a toleration with an empty key and operator Equal',
    pod: { tolerations: [{ operator: 'Equal', value: 'v' }] },
    field: 'tolerations[0].operator',
    message: 'operator must be Exists when `key` is empty',
  },
  {
    what: 'a toleration with no key and no operator (Equal)',
    pod: { tolerations: [{ effect: 'NoSchedule' }] },
    field: 'tolerations[0].operator',
    message: 'operator must be Exists when `key` is empty',
  },
  {
    what: 'tolerationSeconds with an effect other than NoExecute',
    pod: { tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 30 }] },
    field: 'tolerations[0].effect',
    message: "effect must be 'NoExecute' when `tolerationSeconds` is set",
  },
  {
    what: 'a node selector requirement In without values',
    pod: { affinity: nodeTerm({ key: 'disk', operator: 'In' }) },
    field: `${NODE_TERM}.matchExpressions[0].values`,
    message: "must be specified when `operator` is 'In' or 'NotIn'",
  },
  {
    what: 'a node selector requirement Exists with values',
    pod: { affinity: nodeTerm({ key: 'disk', operator: 'Exists', values: ['ssd'] }) },
    field: `${NODE_TERM}.matchExpressions[0].values`,
    message: "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
  },
  {
    what: 'a node selector requirement Gt with two values',
    pod: { affinity: nodeTerm({ key: 'cores', operator: 'Gt', values: ['1', '2'] }) },
    field: `${NODE_TERM}.matchExpressions[0].values`,
    message: "must be specified single value when `operator` is 'Lt' or 'Gt'",
  },
  {
    what: 'a pod anti-affinity term without topologyKey',
    pod: { affinity: antiAffinity({ labelSelector: { matchLabels: { app: 'x' } } }) },
    field: `${ANTI_TERM}.topologyKey`,
    message: 'Required value',
    offlineMessage: 'required field is missing',
  },
  {
    what: 'a pod anti-affinity selector requirement In without values',
    pod: {
      affinity: antiAffinity({
        topologyKey: 'kubernetes.io/hostname',
        labelSelector: { matchExpressions: [{ key: 'app', operator: 'In' }] },
      }),
    },
    field: `${ANTI_TERM}.labelSelector.matchExpressions[0].values`,
    message: "must be specified when `operator` is 'In' or 'NotIn'",
  },
  {
    what: 'a preferred pod affinity term of weight 0',
    pod: {
      affinity: {
        podAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 0, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname' } },
          ],
        },
      },
    },
    field: 'affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight',
    message: 'must be in the range 1-100',
  },
  {
    what: 'a spread selector requirement Exists with values',
    pod: {
      topologySpreadConstraints: spread({
        labelSelector: { matchExpressions: [{ key: 'app', operator: 'Exists', values: ['x'] }] },
      }),
    },
    field: 'topologySpreadConstraints[0].labelSelector.matchExpressions[0].values',
    message: "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
  },
  {
    what: 'minDomains with whenUnsatisfiable ScheduleAnyway',
    pod: { topologySpreadConstraints: spread({ whenUnsatisfiable: 'ScheduleAnyway', minDomains: 2 }) },
    field: 'topologySpreadConstraints[0].minDomains',
    message: 'can only use minDomains if whenUnsatisfiable=DoNotSchedule',
  },
  {
    what: 'two spread constraints with one topologyKey and whenUnsatisfiable',
    pod: { topologySpreadConstraints: [...spread({}), ...spread({ maxSkew: 2 })] },
    field: 'topologySpreadConstraints',
    message: 'Duplicate value',
    crdMessage: 'each {topologyKey, whenUnsatisfiable} pair may be used once',
  },
];

describe('spec.<part>.pod held to what the API server takes in a Deployment (ADR 0311)', function () {
  this.timeout(60_000);
  let env: Envtest;
  let namespace: string;

  before(async () => {
    env = await envtest();
    namespace = await freshNamespace(env.client, 'podcel');
  });

  /** The API server's refusal of a dry-run create, or undefined when it would store the object. */
  async function refusal(
    kind: 'tenant' | 'pool' | 'deployment',
    object: unknown,
  ): Promise<string | undefined> {
    const path =
      kind === 'deployment'
        ? `/apis/apps/v1/namespaces/${namespace}/deployments`
        : collectionPath(KINDS[kind], namespace);
    try {
      await env.client.create(path, object, { dryRun: 'All' });
      return undefined;
    } catch (err) {
      if (err instanceof ApiError && err.status === 422) return err.serverMessage;
      throw err;
    }
  }

  const tenantWith = (pod: Record<string, unknown>) => {
    const base = tenantObject(namespace, 'acme');
    return tenantObject(namespace, 'acme', { broker: { ...base.spec.broker, pod } } as never);
  };

  /** The broker Deployment the operator builds from a tenant given `pod`, the tenant's own check passed by. */
  function deploymentWith(pod: Record<string, unknown>) {
    const tenant = checkTenant(tenantObject(namespace, 'acme'));
    tenant.metadata!.uid = 'uid-1';
    tenant.spec.broker.pod = pod as TenantPodSettings;
    const context: DesiredContext = {
      tenant,
      settings: { image: 'img:1', ingressNamespaceLabels: {}, metricsNamespaceLabels: {} },
      secrets: {},
    };
    return desiredDeployment(context, 'broker');
  }

  function offlineRefusal(pod: Record<string, unknown>): string | undefined {
    try {
      checkTenant(tenantWith(pod));
      return undefined;
    } catch (err) {
      if (err instanceof ConfigError) return err.message;
      throw err;
    }
  }

  for (const testCase of POD_FIELD_CASES) {
    it(`refuses ${testCase.what} at admission, as the API server refuses its Deployment`, async () => {
      const byDeployment = await refusal('deployment', deploymentWith(testCase.pod));
      expect(byDeployment, 'the API server stored the Deployment').to.be.a('string');
      expect(byDeployment).to.include(testCase.message);
      const byCrd = await refusal('tenant', tenantWith(testCase.pod));
      expect(byCrd, 'the API server stored the tenant').to.be.a('string');
      expect(byCrd)
        .to.include(`spec.broker.pod.${testCase.field}:`)
        .and.to.include(testCase.message)
        .and.to.include(testCase.crdMessage ?? testCase.message);
      expect(offlineRefusal(testCase.pod), 'checkTenant accepted it')
        .to.include(`spec.broker.pod.${testCase.field}`)
        .and.to.include(testCase.offlineMessage ?? testCase.message);
    });
  }

  it('describes the affinity fields to kubectl explain', async () => {
    const explained = runScript(
      env,
      'kubectl explain jsmssotenants.spec.broker.pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution',
    );
    expect(explained.stderr).to.equal('');
    expect(explained.stdout)
      .to.include('A pod affinity term (core/v1 PodAffinityTerm)')
      .and.to.match(/topologyKey\s+<string> -required-/)
      .and.to.include('Node label whose values are the domains the selected pods are counted in.');
  });

  it('refuses a misspelt field below affinity, which it stored before (the Deployment then lost it)', async () => {
    const pod = { affinity: antiAffinity({ topologyKey: 'kubernetes.io/hostname', labelSelecter: {} }) };
    const strict = await env.client
      .create(collectionPath(KINDS.tenant, namespace), tenantWith(pod), {
        dryRun: 'All',
        fieldValidation: 'Strict',
      })
      .then(
        () => 'stored',
        (err: unknown) => (err instanceof ApiError ? err.serverMessage : String(err)),
      );
    expect(strict).to.include('unknown field').and.to.include('labelSelecter');
    expect(offlineRefusal(pod)).to.include(`spec.broker.pod.${ANTI_TERM}.labelSelecter: unknown field`);
  });

  it("refuses the same in a pool's pod fields", async () => {
    const testCase = POD_FIELD_CASES[0]!;
    const pool = {
      apiVersion: 'jsm-sso.io/v1alpha1',
      kind: 'JsmSsoPool',
      metadata: { name: 'shared', namespace },
      spec: {
        redis: { urlSecretRef: { name: 'shared-redis' } },
        tenants: TENANTS_OF_ANY_NAMESPACE,
        portal: { pod: testCase.pod },
      },
    };
    expect(await refusal('pool', pool)).to.include(`spec.portal.pod.${testCase.field}:`);
  });

  it('stores every shape the API server takes in a Deployment', async () => {
    const pod = EVERY_POD_SHAPE;
    expect(await refusal('deployment', deploymentWith(pod))).to.equal(undefined);
    expect(await refusal('tenant', tenantWith(pod))).to.equal(undefined);
    expect(offlineRefusal(pod)).to.equal(undefined);
  });
});

/**
 * A tenant stored before these rules, with pod fields they refuse, stays writable where it is not
 * changed (the API server's validation ratcheting, on by default since 1.30): its labels and its
 * other spec fields; a change to the refused field itself is held to the rules.
 */
describe('a tenant stored before ADR 0311 with pod fields it refuses', function () {
  this.timeout(120_000);
  let env: ReturnType<typeof separateEnvtest>;
  const namespace = 'stored';
  const path = objectPath(KINDS.tenant, namespace, 'acme');
  const refusedPod = {
    tolerations: [{ key: 'k', operator: 'Exists', value: 'v' }],
    affinity: antiAffinity({
      topologyKey: 'kubernetes.io/hostname',
      labelSelector: { matchExpressions: [{ key: 'app', operator: 'In' }] },
    }),
    topologySpreadConstraints: [
      ...spread({}),
      ...spread({ whenUnsatisfiable: 'ScheduleAnyway', minDomains: 2 }),
    ],
  };

  /** The CRD as it was before: the pod fields' CEL rules were not there. */
  function crdWithoutPodRules(): unknown {
    const crd = structuredClone(tenantCrd().document) as {
      spec: { versions: { schema: { openAPIV3Schema: SchemaNode } }[] };
    };
    const spec = crd.spec.versions[0]!.schema.openAPIV3Schema.properties!['spec']!;
    const dropRules = (node: SchemaNode): void => {
      delete node['x-kubernetes-validations'];
      for (const child of Object.values(node.properties ?? {})) dropRules(child);
      if (node.items) dropRules(node.items);
      if (node.additionalProperties && typeof node.additionalProperties === 'object')
        dropRules(node.additionalProperties);
    };
    for (const part of ['broker', 'portal']) dropRules(spec.properties![part]!.properties!['pod']!);
    return crd;
  }

  /** Whether the API server, with the CRD it serves now, would store a tenant with the refused pod fields. */
  const takesRefusedPod = () => {
    const base = tenantObject(namespace, 'probe');
    return env.client
      .create(
        collectionPath(KINDS.tenant, namespace),
        tenantObject(namespace, 'probe', { broker: { ...base.spec.broker, pod: refusedPod } } as never),
        { dryRun: 'All' },
      )
      .then(
        () => true,
        (err: unknown) => {
          if (err instanceof ApiError && err.status === 422) return false;
          throw err;
        },
      );
  };

  before(async () => {
    env = separateEnvtest([]);
    await installCrd(env.client);
    await env.client.create('/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: namespace },
    });
  });
  after(() => env?.stop());

  it('keeps its labels and other fields writable, and refuses a change to the refused field', async () => {
    // Stored under the CRD without the rules (waiting until the API server serves it), then this
    // version's CRD installed over it (waiting until it refuses the same pod fields).
    const crd = crdWithoutPodRules() as { metadata: { name: string } };
    await env.client.apply(objectPath(KINDS.crd, undefined, crd.metadata.name), crd, {
      fieldManager: 'test',
    });
    await eventually(takesRefusedPod, 'the CRD without the pod rules served');
    const base = tenantObject(namespace, 'acme');
    await env.client.create(
      collectionPath(KINDS.tenant, namespace),
      tenantObject(namespace, 'acme', { broker: { ...base.spec.broker, pod: refusedPod } } as never),
    );
    await installCrd(env.client);
    await eventually(async () => !(await takesRefusedPod()), "this version's CRD served");
    const patch = (body: unknown, subresource = '') =>
      env.client
        .request('PATCH', `${path}${subresource}`, { body, contentType: 'application/merge-patch+json' })
        .then(
          () => 'stored',
          (err: unknown) => (err instanceof ApiError ? err.serverMessage : String(err)),
        );
    // Not its status on this API server (1.32): the status subresource is ratcheted from 1.33 on
    // (kubernetes/kubernetes#129503); the operator then says StatusWriteFailed (ADR 0270).
    expect(await patch({ metadata: { labels: { team: 'sso' } } }), 'labels').to.equal('stored');
    expect(await patch({ spec: { portal: { branding: { title: 'Help' } } } })).to.equal('stored');
    expect(
      await patch({
        spec: {
          broker: { pod: { ...refusedPod, tolerations: [{ key: 'k', operator: 'Exists', value: 'w' }] } },
        },
      }),
    ).to.include("value must be empty when `operator` is 'Exists'");
  });
});
