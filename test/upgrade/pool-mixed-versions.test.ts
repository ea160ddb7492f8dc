import { randomUUID } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { stringify } from 'yaml';
import { type DevIdp, startDevIdp } from '../../dev/idp/provider.js';
import { type RunningJsmEmulator, startJsmEmulator } from '../../dev/jsm-emulator/emulator.js';
import { SERVICE_ACCOUNT } from '../../dev/tenant.js';
import { BASELINE_COMMIT } from '../../testkit/baseline-build.js';
import {
  Browser,
  createPki,
  devClient,
  loginAtDevIdp,
  oidcIdp,
  type Pki,
  tenantFor,
} from '../../testkit/broker-harness.js';
import { eventually } from '../../testkit/envtest.js';
import { startPoolProcess, withHost } from '../../testkit/pool.js';
import { redisUrl } from '../../testkit/redis.js';
import { type RollingBalancer, rollingBalancer } from '../../testkit/rolling-balancer.js';
import { type Build, buildEntries, readyReplica } from '../../testkit/rolling-replicas.js';

type Part = 'broker' | 'portal';
/** The pools' tenants, by the loopback address each is served at: A .1, B .2, C (added later) .3. */
const TENANTS = ['a', 'b', 'c'] as const;
type Tenant = (typeof TENANTS)[number];

/**
 * A pool's rolling upgrade from BASELINE_COMMIT to this tree (ADR 0428): a broker pool and a portal pool
 * of each build (`--pool-dir`, a folder of each build's own, as each pod reads its own projections), on
 * one Redis, behind one balancer per part (testkit/rolling-balancer.ts) answering at each tenant's host.
 * Each test moves the balancer between builds in the middle of what a customer of tenant A does: her
 * session and her sign-in cross versions, her session cookie stays A's at B's host whichever version
 * serves it, and a tenant added to the folders while both run is served by both.
 */
