import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { V1Ingress } from '@kubernetes/client-node';
import { expect } from 'chai';
import type { JsmSsoTenant } from '../../common/config/load.js';
import { MemoryFlowStore } from '../../common/flowstore/index.js';
import { isConflict, type KubeClient, type KubeObject } from '../../common/kube/client.js';
import { createLogger } from '../../common/log.js';
import { createMetricsRegistry } from '../../common/metrics.js';
import { HOST_CLAIMS_ANNOTATION } from '../../common/pool/claims.js';
import { TenantPool } from '../../common/pool/tenant-pool.js';
import type { Controller } from '../../operator/controller.js';
import { collectionPath, KINDS, objectPath } from '../../operator/kube/kinds.js';
import { placedNameOf } from '../../operator/resources/projection.js';
import { type Envtest, envtest, eventually, freshNamespace } from '../../testkit/envtest.js';
import {
  operatorIdle,
  startTestController,
  TEST_OPERATOR_SETTINGS,
} from '../../testkit/operator-controller.js';
import { withHost } from '../../testkit/pool.js';
import { eventAbout, poolReadyOf, refusedFromPool } from '../../testkit/pool-ready.js';
import { startPoolSource } from '../../testkit/projections.js';
import { createPool, createTenantSecrets, secretObject, tenantObject } from '../../testkit/tenants.js';

/**
 * Two tenants of two namespaces claim one host in a pool (ADR 0197): the pool serves the earlier
 * claim of the host (ADR 0193, 0230) and says so only in its log; the later tenant's own status and
 * Events must say it is not served, naming the other tenant, and clear when that tenant goes. Real
 * kube-apiserver.
 */
/** The reason the later tenant reports (operator/host-claims.ts). */
const HOST_CLAIMED_REASON = 'HostClaimedByEarlierTenant';
/** The condition and reason of a tenant whose certificate its pool passes over for another's (operator/server-name-claims.ts). */
const TLS_CONDITION = 'TLSCertificateServed';
const SERVER_NAME_CLAIMED_REASON = 'ServerNameClaimedByEarlierTenant';
/** The reason of a tenant whose URL names its pool's Service (operator/pool-service-hosts.ts). */
const HOST_IS_POOL_SERVICE_REASON = 'HostIsPoolService';
/** The reason of a tenant whose URL host is no DNS name (operator/pool-host-names.ts). */
const HOST_NOT_A_DNS_NAME_REASON = 'HostNotADnsName';

