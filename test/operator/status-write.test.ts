import { expect } from 'chai';
import type { Registry } from 'prom-client';
import type { Controller } from '../../operator/controller.js';
import { FAILURE_REASONS } from '../../operator/errors.js';
import { type ApplyOptions, isNotFound, KubeClient, type KubeObject } from '../../operator/kube/client.js';
import { collectionPath, KINDS, objectPath } from '../../operator/kube/kinds.js';
import { admissionPolicy } from '../../testkit/admission-policy.js';
import { type Envtest, envtest, eventually, freshNamespace } from '../../testkit/envtest.js';
import {
  operatorIdle,
  reconcileErrors,
  startTestController,
  TEST_OPERATOR_SETTINGS,
} from '../../testkit/operator-controller.js';
import { createTenantSecrets, tenantObject } from '../../testkit/tenants.js';

interface TenantLike extends KubeObject {
  status?: { observedGeneration?: number; conditions?: { type: string; status: string }[] };
}

/**
 * The operator's client, deleting one tenant (through the test's client) right before the operator
 * writes that tenant's status: the write meets the real API server's 404 of a tenant deleted
 * between its reconcile and its status write, a race no timing can make happen on demand.
 */
class DeletingBeforeStatusWrite extends KubeClient {
  doomed: { tenant: string; by: KubeClient } | undefined;
  /** What the API server answered the status write of the deleted tenant. */
  answered: unknown;

  override async apply<T = KubeObject>(path: string, object: unknown, options: ApplyOptions): Promise<T> {
    const doomed = this.doomed;
    if (!doomed || path !== `${doomed.tenant}/status`) return super.apply<T>(path, object, options);
    this.doomed = undefined;
    await doomed.by.delete(doomed.tenant);
    await eventually(async () => (await doomed.by.get(doomed.tenant)) === undefined, 'the tenant to be gone');
    try {
      return await super.apply<T>(path, object, options);
    } catch (err) {
      this.answered = err;
      throw err;
    }
  }
}

describe('operator status writes against a real API server', function () {
  this.timeout(90_000);
  let env: Envtest;
  let client: DeletingBeforeStatusWrite;
  let controller: Controller;
  let registry: Registry;
  let namespace: string;
  const logs: Record<string, unknown>[] = [];

  before(async () => {
    env = await envtest();
    namespace = await freshNamespace(env.client, 'status');
    client = new DeletingBeforeStatusWrite(env.kubeConfig);
    ({ controller, registry } = await startTestController(env, {
      namespace,
      settings: TEST_OPERATOR_SETTINGS,
      instance: 'status-write',
      client,
      logDestination: { write: (line: string) => void logs.push(JSON.parse(line)) },
    }));
  });

  after(async () => {
    await controller?.stop();
    client?.close();
  });

  const tenantPath = (name: string) => objectPath(KINDS.tenant, namespace, name);
  const tenant = (name: string) => env.client.get<TenantLike>(tenantPath(name));
  const failedLines = (name: string) =>
    logs.filter((l) => l['event'] === 'operator.reconcile_failed' && l['tenant'] === `${namespace}/${name}`);

  async function createTenant(name: string): Promise<void> {
    await createTenantSecrets(env.client, namespace, name);
    await env.client.create(collectionPath(KINDS.tenant, namespace), tenantObject(namespace, name));
  }

  async function warningEvents(uid: string, reason: string) {
    const events = await env.client.list<
      KubeObject & { type: string; reason: string; note: string; regarding: { uid: string } }
    >(collectionPath(KINDS.event, namespace));
    return events.items.filter((e) => e.regarding.uid === uid && e.type === 'Warning' && e.reason === reason);
  }

  it("counts and logs a status write an admission policy refuses as StatusWriteFailed (not the API server's reason), with a Warning Event, and writes the status once allowed", async () => {
    await createTenant('frozen');
    const before = await eventually(async () => {
      const t = await tenant('frozen');
      return t?.status?.observedGeneration === t?.metadata.generation ? t : undefined;
    }, 'the first status');
    await operatorIdle(controller);
    const status = (body: object) => ({
      apiVersion: KINDS.tenant.apiVersion,
      kind: KINDS.tenant.kind,
      metadata: { name: 'frozen', namespace },
      status: body,
    });
    let refusal: unknown;
    const policy = await admissionPolicy(env.client, {
      name: `${namespace}-frozen-status`,
      namespace,
      rule: { apiGroups: ['jsm-sso.io'], resources: ['jsmssotenants/status'], operations: ['UPDATE'] },
      expression: "object.metadata.name != 'frozen'",
      message: 'the status of frozen is frozen by policy',
      refused: () =>
        env.client
          .apply(`${tenantPath('frozen')}/status`, status({}), { fieldManager: 'status-test', dryRun: true })
          .catch((err) => {
            refusal = err;
            throw err;
          }),
    });
    try {
      // A new generation needs a new status (its observedGeneration): the policy refuses it.
      await env.client.request('PATCH', tenantPath('frozen'), {
        body: [{ op: 'add', path: '/spec/ingress', value: { className: 'nginx' } }],
        contentType: 'application/json-patch+json',
      });
      const line = await eventually(async () => failedLines('frozen')[0], 'the reconcile_failed log line');
      expect(line['reason']).to.equal('StatusWriteFailed');
      // The API server's answer is the log line's detail, never a label.
      expect(JSON.stringify(line['err'])).to.include('the status of frozen is frozen by policy');
      const apiReason = (refusal as { reason: string }).reason;
      expect(apiReason, "the API server's own reason").to.be.a('string').and.not.equal('StatusWriteFailed');
      const counted = await reconcileErrors(registry);
      expect(counted['StatusWriteFailed']).to.be.at.least(1);
      expect(counted).to.not.have.property(apiReason);
      const warnings = await eventually(
        async () => (await warningEvents(before.metadata.uid!, 'StatusWriteFailed')).at(0),
        'a Warning Event StatusWriteFailed',
      );
      expect(warnings.note).to.include('the status of frozen is frozen by policy');
      expect((await tenant('frozen'))?.status?.observedGeneration).to.equal(
        before.status?.observedGeneration,
      );
    } finally {
      await policy.remove();
    }
    // Allowed again: the retry writes the new generation's status.
    await eventually(
      async () => {
        const t = await tenant('frozen');
        return t?.status?.observedGeneration === t?.metadata.generation;
      },
      'the status of the new generation once the policy is gone',
      60_000,
    );
  });

  it('does not count a status write answered 404 because the tenant was deleted meanwhile: nothing is left to report on', async () => {
    await operatorIdle(controller);
    const errorsBefore = await reconcileErrors(registry);
    client.doomed = { tenant: tenantPath('doomed'), by: env.client };
    await createTenant('doomed');
    await eventually(async () => client.answered, 'the status write of the deleted tenant');
    expect(isNotFound(client.answered), String(client.answered)).to.equal(true);
    await operatorIdle(controller);
    expect(failedLines('doomed')).to.deep.equal([]);
    expect(await reconcileErrors(registry)).to.deep.equal(errorsBefore);
    expect(controller.queue.failuresOf(`${namespace}/doomed`)).to.equal(0);
  });

  it("counted every failed reconcile of these scenarios under a reason of operator/errors.ts, never the API server's", async () => {
    const reasons = Object.keys(await reconcileErrors(registry));
    expect(reasons).to.include('StatusWriteFailed');
    expect(reasons.filter((r) => !(r in FAILURE_REASONS))).to.deep.equal([]);
  });
});
