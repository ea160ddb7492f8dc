import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { expect } from 'chai';
import type { JsmSsoTenant } from '../../common/config/load.js';
import type { JsmSsoPool } from '../../common/config/pool.generated.js';
import type { KubeClient, KubeObject } from '../../common/kube/client.js';
import type { Controller } from '../../operator/controller.js';
import { HASH_KEY_DATA_KEY, HashKeyError, loadHashKey } from '../../operator/hash-key.js';
import { collectionPath, KINDS, objectPath } from '../../operator/kube/kinds.js';
import {
  APPLIED_HASH_ANNOTATION,
  CONFIG_HASH_ANNOTATION,
  type Part,
  type SecretFacts,
  sha256,
} from '../../operator/resources/common.js';
import { configHash, deploymentName } from '../../operator/resources/deployment.js';
import { desiredPoolDeployment, poolContext, poolSecretKeys } from '../../operator/resources/pool.js';
import { placedName, projectionMeta } from '../../operator/resources/projection.js';
import { allSecretKeys } from '../../operator/resources/secret-refs.js';
import { secretFacts } from '../../operator/secret-facts.js';
import { TenantVerdicts } from '../../operator/tenant-verdicts.js';
import { type Envtest, envtest, eventually, freshNamespace } from '../../testkit/envtest.js';
import {
  operatorIdle,
  startTestController,
  TEST_OPERATOR_SETTINGS,
} from '../../testkit/operator-controller.js';
import { spawnOperator } from '../../testkit/operator-process.js';
import {
  createPool,
  createSharedTenantSecrets,
  createTenantSecrets,
  pooledOnSharedSecrets,
  tenantObject,
} from '../../testkit/tenants.js';

/**
 * What the operator writes where Secrets' values are not readable (pod template annotations, a
 * projection's metadata) must confirm no guess of a value to someone who reads it: the config hash
 * and applied hashes were unkeyed SHA-256 of the values, so whoever may read Deployments, knowing all
 * but one weak value (the code is public, the ConfigMap readable), confirmed a guess of it offline
 * (ADR 0315). The values are now hashed under a key of the operator's own namespace.
 */
type SecretLike = KubeObject & { data?: Record<string, string> };

/** A Secret's facts as the code computes them, but with every value's plain SHA-256: a guesser's. */
function guessedFacts(secret: SecretLike): SecretFacts {
  const facts = secretFacts(secret, Buffer.alloc(32));
  const keyHashes = Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, sha256(v)]));
  return { ...facts, keyHashes };
}

