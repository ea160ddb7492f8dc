import { writeFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import type { Registry } from 'prom-client';
import { stringify } from 'yaml';
import { KubeClient, type KubeObject } from '../../common/kube/client.js';
import type { Controller } from '../../operator/controller.js';
import { collectionPath, KINDS, objectPath } from '../../operator/kube/kinds.js';
import { type Envtest, envtest, eventually, freshNamespace, runScript } from '../../testkit/envtest.js';
import {
  flowSchemaInForce,
  seatlessPriorityLevel,
  serviceAccountFlowSchema,
} from '../../testkit/flow-control.js';
import {
  reconcileErrors,
  startTestController,
  TEST_OPERATOR_SETTINGS,
} from '../../testkit/operator-controller.js';
import { createTenantSecrets, tenantObject } from '../../testkit/tenants.js';

const RBAC = '/apis/rbac.authorization.k8s.io/v1';

/**
 * API Priority and Fairness on a real API server: the operator's ServiceAccount in a priority level
 * of one seat that rejects (429 with Retry-After) what does not fit. A second ServiceAccount of the
 * same level holds the seat with a request the API server keeps for 3 s (a list at a resourceVersion
 * it has not reached), so the operator's requests meanwhile are rejected for certain.
 */
describe('the operator throttled by API Priority and Fairness on a real API server', function () {
  this.timeout(120_000);
  let env: Envtest;
  let namespace: string;
  let operatorClient: KubeClient;
  let holder: KubeClient;
  let controller: Controller | undefined;
  let registry: Registry;
  const cleanup: string[] = [];

  /** A client authenticated as a new ServiceAccount of `namespace` (cluster-admin), in the one-seat level. */
  async function throttledAccount(name: string): Promise<KubeClient> {
    await env.client.create(collectionPath(KINDS.serviceAccount, namespace), {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name },
    });
    const binding = `${namespace}-${name}`;
    await env.client.create(`${RBAC}/clusterrolebindings`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: binding },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    });
    cleanup.push(`${RBAC}/clusterrolebindings/${binding}`);
    cleanup.push(await serviceAccountFlowSchema(env.client, binding, namespace, { name, namespace }));
    const { status } = await env.client.create<{ status: { token: string } }>(
      `${objectPath(KINDS.serviceAccount, namespace, name)}/token`,
      { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
    );
    const kubeConfig = env.kubeConfig.exportConfig();
    const file = `${env.kubeconfigPath}.${binding}`;
    const config = JSON.parse(kubeConfig) as { users: { user: Record<string, unknown> }[] };
    for (const user of config.users) user.user = { token: status.token };
    writeFileSync(file, stringify(config), { mode: 0o600 });
    const access = new KubeConfig();
    access.loadFromFile(file);
    return new KubeClient(access);
  }

  /** Rejected requests of the operator's FlowSchema, as the API server counts them. */
  /** The sum of an API server metric's samples for one FlowSchema of this test. */
  function flowSchemaMetric(name: string, who: 'operator' | 'holder'): number {
    const { stdout } = runScript(env, 'kubectl get --raw /metrics');
    const flowSchema = `flow_schema="${namespace}-${who}"`;
    return stdout
      .split('\n')
      .filter((line) => line.startsWith(`${name}{`) && line.includes(flowSchema))
      .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
  }

  before(async () => {
    env = await envtest();
    namespace = await freshNamespace(env.client, 'apf');
    cleanup.push(await seatlessPriorityLevel(env.client, namespace));
    operatorClient = await throttledAccount('operator');
    holder = await throttledAccount('holder');
    // The API server has taken both FlowSchemas in once it has judged them (not dangling).
    await eventually(async () => {
      for (const who of ['operator', 'holder'])
        if (!(await flowSchemaInForce(env.client, `${namespace}-${who}`))) return false;
      return true;
    }, 'the FlowSchemas in force');
  });

  after(async () => {
    await controller?.stop();
    operatorClient?.close();
    holder?.close();
    for (const path of cleanup.reverse()) await env.client.delete(path);
  });

  /** Holds the level's one seat for the 3 s the API server waits for a resourceVersion it has not reached. */
  async function holdSeat(): Promise<void> {
    const { metadata } = await env.client.list(collectionPath(KINDS.configMap, namespace));
    await holder
      .request('GET', collectionPath(KINDS.configMap, namespace), {
        query: {
          resourceVersion: String(Number(metadata.resourceVersion) + 1_000_000),
          resourceVersionMatch: 'NotOlderThan',
        },
      })
      .catch(() => undefined); // 504 "Too large resource version", once the 3 s are over
  }

  /** Whether tenant `name`'s Applied condition is True. */
  async function applied(name: string): Promise<boolean> {
    const tenant = await env.client.get<
      KubeObject & { status?: { conditions?: { type: string; status: string }[] } }
    >(objectPath(KINDS.tenant, namespace, name));
    return tenant?.status?.conditions?.find((c) => c.type === 'Applied')?.status === 'True';
  }

  it('waits out each 429 per its Retry-After and converges a tenant without a failed reconcile, Event or condition', async () => {
    ({ controller, registry } = await startTestController(env, {
      namespace,
      settings: TEST_OPERATOR_SETTINGS,
      instance: 'apf',
      client: operatorClient,
    }));
    await createTenantSecrets(env.client, namespace, 'throttled');
    // The seat held until the API server has rejected at least one of the operator's requests.
    let holding = true;
    const holds = (async () => {
      while (holding) await holdSeat();
    })();
    await eventually(
      async () => flowSchemaMetric('apiserver_flowcontrol_current_executing_requests', 'holder') > 0,
      'the seat held',
    );
    await env.client.create(collectionPath(KINDS.tenant, namespace), tenantObject(namespace, 'throttled'));
    await eventually(
      async () => flowSchemaMetric('apiserver_flowcontrol_rejected_requests_total', 'operator') > 0,
      'a request of the operator rejected',
      60_000,
    );
    holding = false;
    await holds;

    await eventually(() => applied('throttled'), 'the tenant applied', 60_000);
    expect(await reconcileErrors(registry), 'failed reconciles').to.deep.equal({});
    const events = await env.client.list(collectionPath(KINDS.event, namespace));
    expect(
      events.items.filter((e) => e['type'] === 'Warning').map((e) => e['reason']),
      'Warning Events',
    ).to.deep.equal([]);
    const throttled = await registry.getSingleMetric('jsm_sso_operator_api_throttled_total')?.get();
    expect(throttled?.values[0]?.value ?? 0, 'throttled requests counted').to.be.at.least(1);
  });
});
