import { randomUUID } from 'node:crypto';
import type { SAML } from '@node-saml/node-saml';
import { expect } from 'chai';
import type { RedisFlowStore } from '../../common/flowstore/index.js';
import { createMetricsRegistry } from '../../common/metrics.js';
import { type RunningPool, startPool } from '../../common/pool/start.js';
import { type DevIdp, startDevIdp } from '../../dev/idp/provider.js';
import { type RunningJsmEmulator, startJsmEmulator } from '../../dev/jsm-emulator/emulator.js';
import {
  Browser as BrokerBrowser,
  createPki,
  devClient,
  formFields,
  loginAtDevIdp,
  oidcIdp,
  type Pki,
  portalSp,
  startBrokerPool,
  tenantFor,
} from '../../testkit/broker-harness.js';
import { capturedLogger } from '../../testkit/captured-logs.js';
import { listenOnPorts, MemoryTenantSource, tenantAt } from '../../testkit/pool.js';
import {
  Browser,
  signedBrokerResponse,
  signInWith,
  signOut,
  startLogin,
} from '../../testkit/portal-harness.js';
import {
  type PortalTenant,
  portalPoolOf,
  portalPoolTenants,
  removePortalPoolTenants,
} from '../../testkit/portal-pool-tenants.js';
import { connectedFlowStore } from '../../testkit/redis.js';

// Two tenants at one host name on different ports (ADR 0230(d)), one pool of each part serving
// both: a browser sends each tenant's cookies to the other (RFC 6265 8.5), so what one sets must not
// replace the other's (ADR 0369). The testkit browsers keep cookies per host, not per port, as
// browsers do: the portal's Browser shares its jar when handed one, the broker's keys its jars by
// host name.

describe('portal pool: two help centers at one host name on different ports, one browser', function () {
  this.timeout(60_000);
  const run = randomUUID().slice(0, 8);
  const { logger } = capturedLogger({ component: 'portal' });
  let servers: Awaited<ReturnType<typeof listenOnPorts>>;
  let emulator: RunningJsmEmulator;
  let store: RedisFlowStore;
  let running: RunningPool;
  let tenants: PortalTenant[];
  const a = () => tenants[0]!;
  const b = () => tenants[1]!;

  before(async () => {
    servers = await listenOnPorts((req, res) => running.handler(req, res), 2);
    emulator = await startJsmEmulator({});
    tenants = portalPoolTenants(servers.urls, emulator.url, run);
    store = await connectedFlowStore(`shared-host-${run}`);
    running = await startPool({ ...portalPoolOf(tenants), store, registry: createMetricsRegistry(), logger });
  });

  after(async () => {
    await running?.close();
    await servers?.close();
    await store?.close();
    await emulator?.close();
    removePortalPoolTenants(tenants);
  });

  it('keeps a customer signed in at A after signing in at B, and at B after signing out at A', async () => {
    expect(new URL(a().url).hostname).to.equal(new URL(b().url).hostname);
    const atA = await signInWith(new Browser(a().url), a().brokerKey, 'alice@acme.test');
    const atB = await signInWith(new Browser(b().url, atA.cookies), b().brokerKey, 'bob@acme.test');
    const profileAtA = await atA.text('/profile');
    expect(profileAtA.status).to.equal(200);
    expect(profileAtA.body).to.contain('Alice Anders');
    const profileAtB = await atB.text('/profile');
    expect(profileAtB.status).to.equal(200);
    expect(profileAtB.body).to.contain('Bob Brown');
    await signOut(atA);
    expect((await atA.fetch('/profile')).status).to.equal(303);
    expect((await atB.fetch('/profile')).status).to.equal(200);
  });

  it('finishes two sign-ins started at A and at B in two tabs of one browser', async () => {
    const atA = new Browser(a().url);
    const atB = new Browser(b().url, atA.cookies);
    const startedAtA = await startLogin(atA);
    const startedAtB = await startLogin(atB);
    for (const [browser, tenant, { requestId }] of [
      [atA, a(), startedAtA],
      [atB, b(), startedAtB],
    ] as const) {
      const acs = await browser.post(
        '/saml/acs',
        {
          SAMLResponse: signedBrokerResponse(tenant.url, tenant.brokerKey, {
            email: 'alice@acme.test',
            inResponseTo: requestId,
          }),
        },
        { origin: 'null' },
      );
      expect(acs.status, tenant.name).to.equal(303);
    }
    expect((await atA.fetch('/profile')).status).to.equal(200);
    expect((await atB.fetch('/profile')).status).to.equal(200);
  });
});

describe('broker pool: two brokers at one host name on different ports, one browser', function () {
  this.timeout(60_000);
  const run = randomUUID().slice(0, 8);
  const { logger } = capturedLogger({ component: 'broker' });
  let servers: Awaited<ReturnType<typeof listenOnPorts>>;
  let idp: DevIdp;
  let store: RedisFlowStore;
  let running: RunningPool;
  let tenants: Array<{ url: string; pki: Pki; portal: SAML }>;

  before(async () => {
    servers = await listenOnPorts((req, res) => running.handler(req, res), 2);
    idp = await startDevIdp({
      clients: servers.urls.map((url, i) => devClient(url, { client_id: `jsm-sso-${i}` })),
    });
    const source = new MemoryTenantSource();
    tenants = servers.urls.map((url, i) => {
      const name = `shared-host-${'ab'[i]}-${run}`;
      const idpDoc = oidcIdp('corporate', idp.issuer);
      idpDoc['oidc'].clientId = `jsm-sso-${i}`;
      const pki = createPki();
      source.upsert({
        key: name,
        tenant: tenantAt(tenantFor(url, [idpDoc]), 'broker', name, url),
        secrets: pki.secrets,
      });
      return { url, pki, portal: portalSp(url, pki) };
    });
    store = await connectedFlowStore(`shared-host-broker-${run}`);
    running = await startBrokerPool({ source, store, registry: createMetricsRegistry(), logger });
  });

  after(async () => {
    await running?.close();
    await servers?.close();
    await idp?.close();
    await store?.close();
    for (const t of tenants ?? []) t.pki.cleanup();
  });

  it('finishes a sign-in started at A after one was started at B in the same browser, then B', async () => {
    const browser = new BrokerBrowser();
    const started: string[] = [];
    for (const t of tenants) {
      const authorizeUrl = await t.portal.getAuthorizeUrlAsync(`rs-${t.url}`, undefined, {});
      const sso = await browser.request(authorizeUrl);
      expect(sso.status).to.equal(302);
      started.push(new URL(sso.headers.get('location')!, authorizeUrl).href);
    }
    const [a, b] = tenants as [(typeof tenants)[0], (typeof tenants)[0]];
    const atA = await loginAtDevIdp(browser, started[0]!, { brokerUrl: a.url });
    // The IdP's own session, from A's sign-in, sends B's flow straight back to B's callback.
    const { location } = await browser.follow(started[1]!, `${b.url}/oidc/callback`);
    const atB = await browser.request(location!);
    for (const [t, page, fields] of [
      [a, atA.page, atA.fields],
      [b, atB, formFields(await atB.text())],
    ] as const) {
      expect(page.status, t.url).to.equal(200);
      expect(fields['RelayState']).to.equal(`rs-${t.url}`);
      const { profile } = await t.portal.validatePostResponseAsync(fields);
      expect(profile?.nameID).to.equal('alice@acme.test');
    }
  });
});
