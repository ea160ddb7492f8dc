import type { V1Volume } from '@kubernetes/client-node';
import { expect } from 'chai';
import type { JsmSsoTenant } from '../../common/config/load.js';
import { isConflict, type KubeClient, type KubeObject } from '../../common/kube/client.js';
import type { Controller } from '../../operator/controller.js';
import { collectionPath, KINDS, objectPath, type ResourceKind } from '../../operator/kube/kinds.js';
import { selects } from '../../operator/pool-tenancy.js';
import { placedNameOf } from '../../operator/resources/projection.js';
import { admissionPolicy } from '../../testkit/admission-policy.js';
import { type Envtest, envtest, eventually, freshNamespace } from '../../testkit/envtest.js';
import { startTestController, TEST_OPERATOR_SETTINGS } from '../../testkit/operator-controller.js';
import { eventAbout, poolReadyOf } from '../../testkit/pool-ready.js';
import { createTenantSecrets, secretObject, tenantObject } from '../../testkit/tenants.js';

/**
 * Who may place a tenant in a pool (ADR 0213). The operator holds rights in every namespace it
 * watches; a team that may only edit JsmSsoTenants in its own namespace must not be able to use it
 * to write into a pool's namespace, to claim a host there before the pool's own tenants, or to load
 * its configuration into the pool's pods, unless the pool lets its namespace in
 * (spec.tenants.namespaces, Gateway API's allowedRoutes.namespaces). Real kube-apiserver.
 */
const REFUSED = 'NamespaceNotAllowed';

type Tenants = NonNullable<Record<string, unknown>>;

