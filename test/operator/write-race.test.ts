import { expect } from 'chai';
import { isConflict, type KubeObject } from '../../common/kube/client.js';
import type { Controller } from '../../operator/controller.js';
import { collectionPath, KINDS, objectPath, type ResourceKind } from '../../operator/kube/kinds.js';
import { POOL_FINALIZER, placedNameOf } from '../../operator/resources/projection.js';
import { type Envtest, envtest, eventually, freshNamespace } from '../../testkit/envtest.js';
import {
  operatorIdle,
  startTestController,
  TEST_OPERATOR_SETTINGS,
} from '../../testkit/operator-controller.js';
import { type Answer, RacingClient } from '../../testkit/racing-client.js';
import { createPool, createTenantSecrets, secretObject, tenantObject } from '../../testkit/tenants.js';

interface Status extends KubeObject {
  status?: {
    observedGeneration?: number;
    conditions?: { type: string; status: string; reason: string; message: string }[];
  };
}

/**
 * Between the operator's read of an object and its write, another team deletes it and makes one of
 * its own under the name, or takes the object over (its ownerReference, its labels). Each test
 * holds one of the operator's writes at a hook (testkit/racing-client.ts), lets the other team act
 * through the test's client, then lets the write go: the real API server must refuse it on its
 * precondition (ADR 0166), the other team's object must come out untouched, and the operator must
 * say why (`operator.write_skipped` reason OwnershipChanged, or the tenant's ObjectConflict).
 */
