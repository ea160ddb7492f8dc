import { expect } from 'chai';
import type { Registry } from 'prom-client';
import { isNotFound, type KubeObject } from '../../common/kube/client.js';
import type { Controller } from '../../operator/controller.js';
import { FAILURE_REASONS } from '../../operator/errors.js';
import { collectionPath, KINDS, objectPath } from '../../operator/kube/kinds.js';
import { admissionPolicy } from '../../testkit/admission-policy.js';
import { type Envtest, envtest, eventually, freshNamespace } from '../../testkit/envtest.js';
import {
  operatorIdle,
  reconcileErrors,
  startTestController,
  TEST_OPERATOR_SETTINGS,
} from '../../testkit/operator-controller.js';
import { RacingClient } from '../../testkit/racing-client.js';
import { createPool, createTenantSecrets, tenantObject } from '../../testkit/tenants.js';

interface Described extends KubeObject {
  status?: { observedGeneration?: number };
}

describe('operator status writes against a real API server', function () {
  this.timeout(90_000);
  let env: Envtest;
  let client: RacingClient;
  let controller: Controller;
  let registry: Registry;
  let namespace: string;
  const logs: Record<string, unknown>[] = [];

  before(async () => {
    env = await envtest();
    namespace = await freshNamespace(env.client, 'status');
    client = new RacingClient(env.kubeConfig);
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

  const failedLines = (key: string) =>
    logs.filter((l) => l['event'] === 'operator.reconcile_failed' && l['tenant'] === key);

  async function createTenant(name: string): Promise<void> {
    await createTenantSecrets(env.client, namespace, name);
    await env.client.create(collectionPath(KINDS.tenant, namespace), tenantObject(namespace, name));
  }

  /** What a tenant's and a pool's status writes are tested on: both go through one writeStatus. */
  const SUBJECTS = {
    tenant: {
      kind: KINDS.tenant,
      resource: 'jsmssotenants',
      key: (name: string) => `${namespace}/${name}`,
      create: createTenant,
      change: { op: 'add', path: '/spec/ingress', value: { className: 'nginx' } },
    },
    pool: {
      kind: KINDS.pool,
      resource: 'jsmssopools',
      key: (name: string) => `pool:${namespace}/${name}`,
      create: (name: string) => createPool(env.client, namespace, name),
      change: { op: 'add', path: '/spec/portal', value: { replicas: 2 } },
    },
  };

  async function warningEvents(uid: string, reason: string) {
    const events = await env.client.list<
      KubeObject & { type: string; reason: string; note: string; regarding: { uid: string } }
    >(collectionPath(KINDS.event, namespace));
    return events.items.filter((e) => e.regarding.uid === uid && e.type === 'Warning' && e.reason === reason);
  }

  for (const [what, subject] of Object.entries(SUBJECTS)) {
    const name = `frozen-${what}`;
    const path = () => objectPath(subject.kind, namespace, name);
    const current = () => env.client.get<Described>(path());
    const described = async () => {
      const o = await current();
      return o?.status?.observedGeneration === o?.metadata.generation ? o : undefined;
    };

    it(`counts and logs a ${what}'s status write an admission policy refuses as StatusWriteFailed (not the API server's reason), with a Warning Event, and writes the status once allowed`, async () => {
      await subject.create(name);
      const before = await eventually(described, 'the first status');
      await operatorIdle(controller);
      let refusal: unknown;
      const policy = await admissionPolicy(env.client, {
        name: `${namespace}-${name}`,
        namespace,
        rule: {
          apiGroups: ['jsm-sso.io'],
          resources: [`${subject.resource}/status`],
          operations: ['UPDATE'],
        },
        expression: `object.metadata.name != '${name}'`,
        message: `the status of ${name} is frozen by policy`,
        refused: () =>
          env.client
            .apply(
              `${path()}/status`,
              {
                apiVersion: subject.kind.apiVersion,
                kind: subject.kind.kind,
                metadata: { name, namespace },
                status: {},
              },
              { fieldManager: 'status-test', dryRun: true },
            )
            .catch((err) => {
              refusal = err;
              throw err;
            }),
      });
      try {
        // A new generation needs a new status (its observedGeneration): the policy refuses it.
        await env.client.request('PATCH', path(), {
          body: [subject.change],
          contentType: 'application/json-patch+json',
        });
        const line = await eventually(
          async () => failedLines(subject.key(name))[0],
          'the reconcile_failed log line',
        );
        expect(line['reason']).to.equal('StatusWriteFailed');
        // The API server's answer is the log line's detail, never a label.
        expect(JSON.stringify(line['err'])).to.include(`the status of ${name} is frozen by policy`);
        const apiReason = (refusal as { reason: string }).reason;
        expect(apiReason, "the API server's own reason").to.be.a('string').and.not.equal('StatusWriteFailed');
        const counted = await reconcileErrors(registry);
        expect(counted['StatusWriteFailed']).to.be.at.least(1);
        expect(counted).to.not.have.property(apiReason);
        const warning = await eventually(
          async () => (await warningEvents(before.metadata.uid!, 'StatusWriteFailed')).at(0),
          'a Warning Event StatusWriteFailed',
        );
        expect(warning.note).to.include(`the status of ${name} is frozen by policy`);
        expect((await current())?.status?.observedGeneration).to.equal(before.status?.observedGeneration);
      } finally {
        await policy.remove();
      }
      // Allowed again: the retry writes the new generation's status.
      await eventually(described, 'the status of the new generation once the policy is gone', 60_000);
    });

    it(`does not count a ${what}'s status write answered 404 because it was deleted meanwhile: nothing is left to report on`, async () => {
      const doomed = `doomed-${what}`;
      await operatorIdle(controller);
      const errorsBefore = await reconcileErrors(registry);
      // Deleted right before its status write: the real API server's 404 of an object deleted
      // between its reconcile and its status write, a race no timing can make happen on demand.
      const path = objectPath(subject.kind, namespace, doomed);
      const answer = client.hold('PATCH', `${path}/status`, async () => {
        await env.client.delete(path);
        await eventually(async () => (await env.client.get(path)) === undefined, 'the object to be gone');
      });
      await subject.create(doomed);
      const answered = await answer;
      expect('refused' in answered && isNotFound(answered.refused), JSON.stringify(answered)).to.equal(true);
      await operatorIdle(controller);
      expect(failedLines(subject.key(doomed))).to.deep.equal([]);
      expect(await reconcileErrors(registry)).to.deep.equal(errorsBefore);
      expect(controller.queue.failuresOf(subject.key(doomed))).to.equal(0);
    });
  }

  it("counted every failed reconcile of these scenarios under a reason of operator/errors.ts, never the API server's", async () => {
    const reasons = Object.keys(await reconcileErrors(registry));
    expect(reasons).to.include('StatusWriteFailed');
    expect(reasons.filter((r) => !(r in FAILURE_REASONS))).to.deep.equal([]);
  });
});