describe('who may place a tenant in a pool, against a real API server', function () {
  this.timeout(120_000);
  let env: Envtest;
  let client: KubeClient;
  let controller: Controller;
  let pools: string;
  let outsider: string;
  let member: string;
  /** Every write the operator sent, as `METHOD path`. */
  const writes: string[] = [];

  before(async () => {
    env = await envtest();
    pools = await freshNamespace(env.client, 'pt-pool');
    outsider = await freshNamespace(env.client, 'pt-out');
    member = await freshNamespace(env.client, 'pt-member');
    await env.client.request('PATCH', `/api/v1/namespaces/${member}`, {
      body: { metadata: { labels: { 'jsm-sso.example/pool': 'shared' } } },
      contentType: 'application/merge-patch+json',
    });
    ({ client, controller } = await startTestController(env, {
      namespace: pools,
      moreNamespaces: [outsider, member],
      settings: TEST_OPERATOR_SETTINGS,
      instance: 'pool-tenancy-test',
      onWrite: (method, path) => writes.push(`${method} ${path}`),
    }));
    // The pool's own Secret an Ingress controller would serve: the outsider names it in its Ingress.
    await env.client.create(
      collectionPath(KINDS.secret, pools),
      secretObject(pools, 'pool-redis', { url: 'rediss://redis.pools.svc:6379' }),
    );
  });

  after(async () => {
    await controller?.stop();
    client?.close();
  });

  const poolReady = (namespace: string, name: string) => poolReadyOf(env.client, namespace, name);
  const reasonIs = (namespace: string, name: string, reason: string) =>
    eventually(async () => {
      const seen = await poolReady(namespace, name);
      return seen.condition?.reason === reason ? seen : undefined;
    }, `${namespace}/${name} PoolReady ${reason}`);
  /** The conditions of a tenant or pool of the pool's namespace, as the API server holds them. */
  const conditionsOf = async (kind: ResourceKind, name: string) =>
    (
      await env.client.get<
        KubeObject & {
          status?: { conditions?: { type: string; reason: string; status: string; message: string }[] };
        }
      >(objectPath(kind, pools, name))
    )?.status?.conditions ?? [];
  /** What tenants placed in the pool's namespace, as `Secret/<name>` and `Ingress/<name>`. */
  const placedObjects = async (pool: string) =>
    (
      await Promise.all(
        [KINDS.secret, KINDS.ingress].map(async (kind) =>
          (
            await env.client.list<KubeObject>(collectionPath(kind, pool))
          ).items
            .filter((o) => o.metadata.labels?.['jsm-sso.io/tenant-uid'])
            .map((o) => `${kind.kind}/${o.metadata.name}`),
        ),
      )
    ).flat();

  async function createPool(
    name: string,
    tenants?: Tenants,
    redis: Record<string, unknown> = { urlSecretRef: { name: 'pool-redis' } },
  ): Promise<void> {
    await env.client.create(collectionPath(KINDS.pool, pools), {
      apiVersion: 'jsm-sso.io/v1alpha1',
      kind: 'JsmSsoPool',
      metadata: { name, namespace: pools },
      spec: { redis, ...(tenants ? { tenants } : {}) },
    });
  }

  /** The projection a tenant of another namespace placed in a new pool `pool`, taking every namespace. */
  async function projectionPlacedIn(pool: string, tenant: string): Promise<string> {
    await createPool(pool, { namespaces: { from: 'All' } });
    await pooledTenant(member, tenant, pool);
    await reasonIs(member, tenant, 'PoolNotReady');
    return placedNameOf(member, tenant);
  }

  async function setTenants(name: string, tenants: Tenants): Promise<void> {
    await eventually(async () => {
      const live = await env.client.get<KubeObject & { spec: Record<string, unknown> }>(
        objectPath(KINDS.pool, pools, name),
      );
      try {
        await env.client.request('PUT', objectPath(KINDS.pool, pools, name), {
          body: { ...live, spec: { ...live!.spec, tenants } },
        });
        return true;
      } catch (err) {
        if (isConflict(err)) return false;
        throw err;
      }
    }, `pool ${name} spec.tenants set`);
  }

  async function pooledTenant(
    namespace: string,
    name: string,
    pool: string,
    spec: Partial<JsmSsoTenant['spec']> = {},
  ): Promise<void> {
    await createTenantSecrets(env.client, namespace, name);
    await env.client.create(
      collectionPath(KINDS.tenant, namespace),
      tenantObject(namespace, name, {
        placement: { mode: 'pool', pool: { name: pool, namespace: pools } },
        ...spec,
      }),
    );
  }

  it('refuses a tenant of another namespace by default: nothing of it is written in the pool namespace, and its status and a Warning Event say why', async () => {
    await createPool('closed');
    await pooledTenant(outsider, 'intruder', 'closed', {
      ingress: { className: 'nginx', tlsSecretName: 'pool-redis' },
    });
    const refused = await reasonIs(outsider, 'intruder', REFUSED);
    expect(refused.condition?.status).to.equal('False');
    expect(refused.condition?.observedGeneration).to.equal(refused.tenant?.metadata.generation);
    expect(refused.condition?.message).to.contain(`JsmSsoPool ${pools}/closed`);
    expect(refused.condition?.message).to.contain(`namespace ${outsider}`);
    expect(refused.condition?.message).to.contain('spec.tenants.namespaces');
    const ready = refused.tenant?.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready).to.include({ status: 'False', reason: REFUSED });
    const warning = await eventually(
      () => eventAbout(env.client, outsider, 'intruder', REFUSED),
      'a Warning Event on intruder',
    );
    expect(warning.type).to.equal('Warning');
    // Not written and then removed: never written. No projection, no Ingress, nothing in pools.
    expect(writes.filter((w) => w.includes(`/namespaces/${pools}/`) && w.includes('intruder'))).to.deep.equal(
      [],
    );
    expect((await placedObjects(pools)).filter((o) => o.includes('intruder'))).to.deep.equal([]);
    // The tenant holds no finalizer for a pool it never entered.
    expect(refused.tenant?.metadata.finalizers ?? []).to.deep.equal([]);
  });

  it("places a tenant of the pool's own namespace by default", async () => {
    await createPool('own');
    await pooledTenant(pools, 'resident', 'own');
    await reasonIs(pools, 'resident', 'PoolNotReady'); // no kubelet: the pool itself is never Ready
    expect(await placedObjects(pools)).to.include(`Secret/${placedNameOf(pools, 'resident')}`);
  });

  it("does not let a refused tenant squat the host of the pool's own tenant, placed after it", async () => {
    await createPool('hosts');
    await pooledTenant(outsider, 'squatter', 'hosts', {
      portal: { url: 'https://help.victim.example' } as JsmSsoTenant['spec']['portal'],
      broker: { url: 'https://sso.victim.example' } as JsmSsoTenant['spec']['broker'],
    });
    await reasonIs(outsider, 'squatter', REFUSED);
    await pooledTenant(pools, 'victim', 'hosts');
    const served = await reasonIs(pools, 'victim', 'PoolNotReady');
    expect(served.condition?.message).not.to.contain('squatter');
    expect(await placedObjects(pools)).not.to.include(`Secret/${placedNameOf(outsider, 'squatter')}`);
  });

  it('admits every namespace with from: All, and takes a placed tenant out when the pool closes again', async () => {
    await createPool('open', { namespaces: { from: 'All' } });
    await pooledTenant(outsider, 'guest', 'open', { ingress: { className: 'nginx' } });
    await reasonIs(outsider, 'guest', 'PoolNotReady');
    const placed = [
      `Secret/${placedNameOf(outsider, 'guest')}`,
      `Ingress/${placedNameOf(outsider, 'guest')}`,
    ];
    expect(await placedObjects(pools)).to.include.members(placed);

    await setTenants('open', { namespaces: { from: 'Same' } });
    await reasonIs(outsider, 'guest', REFUSED);
    await eventually(
      async () => (await placedObjects(pools)).every((o) => !placed.includes(o)),
      "guest's projection and Ingress removed",
    );
  });

  it("admits the namespaces a selector matches, and takes a tenant out when its namespace's label goes", async () => {
    const selector = { matchLabels: { 'jsm-sso.example/pool': 'shared' } };
    await createPool('chosen', { namespaces: { from: 'Selector', selector } });
    await pooledTenant(member, 'chosen-one', 'chosen');
    await pooledTenant(outsider, 'not-chosen', 'chosen');
    // As Gateway API's Selector: the pool's own namespace, unlabelled, is not taken either.
    await pooledTenant(pools, 'unlabelled-home', 'chosen');
    await reasonIs(member, 'chosen-one', 'PoolNotReady');
    const refused = await reasonIs(outsider, 'not-chosen', REFUSED);
    expect(refused.condition?.message).to.contain('does not match');
    await reasonIs(pools, 'unlabelled-home', REFUSED);
    expect(await placedObjects(pools)).to.include(`Secret/${placedNameOf(member, 'chosen-one')}`);

    await env.client.request('PATCH', `/api/v1/namespaces/${member}`, {
      body: { metadata: { labels: { 'jsm-sso.example/pool': null } } },
      contentType: 'application/merge-patch+json',
    });
    await reasonIs(member, 'chosen-one', REFUSED);
    await eventually(
      async () => !(await placedObjects(pools)).includes(`Secret/${placedNameOf(member, 'chosen-one')}`),
      "chosen-one's projection removed once its namespace lost the label",
    );
  });

  it("never lets a tenant of the pool's namespace reference another tenant's projection, dedicated or pooled: its keys go nowhere (ADR 0313)", async () => {
    // A team that may write JsmSsoTenants in the pool's namespace, not read its Secrets, names the
    // projection a tenant of another namespace placed there as its IdP's client secret: the operator
    // would mount it in its broker, or copy it into its own projection, and the broker send it to the
    // issuer the team chose.
    const projection = await projectionPlacedIn('deputy', 'victim');
    const stolen = {
      identityProviders: [
        {
          name: 'corporate',
          oidc: {
            issuer: 'https://idp.thief.example',
            clientId: 'thief',
            clientSecretRef: { name: projection, key: 'victim-oidc_clientSecret' },
          },
        },
      ],
    } as unknown as Partial<JsmSsoTenant['spec']>;
    await createTenantSecrets(env.client, pools, 'thief');
    await env.client.create(collectionPath(KINDS.tenant, pools), tenantObject(pools, 'thief', stolen));
    await pooledTenant(pools, 'pooled-thief', 'deputy', stolen);
    for (const name of ['thief', 'pooled-thief']) {
      const valid = await eventually(
        async () => (await conditionsOf(KINDS.tenant, name)).find((c) => c.type === 'ConfigValid'),
        `${name} ConfigValid`,
      );
      expect(valid, name).to.include({ status: 'False', reason: 'SecretNotReferable' });
      expect(valid.message, name).to.contain(`Secret ${projection}`);
    }
    expect(await env.client.get(objectPath(KINDS.deployment, pools, 'thief-broker'))).to.equal(undefined);
    expect(await placedObjects(pools)).not.to.include(`Secret/${placedNameOf(pools, 'pooled-thief')}`);
  });

  it("never lets a second pool in the pool's namespace name a tenant's projection as its Redis URL or CA bundle: nothing of that pool is applied (ADR 0320)", async () => {
    // The pool's pods would mount the projection, and its Redis client send the URL's password (or
    // trust the CA) the victim's team never gave that pool's owner.
    const projection = await projectionPlacedIn('harbour', 'moored');
    const redisFields = {
      'pirate-url': { urlSecretRef: { name: projection, key: 'moored-oidc_clientSecret' } },
      'pirate-ca': {
        urlSecretRef: { name: 'pool-redis' },
        caBundleSecretRef: { name: projection, key: 'moored-oidc_clientSecret' },
      },
    };
    for (const [name, redis] of Object.entries(redisFields)) await createPool(name, undefined, redis);
    for (const name of Object.keys(redisFields)) {
      const conditions = await eventually(async () => {
        const found = await conditionsOf(KINDS.pool, name);
        return found.some((c) => c.type === 'Applied') ? found : undefined;
      }, `pool ${name} Applied`);
      for (const type of ['Applied', 'Ready']) {
        const condition = conditions.find((c) => c.type === type);
        expect(condition, `${name} ${type}`).to.include({ status: 'False', reason: 'SecretNotReferable' });
        expect(condition!.message, `${name} ${type}`).to.contain(`Secret ${projection}`);
      }
      expect(await env.client.get(objectPath(KINDS.deployment, pools, `${name}-broker`)), name).to.equal(
        undefined,
      );
    }
  });

  it("removes the Deployments of a tenant and of a pool that named a Secret of their own where a projection is then written: no pod mounts another tenant's keys (ADR 0330)", async () => {
    // A team that may create and delete Secrets in the pool's namespace, not read them, makes its own
    // Secret under the name the victim's projection will take (placedNameOf is predictable), with the
    // key the projection will hold, and a tenant and a pool naming it: both are valid, their
    // Deployments mount it. It deletes the Secret, the operator writes the projection there, and the
    // kubelet would copy the victim's keys into those pods, which read the files on every use.
    await createPool('lure', { namespaces: { from: 'All' } });
    const projection = placedNameOf(member, 'prey');
    const key = 'prey-oidc_clientSecret';
    await env.client.create(
      collectionPath(KINDS.secret, pools),
      secretObject(pools, projection, { [key]: "the squatter's own" }),
    );
    await createTenantSecrets(env.client, pools, 'squatter');
    await env.client.create(
      collectionPath(KINDS.tenant, pools),
      tenantObject(pools, 'squatter', {
        identityProviders: [
          {
            name: 'corporate',
            oidc: {
              issuer: 'https://idp.squatter.example',
              clientId: 'squatter',
              clientSecretRef: { name: projection, key },
            },
          },
        ],
      } as unknown as Partial<JsmSsoTenant['spec']>),
    );
    await createPool('squat-pool', undefined, {
      urlSecretRef: { name: 'pool-redis' },
      caBundleSecretRef: { name: projection, key },
    });
    /** The Deployments of the pool's namespace whose pods mount the projection's name. */
    const mounting = async () =>
      (
        await env.client.list<KubeObject & { spec: { template: { spec: { volumes?: V1Volume[] } } } }>(
          collectionPath(KINDS.deployment, pools),
        )
      ).items
        .filter((d) => d.spec.template.spec.volumes?.some((v) => v.secret?.secretName === projection))
        .map((d) => d.metadata.name!)
        .sort();
    const squatting = ['squat-pool-broker', 'squat-pool-portal', 'squatter-broker'];
    await eventually(
      async () => JSON.stringify(await mounting()) === JSON.stringify(squatting),
      "squatter's broker and squat-pool's Deployments mounting their own Secret",
    );
    // The squatter's broker Deployment kept by policy at first: no condition says it is removed then.
    const keep = await admissionPolicy(env.client, {
      name: `${pools}-keep-squatter-broker`,
      namespace: pools,
      rule: { apiGroups: ['apps'], resources: ['deployments'], operations: ['DELETE'] },
      expression: "oldObject.metadata.name != 'squatter-broker'",
      message: 'squatter-broker is kept by policy',
      refused: () =>
        env.client.delete(objectPath(KINDS.deployment, pools, 'squatter-broker'), { dryRun: 'All' }),
    });
    try {
      await env.client.delete(objectPath(KINDS.secret, pools, projection));
      await pooledTenant(member, 'prey', 'lure');
      await eventually(
        async () => (await placedObjects(pools)).includes(`Secret/${projection}`),
        "prey's projection written at the name",
      );
      const kept = await eventually(async () => {
        const conditions = await conditionsOf(KINDS.tenant, 'squatter');
        const applied = conditions.find((c) => c.type === 'Applied');
        return applied?.reason === 'ReconcileFailed' ? conditions : undefined;
      }, 'squatter Applied ReconcileFailed on the kept Deployment');
      expect(kept.find((c) => c.type === 'Applied')?.message).to.contain('squatter-broker is kept by policy');
      const valid = kept.find((c) => c.type === 'ConfigValid');
      expect(valid?.reason).to.equal('SecretNotReferable');
      expect(valid?.message).not.to.contain('Deployments are removed');
      expect(await mounting()).to.include('squatter-broker');
    } finally {
      await keep.remove();
    }
    const tenant = await eventually(async () => {
      const valid = (await conditionsOf(KINDS.tenant, 'squatter')).find((c) => c.type === 'ConfigValid');
      return valid?.reason === 'SecretNotReferable' && valid.message?.includes('Deployments are removed')
        ? valid
        : undefined;
    }, 'squatter SecretNotReferable, its Deployments removed');
    expect(tenant.message).to.contain(`Secret ${projection}`).and.contain('Deployments are removed');
    // Applied does not claim the objects last applied are all kept: the Deployments are not.
    const applied = (await conditionsOf(KINDS.tenant, 'squatter')).find((c) => c.type === 'Applied');
    expect(applied?.message)
      .to.contain('its Deployments are removed')
      .and.not.contain('the last applied objects are kept');
    const pool = await eventually(async () => {
      const applied = (await conditionsOf(KINDS.pool, 'squat-pool')).find((c) => c.type === 'Applied');
      return applied?.reason === 'SecretNotReferable' ? applied : undefined;
    }, 'squat-pool SecretNotReferable');
    expect(pool.message).to.contain(`Secret ${projection}`).and.contain('Deployments are removed');
    expect(await mounting()).to.deep.equal([]);
    // Its parts are not "missing yet": they are not run, and say why, naming the condition that says which Secret.
    for (const [kind, name, told] of [
      [KINDS.tenant, 'squatter', 'ConfigValid'],
      [KINDS.pool, 'squat-pool', 'Applied'],
    ] as const) {
      const parts = await eventually(async () => {
        const conditions = (await conditionsOf(kind, name)).filter((c) => c.type.endsWith('Available'));
        const gone = (c: { reason: string }) =>
          ['DeploymentMissing', 'SecretNotReferable'].includes(c.reason);
        return conditions.length === 2 && conditions.every(gone) ? conditions : undefined;
      }, `${name}'s parts told without their Deployments`);
      for (const condition of parts) {
        expect(condition, `${name} ${condition.type}`).to.include({
          status: 'False',
          reason: 'SecretNotReferable',
        });
        expect(condition.message).to.contain(`${told} says which`).and.not.contain('does not exist yet');
      }
    }
  });
});

describe("a pool's namespace selector reads labels as Kubernetes does", () => {
  const labels = { team: 'payments', tier: 'gold' };
  const cases: [string, Parameters<typeof selects>[0], boolean][] = [
    ['an empty selector matches every namespace', {}, true],
    ['matchLabels: every pair', { matchLabels: { team: 'payments', tier: 'gold' } }, true],
    ['matchLabels: one pair off', { matchLabels: { team: 'payments', tier: 'silver' } }, false],
    ['In', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['gold', 'silver'] }] }, true],
    ['In without the label', { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, false],
    ['NotIn', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['gold'] }] }, false],
    [
      'NotIn without the label',
      { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] },
      true,
    ],
    ['Exists', { matchExpressions: [{ key: 'team', operator: 'Exists' }] }, true],
    ['DoesNotExist', { matchExpressions: [{ key: 'team', operator: 'DoesNotExist' }] }, false],
    [
      'matchLabels and matchExpressions together',
      { matchLabels: { team: 'payments' }, matchExpressions: [{ key: 'zone', operator: 'Exists' }] },
      false,
    ],
  ];
  for (const [what, selector, expected] of cases)
    it(what, () => expect(selects(selector, labels)).to.equal(expected));
});