describe("Secret values' hashes in objects their readers may read (ADR 0315)", function () {
  this.timeout(120_000);
  let env: Envtest;
  let team: string;
  let pools: string;
  let client: KubeClient;
  let controller: Controller;
  const writes: string[] = [];
  const keySecret = () => ({ namespace: team, name: 'jsm-sso-operator-hash-key' });

  const get = <T = KubeObject>(kind: (typeof KINDS)[keyof typeof KINDS], ns: string, name: string) =>
    env.client.get<T>(objectPath(kind, ns, name));

  /** The Secrets `names` of `namespace`, facts as a guesser who knows their values computes them. */
  async function guessed(namespace: string, names: string[]): Promise<Record<string, SecretFacts>> {
    const entries = await Promise.all(
      [...new Set(names)].map(async (name) => [
        name,
        guessedFacts((await get<SecretLike>(KINDS.secret, namespace, name))!),
      ]),
    );
    return Object.fromEntries(entries);
  }

  async function validated(namespace: string, name: string) {
    const live = (await get<JsmSsoTenant & KubeObject>(KINDS.tenant, namespace, name))!;
    return new TenantVerdicts(Buffer.alloc(32)).validate(live);
  }

  async function startOperator(): Promise<void> {
    const hashKey = await loadHashKey(env.client, keySecret());
    ({ client, controller } = await startTestController(env, {
      namespace: team,
      moreNamespaces: [pools],
      instance: 'secret-hashes-test',
      level: 'error',
      hashKey,
      onWrite: (method, path) => writes.push(`${method} ${path}`),
    }));
  }

  const annotation = async (namespace: string, name: string) =>
    (
      await get<KubeObject & { spec: { template: { metadata: KubeObject['metadata'] } } }>(
        KINDS.deployment,
        namespace,
        name,
      )
    )?.spec.template.metadata.annotations?.[CONFIG_HASH_ANNOTATION];

  before(async () => {
    env = await envtest();
    team = await freshNamespace(env.client, 'sh');
    pools = await freshNamespace(env.client, 'shp');
    await createTenantSecrets(env.client, team, 'acme');
    await env.client.create(collectionPath(KINDS.tenant, team), tenantObject(team, 'acme'));
    await createSharedTenantSecrets(env.client, team);
    await createPool(env.client, pools, 'shared');
    await env.client.create(
      collectionPath(KINDS.tenant, team),
      pooledOnSharedSecrets(team, 'pooled', pools, 'shared'),
    );
    await startOperator();
    await eventually(
      async () => (await annotation(team, 'acme-broker')) !== undefined,
      'the broker Deployment',
    );
    await eventually(
      async () =>
        (await get(KINDS.secret, pools, placedName((await validated(team, 'pooled')).tenant!))) !== undefined,
      'the projection',
    );
    await operatorIdle(controller);
  });

  after(async () => {
    await controller?.stop();
    client?.close();
  });

  it("a tenant's pod template confirms no guess of a mounted value", async () => {
    const { tenant } = await validated(team, 'acme');
    const secrets = await guessed(
      team,
      allSecretKeys(tenant!).map((use) => use.secret),
    );
    for (const part of ['broker', 'portal'] as Part[]) {
      const context = { tenant: tenant!, settings: TEST_OPERATOR_SETTINGS, secrets };
      const seen = await annotation(team, deploymentName(context, part));
      expect(seen, part).to.match(/^[0-9a-f]{64}$/);
      // The guesser recomputes the annotation from the right values: it must not match.
      expect(seen, part).to.not.equal(configHash(context, part));
    }
  });

  it("a projection's metadata and a pool's pod template confirm no guess either", async () => {
    const validation = await validated(team, 'pooled');
    const tenant = validation.tenant!;
    const pool = (await get<JsmSsoPool & KubeObject>(KINDS.pool, pools, 'shared'))!;
    const secrets = await guessed(
      team,
      allSecretKeys(tenant).map((use) => use.secret),
    );
    const name = placedName(tenant);
    const projection = (await env.client.getMetadata(objectPath(KINDS.secret, pools, name), {}))!;
    const guess = projectionMeta(
      tenant,
      pool,
      { secrets, document: validation.document, documentHash: () => sha256(validation.document()) },
      name,
    );
    expect(projection.metadata.annotations?.[APPLIED_HASH_ANNOTATION]).to.match(/^[0-9a-f]{32}$/);
    expect(projection.metadata.annotations?.[APPLIED_HASH_ANNOTATION]).to.not.equal(
      guess.annotations?.[APPLIED_HASH_ANNOTATION],
    );

    const poolSecrets = await guessed(
      pools,
      poolSecretKeys(pool).map((use) => use.secret),
    );
    const desired = desiredPoolDeployment(
      poolContext(pool, TEST_OPERATOR_SETTINGS, poolSecrets),
      'broker',
    ) as KubeObject & {
      spec: { template: { metadata: KubeObject['metadata'] } };
    };
    const seen = await annotation(pools, desired.metadata.name!);
    expect(seen).to.match(/^[0-9a-f]{64}$/);
    expect(seen).to.not.equal(desired.spec.template.metadata.annotations?.[CONFIG_HASH_ANNOTATION]);
  });

  it('gives every replica one key: two starting at once create one Secret and read the same key', async () => {
    const where = { namespace: team, name: 'two-replicas-hash-key' };
    const [a, b] = await Promise.all([loadHashKey(env.client, where), loadHashKey(env.client, where)]);
    expect(a.equals(b)).to.equal(true);
    expect(a).to.have.length(32);
    expect((await loadHashKey(env.client, where)).equals(a)).to.equal(true);
  });

  it('makes a new key at the next start when its Secret was deleted (every pod then rolls once)', async () => {
    const where = { namespace: team, name: 'deleted-hash-key' };
    const first = await loadHashKey(env.client, where);
    await env.client.delete(objectPath(KINDS.secret, where.namespace, where.name));
    const second = await loadHashKey(env.client, where);
    expect(second.equals(first)).to.equal(false);
    expect((await loadHashKey(env.client, where)).equals(second)).to.equal(true);
  });

  it('rolls nothing when the operator starts again (a restart, another replica, a new leader)', async () => {
    const before = await annotation(team, 'acme-broker');
    await controller.stop();
    client.close();
    writes.length = 0;
    await startOperator();
    await operatorIdle(controller);
    expect(writes.filter((w) => /deployments|secrets/.test(w))).to.deep.equal([]);
    expect(await annotation(team, 'acme-broker')).to.equal(before);
  });

  it('rolls the pods that mount a value when it changes', async () => {
    const broker = await annotation(team, 'acme-broker');
    const portal = await annotation(team, 'acme-portal');
    const path = objectPath(KINDS.secret, team, 'acme-oidc');
    const secret = (await env.client.get<SecretLike>(path))!;
    await env.client.request('PUT', path, {
      body: { ...secret, data: { clientSecret: Buffer.from('an0ther').toString('base64') } },
    });
    await eventually(async () => (await annotation(team, 'acme-broker')) !== broker, 'the broker to roll');
    await operatorIdle(controller);
    // The portal does not read the IdP's client secret.
    expect(await annotation(team, 'acme-portal')).to.equal(portal);
  });

  it('refuses a key Secret without a key of 32 bytes, naming it: the operator process exits at start', async () => {
    // Out of a cluster the operator's own namespace is POD_NAMESPACE's, else `default`.
    const where = { namespace: process.env['POD_NAMESPACE'] ?? 'default', name: `${team}-weak-hash-key` };
    await env.client.create(
      collectionPath(KINDS.secret, where.namespace),
      // 16 random bytes: as good as a password, half the key HMAC-SHA-256 wants.
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: where,
        data: { [HASH_KEY_DATA_KEY]: randomBytes(16).toString('base64') },
      },
    );
    let refused: unknown;
    await loadHashKey(env.client, where).catch((err: unknown) => {
      refused = err;
    });
    expect(refused).to.be.instanceOf(HashKeyError);
    expect((refused as Error).message).to.include(`${where.namespace}/${where.name}`);

    const operator = spawnOperator({
      kubeconfig: env.kubeconfigPath,
      namespace: team,
      port: 0,
      args: ['--hash-key-secret', where.name],
      pipeLog: true,
    });
    let stderr = '';
    operator.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    operator.stdout!.resume();
    const [code] = (await once(operator, 'exit')) as [number | null];
    expect(code).to.equal(1);
    // One line with its reason code, as every known failure at start: no stack for a platform engineer to read.
    expect(stderr.trimEnd().split('\n')).to.have.lengthOf(1);
    expect(stderr).to.include(`Secret ${where.namespace}/${where.name} must hold at least 32 random bytes`);
    expect(stderr.trimEnd()).to.match(/\[OPERATOR_HASH_KEY_INVALID\]$/);
  });
});