describe(`a pool's rolling upgrade from ${BASELINE_COMMIT.slice(0, 8)}: old and new pool processes serve tenants A and B`, function () {
  // A cold baseline build (git archive, tsc) takes up to two minutes on a loaded CI machine.
  this.timeout(240_000);
  const run = randomUUID().slice(0, 8);
  const nameOf = (tenant: Tenant) => `up-${tenant}-${run}`;
  let work: string;
  let idp: DevIdp;
  let emulator: RunningJsmEmulator;
  const pkis: Pki[] = [];
  const balancers = {} as Record<Part, RollingBalancer>;
  const replicas = {} as Record<Part, Record<Build, string>>;
  const folders = {} as Record<Build, string>;
  const pools: Array<ReturnType<typeof startPoolProcess>> = [];

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'jsm-sso-pool-upgrade-'));
    const entries = buildEntries();
    balancers.broker = await rollingBalancer(TENANTS.length);
    balancers.portal = await rollingBalancer(TENANTS.length);
    idp = await startDevIdp({
      clients: TENANTS.map((t) => devClient(brokerAt(t), { client_id: `jsm-sso-${t}` })),
    });
    emulator = await startJsmEmulator();
    const redisFile = join(work, 'redis-url');
    writeFileSync(redisFile, redisUrl());
    for (const build of ['old', 'new'] as const) {
      folders[build] = join(work, build);
      mkdirSync(folders[build]);
    }
    for (const tenant of ['a', 'b'] as const) addTenant(tenant);
    // The four started at once: each spends most of its start loading its modules.
    const started = (['broker', 'portal'] as const).flatMap((part) => {
      replicas[part] = {} as Record<Build, string>;
      return (['old', 'new'] as const).map(async (build) => {
        const placement = ['--pool-dir', folders[build], '--redis-url-file', redisFile];
        const pool = startPoolProcess(part, placement, 0, {}, entries[build]);
        pools.push(pool);
        replicas[part][build] = await readyReplica(pool.urls, part, build);
      });
    });
    await Promise.all(started);
  });

  after(async () => {
    for (const pool of pools) pool.child.kill('SIGKILL');
    await Promise.all(pools.map((pool) => pool.done));
    await Promise.all(Object.values(balancers).map((b) => b.close()));
    await idp?.close();
    await emulator?.close();
    for (const pki of pkis) pki.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  function brokerAt(tenant: Tenant): string {
    return balancers.broker.urls[TENANTS.indexOf(tenant)]!;
  }
  function portalAt(tenant: Tenant, path = ''): string {
    return `${balancers.portal.urls[TENANTS.indexOf(tenant)]}${path}`;
  }
  const route = (part: Part, build: Build) => balancers[part].routeTo(replicas[part][build]);

  /**
   * Writes `tenant`'s bundle (tenant.yaml and secrets/, read by both parts) into each build's folder,
   * whole: made beside it and renamed in, so that a pool never reads half of it.
   */
  function addTenant(tenant: Tenant): void {
    const pki = createPki();
    pkis.push(pki);
    const corporate = oidcIdp('corporate', idp.issuer);
    corporate['oidc'].clientId = `jsm-sso-${tenant}`;
    const doc = tenantFor(brokerAt(tenant), [corporate], (spec) => {
      spec.portal.url = portalAt(tenant);
      spec.atlassian = { siteUrl: emulator.url, credentialsSecretRef: { name: 'atlassian' } };
      // Every sign-in of the file comes from one address and the same person.
      spec.portal.limits = { signInStarts: { perIp: 1000 }, acsPosts: { perIp: 1000, perAccount: 1000 } };
    });
    doc.metadata = { name: nameOf(tenant) };
    for (const build of ['old', 'new'] as const) {
      const made = mkdtempSync(join(work, `.${tenant}-`));
      cpSync(pki.dir, join(made, 'secrets'), { recursive: true });
      mkdirSync(join(made, 'secrets', 'atlassian'));
      writeFileSync(join(made, 'secrets', 'atlassian', 'email'), SERVICE_ACCOUNT.email);
      writeFileSync(join(made, 'secrets', 'atlassian', 'apiToken'), SERVICE_ACCOUNT.apiToken);
      writeFileSync(join(made, 'tenant.yaml'), stringify(doc));
      renameSync(made, join(folders[build], nameOf(tenant)));
    }
  }

  /** A signed-in page of `tenant`'s portal: 200 while the session lives, 303 to sign-in once it is gone. */
  async function portalPage(browser: Browser, tenant: Tenant): Promise<number> {
    const res = await browser.request(portalAt(tenant, '/requests'));
    await res.arrayBuffer();
    return res.status;
  }

  /** `tenant`'s portal /login, through its broker (one IdP: no choice page), up to the IdP. */
  async function startSignIn(browser: Browser, tenant: Tenant): Promise<string> {
    const { location, response } = await browser.follow(portalAt(tenant, '/login'), `${idp.issuer}/`);
    expect(location, `sent to the IdP: ${response?.status} ${await response?.text()}`).to.be.a('string');
    return location!;
  }

  /** The rest of a sign-in at the dev IdP: `tenant`'s broker callback, its portal's ACS. */
  async function finishSignIn(browser: Browser, tenant: Tenant, idpUrl: string): Promise<void> {
    const { fields, page, html } = await loginAtDevIdp(browser, idpUrl, { brokerUrl: brokerAt(tenant) });
    expect(page.status, `broker callback: ${html.slice(0, 300)}`).to.equal(200);
    const acs = await browser.request(portalAt(tenant, '/saml/acs'), { form: fields });
    expect(acs.status, `portal ACS: ${acs.status === 303 ? '' : await acs.text()}`).to.equal(303);
  }

  /** A customer of `tenant` signed in at the `build` pools, portal and broker. */
  async function signedInAt(tenant: Tenant, build: Build): Promise<Browser> {
    const browser = new Browser();
    route('portal', build);
    route('broker', build);
    await finishSignIn(browser, tenant, await startSignIn(browser, tenant));
    return browser;
  }

  // New on both sides first: a failure there is the harness's, told from one between the versions.
  for (const [from, to] of [
    ['new', 'new'],
    ['old', 'new'],
    ['new', 'old'],
  ] as const) {
    it(`serves A's customer signed in at the ${from} pools from the ${to} portal pool without a new sign-in`, async () => {
      const browser = await signedInAt('a', from);
      expect(await portalPage(browser, 'a'), `signed in at ${from}`).to.equal(200);
      route('portal', to);
      expect(await portalPage(browser, 'a'), `served by ${to}`).to.equal(200);
    });

    it(`finishes at the ${to} pools a sign-in to A the ${from} broker pool sent to the IdP`, async () => {
      const browser = new Browser();
      route('portal', from);
      route('broker', from);
      const idpUrl = await startSignIn(browser, 'a');
      route('broker', to);
      route('portal', to);
      await finishSignIn(browser, 'a', idpUrl);
      expect(await portalPage(browser, 'a')).to.equal(200);
    });

    it(`refuses at B's host, at the ${to} portal pool, the session cookie A's ${from} pools gave`, async () => {
      const browser = await signedInAt('a', from);
      route('portal', to);
      expect(await portalPage(browser, 'a'), `A's session at ${to}`).to.equal(200);
      // Every cookie of A's host (the portal's session among them) sent to B's host.
      const [hostOfA, hostOfB] = ['a', 'b'].map((t) => new URL(portalAt(t as Tenant)).hostname);
      browser.cookies.set(hostOfB!, new Map(browser.cookies.get(hostOfA!)));
      expect(await portalPage(browser, 'b'), `A's cookie at B, ${to}`).to.equal(303);
    });
  }

  it("serves a tenant added to both pools' folders while they run, from both versions", async () => {
    addTenant('c');
    const hostOfC = (part: Part) => new URL(part === 'broker' ? brokerAt('c') : portalAt('c')).host;
    // 404 POOL_TENANT_UNKNOWN until the pool has read the bundle (its folder's watch, else the
    // rescan every 10 s).
    for (const part of ['broker', 'portal'] as const)
      for (const build of ['old', 'new'] as const)
        await eventually(
          async () => {
            const answer = await withHost(replicas[part][build], hostOfC(part), '/saml/metadata');
            return !answer.body.includes('POOL_TENANT_UNKNOWN');
          },
          `C served by the ${build} ${part} pool`,
          30_000,
        );
    for (const [from, to] of [
      ['old', 'new'],
      ['new', 'old'],
    ] as const) {
      const browser = await signedInAt('c', from);
      route('portal', to);
      expect(await portalPage(browser, 'c'), `signed in at ${from}, served by ${to}`).to.equal(200);
    }
  });
});