describe('a pooled tenant whose host an earlier tenant holds, against a real API server', function () {
  this.timeout(120_000);
  let env: Envtest;
  let client: KubeClient;
  let controller: Controller;
  let first: string;
  let later: string;
  let pools: string;

  before(async () => {
    env = await envtest();
    // Namespace names that sort in the order the tenants are made: a tie of claim times goes by
    // key, and the earlier tenant must win it too.
    first = await freshNamespace(env.client, 'hc-a');
    later = await freshNamespace(env.client, 'hc-b');
    pools = await freshNamespace(env.client, 'hc-pool');
    await startOperator();
    await createPool(env.client, pools, 'shared', {});
  });

  /** The operator over the three namespaces, telling `onWrite` of its writes. */
  async function startOperator(onWrite?: (method: string, path: string) => void): Promise<void> {
    ({ client, controller } = await startTestController(env, {
      namespace: first,
      moreNamespaces: [later, pools],
      settings: TEST_OPERATOR_SETTINGS,
      instance: 'host-claims-test',
      ...(onWrite ? { onWrite } : {}),
    }));
  }

  after(async () => {
    await controller?.stop();
    client?.close();
  });

  const poolReady = (namespace: string, name: string) => poolReadyOf(env.client, namespace, name);

  /** Waits until tenant `namespace/name`'s PoolReady has `reason` (`what` says what that means). */
  const untilPoolReady = (namespace: string, name: string, reason: string, what: string) =>
    eventually(async () => (await poolReady(namespace, name)).condition?.reason === reason, what);

  /** The host claims the operator keeps on a tenant's projection (ADR 0230), as written there. */
  async function hostClaimsOf(
    namespace: string,
    name: string,
  ): Promise<Record<string, { host: string; since: string }>> {
    const projection = await env.client.get<KubeObject>(
      objectPath(KINDS.secret, pools, placedNameOf(namespace, name)),
    );
    return JSON.parse(projection?.metadata.annotations?.[HOST_CLAIMS_ANNOTATION] ?? '{}');
  }

  /**
   * Tenant `namespace/name` placed in pool `pool` (`shared` unless told), its portal at
   * `https://help.<hosts>.example` and its broker at `https://sso.<hosts>.example` unless `portal` says
   * otherwise.
   */
  async function pooledTenant(
    namespace: string,
    name: string,
    hosts: string,
    {
      pool = 'shared',
      portal = {},
      broker = {},
      ingress,
    }: {
      pool?: string;
      portal?: Partial<JsmSsoTenant['spec']['portal']>;
      broker?: Partial<JsmSsoTenant['spec']['broker']>;
      ingress?: JsmSsoTenant['spec']['ingress'];
    } = {},
  ): Promise<void> {
    await createTenantSecrets(env.client, namespace, name);
    await env.client.create(
      collectionPath(KINDS.tenant, namespace),
      tenantObject(namespace, name, {
        portal: { url: `https://help.${hosts}.example`, ...portal } as JsmSsoTenant['spec']['portal'],
        broker: { url: `https://sso.${hosts}.example`, ...broker } as JsmSsoTenant['spec']['broker'],
        placement: { mode: 'pool', pool: { name: pool, namespace: pools } },
        ...(ingress ? { ingress } : {}),
      }),
    );
    await eventually(async () => (await poolReady(namespace, name)).condition, `${name} placed`);
  }

  it('tells the later tenant in its status and an Event that the earlier one holds its host, and clears it when that one goes', async () => {
    await pooledTenant(first, 'umbrella', 'umbrella');
    // A name that sorts first, in another namespace, at umbrella's hosts.
    await pooledTenant(later, 'aa-hijack', 'umbrella');
    const refused = await eventually(async () => {
      const seen = await poolReady(later, 'aa-hijack');
      return seen.condition?.reason === HOST_CLAIMED_REASON ? seen : undefined;
    }, 'aa-hijack told its host is taken');
    expect(refused.condition?.status).to.equal('False');
    expect(refused.condition?.observedGeneration).to.equal(refused.tenant?.metadata.generation);
    expect(refused.condition?.message).to.contain(`JsmSsoTenant ${first}/umbrella claimed that host first`);
    expect(refused.condition?.message).to.match(
      /serves another tenant where this one asks to be served: its (broker|portal) at /,
    );
    expect(refused.condition?.message).to.contain('its portal at help.umbrella.example (spec.portal.url)');
    expect(refused.condition?.message).to.contain('its broker at sso.umbrella.example (spec.broker.url)');
    const ready = refused.tenant?.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready).to.include({ status: 'False', reason: HOST_CLAIMED_REASON });
    const warning = await eventually(
      () => eventAbout(env.client, later, 'aa-hijack', HOST_CLAIMED_REASON),
      'a Warning Event on aa-hijack',
    );
    expect(warning.type).to.equal('Warning');
    expect(warning.note).to.contain(`${first}/umbrella`);
    // The earlier tenant is served: its PoolReady is the pool's own state.
    expect((await poolReady(first, 'umbrella')).condition?.reason).not.to.equal(HOST_CLAIMED_REASON);

    await env.client.delete(objectPath(KINDS.tenant, first, 'umbrella'));
    const served = await eventually(async () => {
      const seen = await poolReady(later, 'aa-hijack');
      return seen.condition && seen.condition.reason !== HOST_CLAIMED_REASON ? seen : undefined;
    }, 'aa-hijack served once umbrella is gone');
    // No kubelet here, so the pool itself is never Ready: what is left is the pool's state.
    expect(served.condition?.reason).to.equal('PoolNotReady');
  });

  /** The hosts of tenant `namespace/name`'s Ingress in the pool's namespace and the Service each routes to; none without it. */
  async function ingressRoutes(namespace: string, name: string): Promise<string[][]> {
    const ingress = await env.client.get<V1Ingress & KubeObject>(
      objectPath(KINDS.ingress, pools, placedNameOf(namespace, name)),
    );
    return (ingress?.spec?.rules ?? []).map((r) => [r.host ?? '', r.http!.paths[0]!.backend.service!.name]);
  }

  it("makes no Ingress rule at another tenant's host, of either part, and tells the later tenant: its paths would take that tenant's requests (ADR 0247)", async () => {
    const ingress = { className: 'nginx' };
    await pooledTenant(first, 'oak', 'oak', { ingress });
    expect(await ingressRoutes(first, 'oak')).to.have.length(2);
    // A later tenant whose broker sits on a path of oak's portal host: the longer path wins at an
    // ingress controller, so oak's customers' requests there would reach the pool's broker, which
    // serves this tenant at that host (the broker pool knows no portal host).
    await pooledTenant(later, 'elm', 'elm', {
      broker: { url: 'https://help.oak.example/requests' },
      ingress,
    });
    const refused = await eventually(async () => {
      const seen = await poolReady(later, 'elm');
      return seen.condition?.reason === HOST_CLAIMED_REASON ? seen : undefined;
    }, 'elm told the host of its broker is taken');
    expect(refused.condition?.message).to.contain(
      `its broker at help.oak.example (spec.broker.url): JsmSsoTenant ${first}/oak claimed that host first for its portal`,
    );
    expect(await ingressRoutes(later, 'elm')).to.deep.equal([['help.elm.example', 'shared-portal']]);
    // The same part at the same host, on a path of its own: told before, and now without the rule.
    await pooledTenant(later, 'ash', 'ash', {
      broker: { url: 'https://sso.oak.example/saml' },
      ingress,
    });
    await untilPoolReady(later, 'ash', HOST_CLAIMED_REASON, 'ash told its broker host is taken');
    expect(await ingressRoutes(later, 'ash')).to.deep.equal([['help.ash.example', 'shared-portal']]);
    // The earlier tenant keeps its rules; once it goes, the later ones get theirs.
    expect(await ingressRoutes(first, 'oak')).to.deep.equal([
      ['help.oak.example', 'shared-portal'],
      ['sso.oak.example', 'shared-broker'],
    ]);
    await env.client.delete(objectPath(KINDS.tenant, first, 'oak'));
    await eventually(
      async () => (await ingressRoutes(later, 'elm')).some(([host]) => host === 'help.oak.example'),
      "elm's broker routed once oak is gone",
    );
    expect((await poolReady(later, 'elm')).condition?.reason).not.to.equal(HOST_CLAIMED_REASON);
  });

  it("places no tenant whose URL names one of its pool's Service DNS names, which an ingress re-encrypting to the pool sends as SNI: every connection would be that tenant's (ADR 0249)", async () => {
    const ingress = { className: 'nginx' };
    await pooledTenant(first, 'pine', 'pine', { ingress });
    // The broker pool's Service, in the form with the cluster domain and a trailing dot, in capitals.
    await pooledTenant(later, 'fir', 'fir', {
      broker: { url: `https://SHARED-BROKER.${pools}.svc.cluster.local./saml` },
      ingress,
    });
    const message = await refusedFromPool(env.client, later, 'fir', HOST_IS_POOL_SERVICE_REASON);
    expect(message).to.contain(
      `its broker at shared-broker.${pools}.svc.cluster.local (spec.broker.url) is Service ${pools}/shared-broker`,
    );
    // Nothing of it is in the pool's namespace: no projection (no claim, not served), no Ingress.
    const placed = objectPath(KINDS.secret, pools, placedNameOf(later, 'fir'));
    expect(await env.client.get(placed)).to.equal(undefined);
    expect(await ingressRoutes(later, 'fir')).to.deep.equal([]);
    // The portal Service's shorter forms too, for a tenant placed before it named one.
    await pooledTenant(later, 'yew', 'yew', { ingress });
    expect(await ingressRoutes(later, 'yew')).to.have.length(2);
    await movePortal(later, 'yew', `https://shared-portal.${pools}`);
    await untilPoolReady(
      later,
      'yew',
      HOST_IS_POOL_SERVICE_REASON,
      'yew told its portal host is the pool Service',
    );
    await eventually(
      async () =>
        (await env.client.get(objectPath(KINDS.secret, pools, placedNameOf(later, 'yew')))) === undefined,
      "yew's projection removed",
    );
    expect(await ingressRoutes(later, 'yew')).to.deep.equal([]);
    // The other tenants are unaffected.
    expect((await poolReady(first, 'pine')).condition?.reason).to.equal('PoolNotReady');
    expect(await ingressRoutes(first, 'pine')).to.have.length(2);
  });

  it('routes a tenant whose URL host ends in a dot at that host name without it: an Ingress host has none, and the pool reads both as one host', async () => {
    await pooledTenant(first, 'rowan', 'rowan', {
      portal: { url: 'https://help.rowan.example.' },
      broker: { url: 'https://sso.rowan.example./saml' },
      ingress: { className: 'nginx' },
    });
    await eventually(
      async () => (await ingressRoutes(first, 'rowan')).length > 0,
      "rowan's Ingress written (the API server refuses a host with a trailing dot)",
    );
    expect(await ingressRoutes(first, 'rowan')).to.deep.equal([
      ['sso.rowan.example', 'shared-broker'],
      ['help.rowan.example', 'shared-portal'],
    ]);
  });

  it("places no tenant whose URL host is an IP address or a wildcard: its Ingress rule would match hosts that are other tenants', and the pool serves by host name", async () => {
    const ingress = { className: 'nginx' };
    await pooledTenant(first, 'cedar', 'cedar', { ingress });
    for (const [name, portal, shown] of [
      // Made a rule without a host, which an ingress controller takes for every host.
      ['ivy', 'https://203.0.113.5', '203.0.113.5'],
      ['hazel', 'https://[2001:db8::5]:8443', '[2001:db8::5]'],
      // Taken by the API server as a rule for every subdomain without a rule of its own.
      ['holly', 'https://*.cedar.example', '*.cedar.example'],
    ] as const) {
      await pooledTenant(later, name, name, { portal: { url: portal }, ingress });
      const message = await refusedFromPool(env.client, later, name, HOST_NOT_A_DNS_NAME_REASON);
      expect(message).to.contain(`its portal at ${shown} (spec.portal.url)`);
      expect(await ingressRoutes(later, name), name).to.deep.equal([]);
      const placed = objectPath(KINDS.secret, pools, placedNameOf(later, name));
      expect(await env.client.get(placed), name).to.equal(undefined);
    }
    expect(await ingressRoutes(first, 'cedar')).to.have.length(2);
  });

  /** Moves tenant `namespace/name`'s portal URL to `url` (retried over a conflicting write). */
  async function movePortal(namespace: string, name: string, url: string): Promise<void> {
    await eventually(async () => {
      const live = await env.client.get<JsmSsoTenant & KubeObject>(objectPath(KINDS.tenant, namespace, name));
      try {
        await env.client.request('PUT', objectPath(KINDS.tenant, namespace, name), {
          body: { ...live, spec: { ...live!.spec, portal: { ...live!.spec.portal, url } } },
        });
        return true;
      } catch (err) {
        if (isConflict(err)) return false;
        throw err;
      }
    }, `${name}'s portal URL moved to ${url}`);
  }

  /** What a test asks a portal pool process: which tenant it serves at a host, and whose certificate a TLS client naming a host name (SNI) gets. */
  interface PortalPool {
    servedAt: (host: string) => Promise<string>;
    certificateOf: (serverName: string) => string | undefined;
  }

  /** Runs `body` with a portal pool process on the projections of pool `name`, as every replica runs it. */
  async function withPortalPool(name: string, body: (pool: PortalPool) => Promise<void>): Promise<void> {
    const pool = new TenantPool({
      part: 'portal',
      build: async ({ tenantId }) => ({ handler: (_req, res) => res.end(tenantId) }),
      store: new MemoryFlowStore(),
      registry: createMetricsRegistry(),
      logger: createLogger({ component: 'portal', level: 'silent' }),
    });
    const source = await startPoolSource(env.kubeconfigPath, pools, name, pool);
    const server = createServer(pool.handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      await body({
        servedAt: async (host) => (await withHost(`http://127.0.0.1:${port}`, host, '/')).body,
        certificateOf: (serverName) => pool.bundleForServerName(serverName)?.key,
      });
    } finally {
      server.close();
      await source.close();
      await pool.close();
    }
  }

  /** Tenant `namespace/name` placed at its own hosts, once the pool process `servedAt` asks serves it there. */
  async function servedTenant(
    servedAt: (host: string) => Promise<string>,
    namespace: string,
    name: string,
  ): Promise<void> {
    await pooledTenant(namespace, name, name);
    await eventually(
      async () => (await servedAt(`help.${name}.example`)) === `${namespace}/${name}`,
      `${name} served`,
    );
  }

  it("ranks a host by when each tenant named it: a tenant placed earlier that moves its URL onto a later tenant's host is the one told it waits, also by a restarted operator (ADR 0230)", async () => {
    await pooledTenant(first, 'early', 'early');
    await pooledTenant(later, 'late', 'late');
    const lateClaims = await hostClaimsOf(later, 'late');
    const earlyBefore = await hostClaimsOf(first, 'early');
    await movePortal(first, 'early', 'https://help.late.example');
    const waiting = await eventually(async () => {
      const seen = await poolReady(first, 'early');
      return seen.condition?.reason === HOST_CLAIMED_REASON ? seen : undefined;
    }, 'early told that late holds the host it moved to');
    expect(waiting.condition?.message).to.contain(
      `its portal at help.late.example (spec.portal.url): JsmSsoTenant ${later}/late claimed that host first`,
    );
    expect(waiting.condition?.message).not.to.contain('its broker');
    expect((await poolReady(later, 'late')).condition?.reason).to.equal('PoolNotReady');
    // The host newly named is claimed now; the one early kept keeps its time.
    expect(lateClaims['portal']?.host).to.equal('help.late.example');
    const earlyAfter = await hostClaimsOf(first, 'early');
    expect(earlyAfter['portal']?.host).to.equal('help.late.example');
    expect(Date.parse(earlyAfter['portal']!.since)).to.be.above(Date.parse(lateClaims['portal']!.since));
    expect(earlyAfter['broker']).to.deep.equal(earlyBefore['broker']);

    // Another operator (a restart, a new leader) reads the same claims: it rewrites no projection, and
    // tells the same tenant.
    await controller.stop();
    client.close();
    const writes: string[] = [];
    await startOperator((method, path) => writes.push(`${method} ${path}`));
    await operatorIdle(controller);
    expect(writes.filter((w) => w.includes(`/namespaces/${pools}/secrets`))).to.deep.equal([]);
    expect((await poolReady(first, 'early')).condition?.reason).to.equal(HOST_CLAIMED_REASON);
    expect((await poolReady(later, 'late')).condition?.reason).to.equal('PoolNotReady');

    await env.client.delete(objectPath(KINDS.tenant, later, 'late'));
    await eventually(async () => {
      const seen = await poolReady(first, 'early');
      return seen.condition?.reason === 'PoolNotReady' ? seen : undefined;
    }, 'early served once late is gone');
  });

  it('serves at a host the tenant the operator reports served there, once its holder moves its URL onto a host a third tenant holds (ADR 0230)', async () => {
    await withPortalPool('shared', async ({ servedAt }) => {
      await pooledTenant(first, 'leaver', 'leaver');
      await servedTenant(servedAt, first, 'keeper');
      // `taker` names leaver's portal host: it waits, and is told so.
      await pooledTenant(later, 'taker', 'taker');
      await movePortal(later, 'taker', 'https://help.leaver.example');
      await untilPoolReady(
        later,
        'taker',
        HOST_CLAIMED_REASON,
        'taker told leaver holds help.leaver.example',
      );
      // leaver gives its host up for keeper's: it is the one that waits now.
      await movePortal(first, 'leaver', 'https://help.keeper.example');
      await untilPoolReady(
        first,
        'leaver',
        HOST_CLAIMED_REASON,
        'leaver told keeper holds help.keeper.example',
      );
      const told = await eventually(async () => {
        const seen = await poolReady(later, 'taker');
        return seen.condition && seen.condition.reason !== HOST_CLAIMED_REASON ? seen : undefined;
      }, 'taker told it is served at help.leaver.example');
      expect(told.condition?.reason).to.equal('PoolNotReady');
      await operatorIdle(controller);
      // The pool agrees: taker is served at the host its status says it is served at.
      expect(await servedAt('help.leaver.example')).to.equal(`${later}/taker`);
      expect(await servedAt('help.keeper.example')).to.equal(`${first}/keeper`);

      // Once keeper goes, leaver is served where it moved to, and taker stays where it is.
      await env.client.delete(objectPath(KINDS.tenant, first, 'keeper'));
      await eventually(
        async () => (await servedAt('help.keeper.example')) === `${first}/leaver`,
        'leaver served at help.keeper.example',
      );
      expect(await servedAt('help.leaver.example')).to.equal(`${later}/taker`);
    });
  });

  /**
   * Tenant `namespace/name`'s PoolReady message once it judges the tenant's generation, which must say
   * that JsmSsoTenant `holder` holds its host.
   */
  async function toldHeldBy(namespace: string, name: string, holder: string): Promise<string> {
    const told = await eventually(async () => {
      const seen = await poolReady(namespace, name);
      return seen.tenant?.metadata.generation === seen.condition?.observedGeneration ? seen : undefined;
    }, `${name}'s placement judged`);
    expect(told.condition?.reason, told.condition?.message).to.equal(HOST_CLAIMED_REASON);
    expect(told.condition?.message).to.contain(`JsmSsoTenant ${holder} claimed that host first`);
    return told.condition?.message ?? '';
  }

  it('tells a tenant naming a host that a tenant whose edit was not placed still holds it, as the pool serves that tenant there (ADR 0230)', async () => {
    await withPortalPool('shared', async ({ servedAt }) => {
      await servedTenant(servedAt, first, 'stuck');
      // stuck's team moves its URL away and, in the same edit, names a Secret that does not exist:
      // the operator places nothing of the edit, so the pool serves stuck's last projection, at its host.
      await eventually(async () => {
        const live = await env.client.get<JsmSsoTenant & KubeObject>(
          objectPath(KINDS.tenant, first, 'stuck'),
        );
        const spec = live!.spec;
        try {
          await env.client.request('PUT', objectPath(KINDS.tenant, first, 'stuck'), {
            body: {
              ...live,
              spec: {
                ...spec,
                portal: { ...spec.portal, url: 'https://help.elsewhere.example' },
                atlassian: { ...spec.atlassian, credentialsSecretRef: { name: 'not-there' } },
              },
            },
          });
          return true;
        } catch (err) {
          if (isConflict(err)) return false;
          throw err;
        }
      }, "stuck's unplaceable edit");
      await eventually(async () => {
        const t = (await poolReady(first, 'stuck')).tenant;
        return t?.status?.conditions?.find((c) => c.type === 'ConfigValid')?.reason === 'SecretMissing';
      }, 'stuck told its Secret is missing');
      expect((await hostClaimsOf(first, 'stuck'))['portal']?.host).to.equal('help.stuck.example');

      await pooledTenant(later, 'claimer', 'claimer');
      await movePortal(later, 'claimer', 'https://help.stuck.example');
      await operatorIdle(controller);
      expect(await servedAt('help.stuck.example')).to.equal(`${first}/stuck`);
      await toldHeldBy(later, 'claimer', `${first}/stuck`);
    });
  });

  it('tells a tenant it is served once the holder of its host moves to another port of the host name', async () => {
    await pooledTenant(first, 'porter', 'porter');
    await pooledTenant(later, 'waiter', 'porter');
    await untilPoolReady(later, 'waiter', HOST_CLAIMED_REASON, 'waiter told porter holds its hosts');
    // The host name stays, so do the operator's keys for it: the claims under them change all the same.
    await movePortal(first, 'porter', 'https://help.porter.example:8443');
    await eventually(async () => {
      const seen = await poolReady(later, 'waiter');
      return seen.condition?.message.includes('its portal') === false ? seen : undefined;
    }, 'waiter told its portal is served');
    expect((await poolReady(later, 'waiter')).condition?.message).to.contain(
      'its broker at sso.porter.example',
    );
  });

  /** Tenant `namespace/name`'s condition of `type`, as stored. */
  async function conditionOf(namespace: string, name: string, type: string) {
    const { tenant } = await poolReady(namespace, name);
    return { tenant, condition: tenant?.status?.conditions?.find((c) => c.type === type) };
  }

  it("tells a served tenant whose certificate the pool passes over for an earlier tenant's at its host name on another port, without calling it not ready, and stops once that tenant goes (ADR 0235)", async () => {
    await createPool(env.client, pools, 'tls', { portal: { tls: {} } });
    await withPortalPool('tls', async ({ certificateOf }) => {
      for (const [namespace, name] of [
        [first, 'named'],
        [later, 'ported'],
      ] as const)
        await env.client.create(
          collectionPath(KINDS.secret, namespace),
          secretObject(namespace, `${name}-tls`, { 'tls.crt': `${name} cert`, 'tls.key': `${name} key` }),
        );
      const ownCertificate = (name: string) => ({ tlsSecretRef: { name: `${name}-tls` } });
      await pooledTenant(first, 'named', 'named', { pool: 'tls', portal: ownCertificate('named') });
      // Its own host (another port), its own certificate: SNI carries no port, so one of the two is served.
      await pooledTenant(later, 'ported', 'ported', {
        pool: 'tls',
        portal: { url: 'https://help.named.example:8443', ...ownCertificate('ported') },
      });
      // Another port again, and no certificate of its own: nothing of its own to pass over.
      await pooledTenant(later, 'plain', 'plain', {
        pool: 'tls',
        portal: { url: 'https://help.named.example:9443' },
      });
      const told = await eventually(async () => {
        const seen = await conditionOf(later, 'ported', TLS_CONDITION);
        return seen.condition?.reason === SERVER_NAME_CLAIMED_REASON ? seen : undefined;
      }, "ported told named's certificate is served for its host name");
      expect(told.condition?.status).to.equal('False');
      expect(told.condition?.observedGeneration).to.equal(told.tenant?.metadata.generation);
      expect(told.condition?.message).to.contain(
        `its portal at help.named.example:8443 (spec.portal.tlsSecretRef): clients naming help.named.example get the certificate of JsmSsoTenant ${first}/named,`,
      );
      // Still served at its own host: neither PoolReady nor Ready says otherwise.
      const conditions = told.tenant?.status?.conditions ?? [];
      expect(conditions.find((c) => c.type === 'PoolReady')?.reason).to.equal('PoolNotReady');
      expect(conditions.find((c) => c.type === 'Ready')?.reason).to.equal('PoolNotReady');
      const warning = await eventually(
        () => eventAbout(env.client, later, 'ported', SERVER_NAME_CLAIMED_REASON),
        'a Warning Event on ported',
      );
      expect(warning.type).to.equal('Warning');
      expect((await conditionOf(first, 'named', TLS_CONDITION)).condition).to.include({
        status: 'True',
        reason: 'CertificateServed',
      });
      expect((await conditionOf(later, 'plain', TLS_CONDITION)).condition).to.equal(undefined);
      // The pool agrees: a client naming the host name gets named's certificate.
      await operatorIdle(controller);
      expect(certificateOf('help.named.example')).to.equal(`${first}/named`);

      // A restarted operator (a new leader, a resync) says the same and writes nothing.
      await controller.stop();
      client.close();
      const writes: string[] = [];
      await startOperator((method, path) => writes.push(`${method} ${path}`));
      await operatorIdle(controller);
      expect(writes.filter((w) => w.includes('/jsmssotenants/'))).to.deep.equal([]);

      await env.client.delete(objectPath(KINDS.tenant, first, 'named'));
      const served = await eventually(async () => {
        const seen = await conditionOf(later, 'ported', TLS_CONDITION);
        return seen.condition?.status === 'True' ? seen : undefined;
      }, "ported's certificate served once named is gone");
      expect(served.condition?.reason).to.equal('CertificateServed');
      await eventually(
        async () => certificateOf('help.named.example') === `${later}/ported`,
        "the pool serving ported's certificate",
      );
    });
  });

  it("tells a tenant naming a host that a former tenant's projection, left behind until the pool collects it, holds it, as the pool serves it there (ADR 0235)", async () => {
    await withPortalPool('shared', async ({ servedAt }) => {
      await servedTenant(servedAt, first, 'former');
      // Its projection is held past its deletion (a finalizer of someone else's), so that the time
      // until the pool collects it, short otherwise, lasts until the test lets it go.
      const projection = objectPath(KINDS.secret, pools, placedNameOf(first, 'former'));
      const hold = (finalizers: string[] | null) =>
        env.client.request('PATCH', projection, {
          body: { metadata: { finalizers } },
          contentType: 'application/merge-patch+json',
        });
      await hold(['test.jsm-sso.io/hold']);
      // Its finalizer removed by hand and the tenant deleted, the operator stopped meanwhile so it
      // cannot put its finalizer back: the projection is left for the pool's reconcile to collect.
      await controller.stop();
      client.close();
      await env.client.request('PATCH', objectPath(KINDS.tenant, first, 'former'), {
        body: { metadata: { finalizers: null } },
        contentType: 'application/merge-patch+json',
      });
      await env.client.delete(objectPath(KINDS.tenant, first, 'former'));
      await startOperator();

      await pooledTenant(later, 'third', 'former');
      await operatorIdle(controller);
      expect(await servedAt('help.former.example')).to.equal(`${first}/former`);
      expect(await toldHeldBy(later, 'third', `${first}/former`)).to.contain('left behind');

      // Collected: the pool serves third there, and its status says so.
      await hold(null);
      await eventually(
        async () => (await servedAt('help.former.example')) === `${later}/third`,
        'third served once the projection is collected',
      );
      await untilPoolReady(later, 'third', 'PoolNotReady', 'third told it is served');
    });
  });
});
