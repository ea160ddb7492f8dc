import { expect } from 'chai';
import type { JsmSsoTenant } from '../../common/config/load.js';
import type { Controller } from '../../operator/controller.js';
import { collectionPath, KINDS, objectPath } from '../../operator/kube/kinds.js';
import { capturingDestination } from '../../testkit/captured-logs.js';
import { eventually, freshNamespace, installCrd, separateEnvtest } from '../../testkit/envtest.js';
import {
  operatorIdle,
  reconcileErrors,
  startTestController,
  type TestController,
} from '../../testkit/operator-controller.js';
import { createPool, createTenantSecrets, tenantObject } from '../../testkit/tenants.js';

/**
 * A tenant whose namespace is being deleted, on a real API server: it refuses every create there
 * (403, cause NamespaceTerminating) while the namespace controller deletes what the namespace holds,
 * in an order of its own. An API server of the test's own and no namespace controller, so the test
 * takes that controller's steps itself, one at a time: first an object the tenant owns, then the
 * tenant.
 */
describe("a tenant whose namespace is being terminated (real API server, the namespace controller's steps taken by the test)", function () {
  this.timeout(180_000);
  let env: ReturnType<typeof separateEnvtest>;
  const started: TestController[] = [];
  const logs: Array<Record<string, unknown>> = [];

  before(async () => {
    env = separateEnvtest([]);
    await installCrd(env.client);
  });

  after(async () => {
    for (const test of started) {
      await test.controller.stop();
      test.client.close();
    }
    env?.stop();
  });

  async function operatorOn(namespace: string): Promise<TestController> {
    const test = await startTestController(env, {
      namespace,
      instance: `namespace-terminating-test-${started.length}`,
      level: 'info',
      logDestination: capturingDestination(logs),
    });
    started.push(test);
    return test;
  }

  /** Deletes the namespace; without a namespace controller it stays Terminating with all it holds. */
  async function terminating(namespace: string): Promise<void> {
    await env.client.delete(objectPath(KINDS.namespace, undefined, namespace));
    await eventually(async () => {
      const live = await env.client.get<{ status?: { phase?: string } }>(
        objectPath(KINDS.namespace, undefined, namespace),
      );
      return live?.status?.phase === 'Terminating';
    }, 'the namespace Terminating');
  }

  it('stops creating there: Applied and Ready say NamespaceTerminating, no retry, no failure counted, no warning logged', async () => {
    const namespace = await freshNamespace(env.client, 'ns-term');
    const test = await operatorOn(namespace);
    const controller: Controller = test.controller;
    const tenantPath = objectPath(KINDS.tenant, namespace, 'acme');
    await createTenantSecrets(env.client, namespace, 'acme');
    await env.client.create(collectionPath(KINDS.tenant, namespace), tenantObject(namespace, 'acme'));
    await eventually(async () => {
      const conditions = (await env.client.get<JsmSsoTenant>(tenantPath))?.status?.conditions;
      return conditions?.find((c) => c.type === 'Applied')?.status === 'True';
    }, 'the tenant applied');
    await operatorIdle(controller);
    // A first pass may have met a Secret not yet in the cache (SecretMissing, retried): not this test's.
    const errorsBefore = await reconcileErrors(test.registry);

    await terminating(namespace);
    // The namespace controller's first step here: an object the tenant owns goes before the tenant.
    const loggedBefore = logs.length;
    await env.client.delete(objectPath(KINDS.deployment, namespace, 'acme-broker'));

    const applied = await eventually(async () => {
      const conditions = (await env.client.get<JsmSsoTenant>(tenantPath))?.status?.conditions;
      const condition = conditions?.find((c) => c.type === 'Applied');
      return condition?.status === 'False' && conditions;
    }, 'Applied=False on the tenant');
    const byType = Object.fromEntries(applied.map((c) => [c.type, c]));
    expect(byType['Applied']?.reason).to.equal('NamespaceTerminating');
    expect(byType['Applied']?.message).to.include(`namespace ${namespace} is being terminated`);
    expect(byType['Ready']).to.include({ status: 'False', reason: 'NamespaceTerminating' });
    // Nothing waits out a backoff: a create there can only be refused until the namespace is gone.
    await operatorIdle(controller);
    expect(await reconcileErrors(test.registry)).to.deep.equal(errorsBefore);
    expect(
      logs.filter((l) => l['event'] === 'operator.namespace_terminating').map((l) => l['reason']),
    ).to.deep.equal(['NamespaceTerminating']);
    expect(
      logs.slice(loggedBefore).filter((l) => ['warn', 'error', 'fatal'].includes(l['level'] as string)),
      'warnings or errors logged',
    ).to.deep.equal([]);
    expect(await env.client.get(objectPath(KINDS.deployment, namespace, 'acme-broker'))).to.equal(undefined);

    // Its next step: the tenant goes, and nothing is left to do.
    await env.client.delete(tenantPath);
    await eventually(async () => (await env.client.get(tenantPath)) === undefined, 'the tenant gone');
    await operatorIdle(controller);
    expect(await reconcileErrors(test.registry)).to.deep.equal(errorsBefore);
  });

  it("stops creating a pool's objects there the same way", async () => {
    const namespace = await freshNamespace(env.client, 'ns-term-pool');
    const test = await operatorOn(namespace);
    const poolPath = objectPath(KINDS.pool, namespace, 'shared');
    await createPool(env.client, namespace, 'shared');
    await eventually(async () => {
      const conditions = (await env.client.get<JsmSsoTenant>(poolPath))?.status?.conditions;
      return conditions?.find((c) => c.type === 'Applied')?.status === 'True';
    }, 'the pool applied');
    await operatorIdle(test.controller);
    const errorsBefore = await reconcileErrors(test.registry);

    await terminating(namespace);
    const loggedBefore = logs.length;
    await env.client.delete(objectPath(KINDS.deployment, namespace, 'shared-portal'));

    const conditions = await eventually(async () => {
      const live = (await env.client.get<JsmSsoTenant>(poolPath))?.status?.conditions;
      return live?.find((c) => c.type === 'Applied')?.status === 'False' && live;
    }, 'Applied=False on the pool');
    const byType = Object.fromEntries(conditions.map((c) => [c.type, c]));
    expect(byType['Applied']?.reason).to.equal('NamespaceTerminating');
    expect(byType['Ready']).to.include({ status: 'False', reason: 'NamespaceTerminating' });
    await operatorIdle(test.controller);
    expect(await reconcileErrors(test.registry)).to.deep.equal(errorsBefore);
    expect(
      logs.slice(loggedBefore).filter((l) => ['warn', 'error', 'fatal'].includes(l['level'] as string)),
      'warnings or errors logged',
    ).to.deep.equal([]);
  });
});