describe('writes racing another team on a real API server: the operator never touches what changed hands', function () {
  this.timeout(120_000);
  let env: Envtest;
  let client: RacingClient;
  let controller: Controller;
  let namespace: string;
  let pools: string;
  const logs: Record<string, unknown>[] = [];

  /** `prepare` holds a write before the operator can make it. */
  async function startOperator(prepare: (client: RacingClient) => void = () => {}): Promise<void> {
    client = new RacingClient(env.kubeConfig);
    prepare(client);
    ({ controller } = await startTestController(env, {
      namespace,
      moreNamespaces: [pools],
      settings: TEST_OPERATOR_SETTINGS,
      instance: 'write-race',
      client,
      logDestination: { write: (line: string) => void logs.push(JSON.parse(line)) },
    }));
  }

  async function stopOperator(): Promise<void> {
    await controller?.stop();
    client?.close();
  }

  before(async () => {
    env = await envtest();
    namespace = await freshNamespace(env.client, 'race');
    pools = await freshNamespace(env.client, 'racepool');
    await startOperator();
    await createPool(env.client, pools, 'shared');
  });

  after(stopOperator);

  const tenantPath = (name: string) => objectPath(KINDS.tenant, namespace, name);
  const condition = (o: Status | undefined, type: string) =>
    o?.status?.conditions?.find((c) => c.type === type);

  async function createTenant(name: string, spec: Record<string, unknown> = {}): Promise<void> {
    await createTenantSecrets(env.client, namespace, name);
    await env.client.create(collectionPath(KINDS.tenant, namespace), tenantObject(namespace, name, spec));
  }

  async function appliedTenant(name: string, timeoutMs?: number): Promise<Status> {
    return eventually(
      async () => {
        const t = await env.client.get<Status>(tenantPath(name));
        const done = t?.status?.observedGeneration === t?.metadata.generation;
        return condition(t, 'Applied')?.status === 'True' && done ? t : undefined;
      },
      `tenant ${name} applied`,
      timeoutMs,
    );
  }

  /** The first failed reconcile's log line for a tenant: what the racing pass itself reported. */
  const firstFailure = (key: string) =>
    eventually(
      async () => logs.find((l) => l['event'] === 'operator.reconcile_failed' && l['tenant'] === key),
      `an operator.reconcile_failed line for ${key}`,
    );

  /** The tenant's Applied condition once it is False. */
  const appliedFalse = (name: string) =>
    eventually(async () => {
      const c = condition(await env.client.get<Status>(tenantPath(name)), 'Applied');
      return c?.status === 'False' ? c : undefined;
    }, `tenant ${name} Applied=False`);

  const projectionName = (tenant: string) => placedNameOf(namespace, tenant);
  const projectionPath = (tenant: string) => objectPath(KINDS.secret, pools, projectionName(tenant));

  /** The other team's Secret under a tenant's projection name in the pool's namespace. */
  const theirSecret = (tenant: string): KubeObject => ({
    ...secretObject(pools, projectionName(tenant), { theirs: 'kept' }),
    metadata: { name: projectionName(tenant), namespace: pools, labels: { team: 'other' } },
  });

  const theirConfigMap = (name: string): KubeObject => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace, labels: { team: 'other' } },
    data: { 'theirs.yaml': 'kept: true' },
  });

  const pooled = () => ({ placement: { mode: 'pool', pool: { name: 'shared', namespace: pools } } });

  /** Deletes the object at `path` and waits until it is gone (no finalizer of ours holds it). */
  async function deleteNow(path: string): Promise<void> {
    await env.client.delete(path);
    await eventually(async () => (await env.client.get(path)) === undefined, `${path} gone`);
  }

  /**
   * Holds the operator's next `method` write at `path` while the tenant `name` is deleted and made
   * again (dedicated) under its name; `after` reads what the write did before the operator goes on
   * (the second tenant's own reconcile waits for this one). Resolves with the second tenant.
   */
  async function tenantReplacedWhileHeld(
    method: string,
    path: string,
    name: string,
    after: () => Promise<void>,
  ): Promise<KubeObject> {
    let second: KubeObject | undefined;
    const replace = async () => {
      await deleteNow(tenantPath(name));
      second = await env.client.create<KubeObject>(
        collectionPath(KINDS.tenant, namespace),
        tenantObject(namespace, name),
      );
    };
    refusedWithConflict(await client.hold(method, path, replace, after));
    return second!;
  }

  /** The other team's object made under the name at `path`, once the operator's is gone. */
  async function replaceAsOtherTeam(path: string, theirs: KubeObject): Promise<KubeObject> {
    await deleteNow(path);
    const { kind, metadata } = theirs;
    const kinds = Object.values(KINDS) as ResourceKind[];
    const resource = kinds.find((k) => k.kind === kind)!;
    return env.client.create<KubeObject>(collectionPath(resource, metadata.namespace), theirs);
  }

  const patchTenant = (name: string, patch: unknown[]) =>
    env.client.request('PATCH', tenantPath(name), {
      body: patch,
      contentType: 'application/json-patch+json',
    });

  /** The other team's object as its own managers left it: what the operator must never change. */
  function untouched(live: KubeObject | undefined, theirs: KubeObject): void {
    expect(live, 'their object is still there').to.not.equal(undefined);
    expect(live!.metadata.uid).to.equal(theirs.metadata.uid);
    expect(live!.metadata.resourceVersion, 'never written since they made it').to.equal(
      theirs.metadata.resourceVersion,
    );
    expect(live!.metadata.ownerReferences ?? []).to.deep.equal(theirs.metadata.ownerReferences ?? []);
    expect(live!.metadata.labels).to.deep.equal(theirs.metadata.labels);
  }

  /**
   * Judging a name in the pool's namespace again after a refused write needs its labels and
   * version, never the values of the other team's Secret: every read of it was metadata only.
   */
  function noValuesRead(path: string, racing = client): void {
    const reads = racing.readsOf(path);
    expect(reads, 'the refused write was judged again on a read').to.not.be.empty;
    const withData = reads.filter((read) => (read as { data?: unknown }).data !== undefined);
    expect(withData.length, 'reads of the Secret that carried its data').to.equal(0);
  }

  function refusedWithConflict(answer: Answer): void {
    expect('refused' in answer && isConflict(answer.refused), JSON.stringify(answer)).to.equal(true);
  }
  /**
   * Holds the operator's next `method` write at `path` while the other team replaces the object
   * with `theirs`; once the write is answered, asserts the API server refused it and resolves with
   * what the other team made.
   */
  async function replacedWhileHeld(
    method: string,
    path: string,
    theirs: KubeObject,
    racing = client,
  ): Promise<KubeObject> {
    let made: KubeObject | undefined;
    refusedWithConflict(
      await racing.hold(method, path, async () => {
        made = await replaceAsOtherTeam(path, theirs);
      }),
    );
    return made!;
  }

  async function skippedLine(key: string, object: string): Promise<Record<string, unknown>> {
    const line = await eventually(
      async () =>
        logs.find(
          (l) =>
            l['event'] === 'operator.write_skipped' &&
            l['tenant'] === key &&
            (l['objects'] as string[]).some((o) => o.includes(object)),
        ),
      `an operator.write_skipped line naming ${object}`,
    );
    expect(line['reason']).to.equal('OwnershipChanged');
    return line;
  }

  const ingressOf = (name: string, ns: string, backend = 'legacy'): KubeObject => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: ns, labels: { team: 'other' } },
    spec: {
      rules: [
        {
          host: `${name}.other.example`,
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: { service: { name: backend, port: { number: 80 } } },
              },
            ],
          },
        },
      ],
    },
  });

  it('leaves the Ingress another team made under a name it prunes, between its read and its delete', async () => {
    await createTenant('pruned', { ingress: { className: 'nginx' } });
    await appliedTenant('pruned');
    const path = objectPath(KINDS.ingress, namespace, 'pruned-ingress');
    const race = replacedWhileHeld('DELETE', path, ingressOf('pruned-ingress', namespace));
    await patchTenant('pruned', [{ op: 'remove', path: '/spec/ingress' }]);
    const theirs = await race;
    const line = await skippedLine(`${namespace}/pruned`, `Ingress ${namespace}/pruned-ingress`);
    expect(String(line['objects'])).to.include(theirs!.metadata.uid);
    await operatorIdle(controller);
    untouched(await env.client.get(path), theirs!);
    expect(condition(await appliedTenant('pruned'), 'Applied')?.reason).to.equal('ObjectsApplied');
  });

  it('leaves an Ingress another team took over (its ownerReference and labels) between the read and the delete', async () => {
    await createTenant('adopted', { ingress: { className: 'nginx' } });
    await appliedTenant('adopted');
    const path = objectPath(KINDS.ingress, namespace, 'adopted-ingress');
    let theirs: KubeObject | undefined;
    const answer = client.hold('DELETE', path, async () => {
      // The same object (its uid unchanged), now theirs: no ownerReference, their labels.
      theirs = await env.client.request<KubeObject>('PATCH', path, {
        body: [
          { op: 'remove', path: '/metadata/ownerReferences' },
          { op: 'replace', path: '/metadata/labels', value: { team: 'other' } },
        ],
        contentType: 'application/json-patch+json',
      });
    });
    await patchTenant('adopted', [{ op: 'remove', path: '/spec/ingress' }]);
    refusedWithConflict(await answer);
    await skippedLine(`${namespace}/adopted`, `Ingress ${namespace}/adopted-ingress`);
    await operatorIdle(controller);
    untouched(await env.client.get(path), theirs!);
    noValuesRead(path);
  });

  it("does not take over another team's ConfigMap made under the tenant's name between its read and its apply", async () => {
    await createTenant('taken');
    await appliedTenant('taken');
    const path = objectPath(KINDS.configMap, namespace, 'taken-config');
    const race = replacedWhileHeld('PATCH', path, theirConfigMap('taken-config'));
    // A new tenant document: the ConfigMap is the first object applied.
    await patchTenant('taken', [
      { op: 'replace', path: '/spec/atlassian/siteUrl', value: 'https://other.atlassian.net' },
    ]);
    const theirs = await race;
    const applied = await appliedFalse('taken');
    expect(applied.reason).to.equal('ObjectConflict');
    expect(applied.message).to.include('ConfigMap taken-config');
    const failed = await firstFailure(`${namespace}/taken`);
    expect(failed['reason']).to.equal('ObjectConflict');
    expect(JSON.stringify(failed['err'])).to.include('made or changed while being applied');
    const live = await env.client.get<KubeObject & { data?: Record<string, string> }>(path);
    untouched(live, theirs);
    expect(live!.data).to.deep.equal(theirs['data']);
    await env.client.delete(tenantPath('taken'));
  });

  it("does not merge into another team's ConfigMap made under a name it judged free, just before its create", async () => {
    const path = objectPath(KINDS.configMap, namespace, 'claimed-config');
    let theirs: KubeObject | undefined;
    const answer = client.hold('PATCH', path, async () => {
      theirs = await env.client.create<KubeObject>(
        collectionPath(KINDS.configMap, namespace),
        theirConfigMap('claimed-config'),
      );
    });
    await createTenant('claimed');
    refusedWithConflict(await answer);
    const applied = await appliedFalse('claimed');
    expect(applied.reason).to.equal('ObjectConflict');
    expect(applied.message).to.include('ConfigMap claimed-config');
    const live = await env.client.get<KubeObject & { data?: Record<string, string> }>(path);
    untouched(live, theirs!);
    expect(live!.data).to.deep.equal(theirs!['data']);
    expect((live!.metadata.managedFields ?? []).map((f) => f.manager)).to.not.include('jsm-sso-operator');
    await env.client.delete(tenantPath('claimed'));
  });

  it("does not overwrite another team's Secret made under a pooled tenant's projection name between its read and its replace", async () => {
    await createTenant('projected', pooled());
    await appliedTenant('projected');
    const path = projectionPath('projected');
    const race = replacedWhileHeld('PUT', path, theirSecret('projected'));
    await patchTenant('projected', [
      { op: 'replace', path: '/spec/atlassian/siteUrl', value: 'https://other.atlassian.net' },
    ]);
    const theirs = await race;
    const applied = await appliedFalse('projected');
    expect(applied.reason).to.equal('ObjectConflict');
    expect(applied.message).to.include(`Secret ${pools}/${projectionName('projected')}`);
    untouched(await env.client.get(path), theirs);
    noValuesRead(path);
    await env.client.delete(tenantPath('projected'));
  });

  it("leaves another team's Secret made under a deleted pooled tenant's projection name, and still releases the tenant", async () => {
    await createTenant('leaving', pooled());
    await appliedTenant('leaving');
    const path = projectionPath('leaving');
    const race = replacedWhileHeld('DELETE', path, theirSecret('leaving'));
    await env.client.delete(tenantPath('leaving'));
    const theirs = await race;
    await skippedLine(`${namespace}/leaving`, `Secret ${pools}/${projectionName('leaving')}`);
    // Nothing of its own is left: the finalizer goes and the tenant with it.
    await eventually(
      async () => (await env.client.get(tenantPath('leaving'))) === undefined,
      'the tenant gone',
    );
    untouched(await env.client.get(path), theirs!);
    noValuesRead(path);
  });

  it('does not write a stale status onto a tenant deleted and made again under its name meanwhile', async () => {
    await createTenant('renewed');
    const first = await appliedTenant('renewed');
    let statusRightAfter: Status['status'];
    const race = tenantReplacedWhileHeld('PATCH', `${tenantPath('renewed')}/status`, 'renewed', async () => {
      statusRightAfter = (await env.client.get<Status>(tenantPath('renewed')))?.status;
    });
    // A new generation of the first tenant: its reconcile ends in a status write.
    await patchTenant('renewed', [
      { op: 'replace', path: '/spec/atlassian/siteUrl', value: 'https://other.atlassian.net' },
    ]);
    const second = await race;
    expect(second.metadata.uid).to.not.equal(first.metadata.uid);
    expect(statusRightAfter, "the first tenant's status on the second").to.equal(undefined);
    const line = await skippedLine(`${namespace}/renewed`, `JsmSsoTenant ${namespace}/renewed`);
    expect(String(line['objects'])).to.include(second.metadata.uid).and.include(first.metadata.uid);
    // The second tenant gets its own status from its own reconcile.
    // (once the garbage collector has removed the first one's objects, which hold its names)
    const own = await appliedTenant('renewed', 90_000);
    expect(own.metadata.uid).to.equal(second.metadata.uid);
    expect(own.status?.observedGeneration).to.equal(1);
  });

  it('does not put its pool finalizer on a tenant deleted and made again under its name before the finalizer is written', async () => {
    let finalizersRightAfter: string[] | undefined;
    // The second tenant of that name is dedicated: nothing of a pool is its.
    const race = tenantReplacedWhileHeld('PATCH', tenantPath('moved'), 'moved', async () => {
      finalizersRightAfter = (await env.client.get(tenantPath('moved')))?.metadata.finalizers;
    });
    await createTenant('moved', pooled());
    const second = await race;
    expect(finalizersRightAfter ?? []).to.not.include(POOL_FINALIZER);
    const line = await skippedLine(`${namespace}/moved`, `JsmSsoTenant ${namespace}/moved`);
    expect(String(line['objects'])).to.include(second.metadata.uid);
    const own = await appliedTenant('moved');
    expect(own.metadata.uid).to.equal(second.metadata.uid);
    expect(own.metadata.finalizers ?? []).to.not.include(POOL_FINALIZER);
    // The first tenant placed nothing in the pool.
    expect(await env.client.get(projectionPath('moved'))).to.equal(undefined);
  });

  // Last: it restarts the operator.
  it("leaves another team's Secret made under an orphaned projection's name while the pool collects it", async () => {
    await createTenant('orphaned', pooled());
    await appliedTenant('orphaned');
    // Gone while the operator was down, its finalizer removed by hand: the pool collects its projection.
    await stopOperator();
    await patchTenant('orphaned', [{ op: 'remove', path: '/metadata/finalizers' }]);
    await deleteNow(tenantPath('orphaned'));
    const path = projectionPath('orphaned');
    let race: Promise<KubeObject> | undefined;
    await startOperator((racing) => {
      race = replacedWhileHeld('DELETE', path, theirSecret('orphaned'), racing);
    });
    const theirs = await race!;
    await skippedLine(`pool:${pools}/shared`, `Secret ${pools}/${projectionName('orphaned')}`);
    untouched(await env.client.get(path), theirs);
    noValuesRead(path);
  });
});
