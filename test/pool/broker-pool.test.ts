import { randomUUID } from 'node:crypto';
import type { SAML } from '@node-saml/node-saml';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import type { JsmSsoTenant } from '../../common/config/load.js';
import { JsmSsoError } from '../../common/errors.js';
import type { RedisFlowStore } from '../../common/flowstore/index.js';
import { createMetricsRegistry } from '../../common/metrics.js';
import { certificateNotAfter, createSelfSignedCertificate } from '../../common/pki.js';
import type { SecretReader } from '../../common/pool/source.js';
import type { RunningPool } from '../../common/pool/start.js';
import type { DevIdp } from '../../dev/idp/provider.js';
import { startDevIdp } from '../../dev/idp/provider.js';
import {
  Browser,
  createPki,
  devClient,
  loginAtDevIdp,
  loginThroughBroker,
  oidcIdp,
  type Pki,
  pageReason,
  portalSp,
  startBrokerPool,
  tenantFor,
} from '../../testkit/broker-harness.js';
import { capturedLogger } from '../../testkit/captured-logs.js';
import { listenOnLoopbacks, MemoryTenantSource, tenantAt, withHost } from '../../testkit/pool.js';
import { connectedFlowStore, redisUrl } from '../../testkit/redis.js';

interface PooledTenant {
  key: string;
  name: string;
  url: string;
  pki: Pki;
  tenant: JsmSsoTenant;
  portal: SAML;
}

describe('broker pool: three tenants on one broker process, routed by Host', function () {
  this.timeout(60_000);
  const run = randomUUID().slice(0, 8);
  const registry = createMetricsRegistry();
  const { logger, logs } = capturedLogger({ component: 'broker' });
  let servers: Awaited<ReturnType<typeof listenOnLoopbacks>>;
  let idp: DevIdp;
  let store: RedisFlowStore;
  let redis: Redis;
  let source: MemoryTenantSource;
  let running: RunningPool;
  let tenants: PooledTenant[];
  const a = () => tenants[0]!;
  const b = () => tenants[1]!;
  const c = () => tenants[2]!;

  before(async () => {
    servers = await listenOnLoopbacks((req, res) => running.handler(req, res), 3);
    idp = await startDevIdp({
      clients: servers.urls.map((url, i) => devClient(url, { client_id: `jsm-sso-${i}` })),
    });
    tenants = servers.urls.map((url, i) => {
      const name = `pool-${'abc'[i]}-${run}`;
      const idpDoc = oidcIdp('corporate', idp.issuer);
      idpDoc['oidc'].clientId = `jsm-sso-${i}`;
      const pki = createPki();
      const tenant = tenantAt(tenantFor(url, [idpDoc]), 'broker', name, url);
      return { key: name, name, url, pki, tenant, portal: portalSp(url, pki) };
    });
    store = await connectedFlowStore(`pool-${run}`);
    redis = new Redis(redisUrl());
    source = new MemoryTenantSource(
      tenants.map((t) => ({ key: t.key, tenant: t.tenant, secrets: t.pki.secrets })),
    );
    running = await startBrokerPool({
      source,
      store,
      registry,
      logger,
      retireAfterMs: 100,
    });
  });

  after(async () => {
    await running?.close();
    await servers?.close();
    await idp?.close();
    await store?.close();
    redis?.disconnect();
    for (const t of tenants ?? []) t.pki.cleanup();
  });

  it("serves each tenant's own metadata at its host, with its own signing certificate", async () => {
    for (const t of tenants) {
      const body = await (await fetch(`${t.url}/saml/metadata`)).text();
      expect(body).to.contain(`entityID="${t.url}/saml/metadata"`);
      const der = t.pki.brokerCert.replace(/-----[A-Z ]+-----|\s/g, '');
      expect(body.replace(/\s/g, '')).to.contain(der);
      for (const other of tenants.filter((o) => o !== t)) expect(body).not.to.contain(other.url);
    }
  });

  it('answers 404 POOL_TENANT_UNKNOWN for a host no tenant has, never another tenant', async () => {
    for (const host of ['portal.other.example', `127.0.0.9:${new URL(a().url).port}`]) {
      const answer = await withHost(a().url, host, '/saml/metadata');
      expect(answer.status, host).to.equal(404);
      expect(answer.body).to.contain('POOL_TENANT_UNKNOWN');
      expect(answer.body).not.to.contain('EntityDescriptor');
      expect(answer.headers['content-security-policy']).to.contain("default-src 'none'");
      expect(answer.headers['x-content-type-options']).to.equal('nosniff');
    }
    expect(logs.some((l) => l['event'] === 'pool.refusal' && l['reason'] === 'POOL_TENANT_UNKNOWN')).to.equal(
      true,
    );
  });

  it("signs a person in at tenant A; the Response is A's and tenant B's portal refuses it", async () => {
    const { page, fields } = await loginThroughBroker(
      { portal: a().portal, brokerUrl: a().url },
      new Browser(),
    );
    expect(page.status).to.equal(200);
    const { profile } = await a().portal.validatePostResponseAsync(fields);
    expect(profile?.nameID).to.equal('alice@acme.test');
    // B's portal trusts B's broker key only: A's assertion is worth nothing there.
    let refusal: unknown;
    await b()
      .portal.validatePostResponseAsync(fields)
      .catch((err: unknown) => {
        refusal = err;
      });
    expect(String(refusal)).to.match(/InResponseTo|signature|issuer/i);
  });

  it("refuses at tenant B a flow started at tenant A (A's callback and flow cookie sent to B's host)", async () => {
    const browser = new Browser();
    const authorizeUrl = await a().portal.getAuthorizeUrlAsync('rs-a', undefined, {});
    const sso = await browser.request(authorizeUrl);
    expect(sso.status).to.equal(302);
    const idpUrl = new URL(sso.headers.get('location')!, authorizeUrl).href;
    const atB = await loginAtDevIdp(browser, idpUrl, { brokerUrl: a().url, callbackAt: b().url });
    expect(atB.page.status).to.be.within(400, 499);
    expect(pageReason(atB.html)).to.equal('OIDC_STATE_UNKNOWN');
    expect(atB.fields['SAMLResponse']).to.equal(undefined);
    // B looked A's state up in its own namespace only: A's flow is untouched and still completes.
    const atA = await browser.request(atB.callbackUrl);
    expect(atA.status).to.equal(200);
    const fields = Object.fromEntries(
      [...(await atA.text()).matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    );
    expect(fields['RelayState']).to.equal('rs-a');
  });

  it("refuses at tenant B an AuthnRequest signed by tenant A's portal", async () => {
    const authorizeUrl = new URL(await a().portal.getAuthorizeUrlAsync('rs-x', undefined, {}));
    const atB = await new Browser().request(`${b().url}${authorizeUrl.pathname}${authorizeUrl.search}`);
    expect(atB.status).to.be.within(400, 499);
    expect(pageReason(await atB.text())).to.match(/^SAML_/);
  });

  it("keeps each tenant's flows and one-time markers under its own Redis prefix", async () => {
    const keysOf = async (t: PooledTenant) => redis.keys(`jsm-sso:${t.name}:*`);
    expect(await keysOf(a())).to.not.be.empty;
    expect(await keysOf(c())).to.deep.equal([]);
    const all = await redis.keys(`jsm-sso:*${run}*`);
    expect(all.filter((key) => !tenants.some((t) => key.startsWith(`jsm-sso:${t.name}:`)))).to.deep.equal([]);
  });

  it('labels sign-ins by tenant and aggregates the other series as the pool\'s (tenant="*")', async () => {
    const text = await registry.metrics();
    expect(text).to.contain(
      `jsm_sso_broker_logins_total{tenant="${a().name}",idp="corporate",result="success"} 2`,
    );
    expect(text).not.to.match(new RegExp(`jsm_sso_broker_logins_total\\{tenant="${b().name}"`));
    expect(text).to.match(/jsm_sso_broker_refusals_total\{tenant="\*",reason="OIDC_STATE_UNKNOWN"\} 1/);
    expect(text).to.match(/jsm_sso_broker_request_duration_seconds_count\{tenant="\*",route="[^"]+"\} \d+/);
    for (const t of tenants)
      expect(text).to.contain(
        `jsm_sso_signing_certificate_expiry_timestamp_seconds{tenant="${t.name}",part="broker",slot="current"}`,
      );
    const login = logs.find((l) => l['event'] === 'broker.login');
    expect(login).to.include({ tenant: a().name, component: 'broker', result: 'success' });
    const refusal = logs.find((l) => l['event'] === 'broker.refusal' && l['reason'] === 'OIDC_STATE_UNKNOWN');
    expect(refusal).to.include({ tenant: b().name });
  });

  it("labels request durations by route, never by a tenant's base path or IdP names (ADR 0101's bound)", async () => {
    // Tenant A under a base path of its own, with two IdPs named as no other tenant's: each IdP has
    // its own callback path (ADR 0175), and a pool's tenants may name theirs anything.
    const names = [`north-${run}`, `south-${run}`];
    const idps = names.map((name) => oidcIdp(name, idp.issuer, { emailDomains: [`${name}.test`] }));
    const url = `${a().url}/sso-${run}`;
    source.upsert({
      key: a().key,
      tenant: tenantAt(tenantFor(url, idps), 'broker', a().name, url),
      secrets: a().pki.secrets,
    });
    try {
      for (const name of names) {
        const answer = await fetch(`${url}/oidc/callback/${name}?state=x&code=y`);
        expect(answer.status).to.be.within(400, 499);
      }
      const routes = [
        ...(await registry.metrics()).matchAll(
          /jsm_sso_broker_request_duration_seconds_count\{tenant="\*",route="([^"]+)"\}/g,
        ),
      ].map((match) => match[1]);
      expect(routes).to.include('/oidc/callback/:idp');
      expect(routes.filter((route) => route!.includes(run))).to.deep.equal([]);
    } finally {
      source.upsert({ key: a().key, tenant: a().tenant, secrets: a().pki.secrets });
    }
  });

  it('serves a broker whose URL has a path at that path: its metadata, its sign-in start and the chooser posting there', async () => {
    // A portal at / and its broker at /sso on one host is what the tenant's Ingress is made for.
    const url = `${a().url}/sso-${run}`;
    const idps = ['north', 'south'].map((name) =>
      oidcIdp(name, idp.issuer, { emailDomains: [`${name}.test`] }),
    );
    source.upsert({
      key: a().key,
      tenant: tenantAt(tenantFor(url, idps), 'broker', a().name, url),
      secrets: a().pki.secrets,
    });
    try {
      const metadata = await fetch(`${url}/saml/metadata`);
      expect(metadata.status).to.equal(200);
      expect(await metadata.text()).to.contain(`entityID="${url}/saml/metadata"`);
      const browser = new Browser();
      const chooser = await browser.request(
        await portalSp(url, a().pki).getAuthorizeUrlAsync('rs-p', undefined, {}),
      );
      expect(chooser.status).to.equal(200);
      const page = await chooser.text();
      expect(page).to.contain(`action="/sso-${run}/saml/choose"`);
      const chosen = await browser.request(`${url}/saml/choose`, {
        method: 'POST',
        form: { csrf: /name="csrf" value="([^"]+)"/.exec(page)![1]!, idp: 'north' },
      });
      expect(chosen.status).to.equal(303);
      expect(chosen.headers.get('location')!.startsWith(idp.issuer)).to.equal(true);
    } finally {
      source.upsert({ key: a().key, tenant: a().tenant, secrets: a().pki.secrets });
    }
  });

  it("ends nothing of tenant A's for A's LogoutRequest sent to tenant B, nor for B's naming A's session", async () => {
    const { fields } = await loginThroughBroker({ portal: a().portal, brokerUrl: a().url }, new Browser());
    const { profile } = await a().portal.validatePostResponseAsync(fields);
    // A's portal-signed request at B's host: B trusts its own portal's key and its own address only.
    const fromA = new URL(await a().portal.getLogoutUrlAsync(profile!, 'rs-a', {}));
    const atB = await fetch(`${b().url}${fromA.pathname}${fromA.search}`, { redirect: 'manual' });
    expect(atB.status).to.equal(400);
    expect(pageReason(await atB.text())).to.match(/^SAML_/);
    // B's portal (another customer of the pool) names A's person and SessionIndex: B's broker looks
    // in B's namespace only and finds nothing to end.
    const fromB = await new Browser().request(await b().portal.getLogoutUrlAsync(profile!, 'rs-b', {}));
    expect(fromB.status).to.equal(302);
    expect(new URL(fromB.headers.get('location')!).pathname).to.equal('/saml/slo');
    // A's session is still there: A's own LogoutRequest still leads to the IdP.
    const atA = await new Browser().request(await a().portal.getLogoutUrlAsync(profile!, 'rs-a2', {}));
    expect(atA.headers.get('location')!.startsWith(idp.issuer)).to.equal(true);
  });

  it('takes a removed tenant out at once (404), and serves it again when it comes back', async () => {
    source.remove(b().key);
    const gone = await fetch(`${b().url}/saml/metadata`);
    expect(gone.status).to.equal(404);
    expect(await gone.text()).to.contain('POOL_TENANT_UNKNOWN');
    expect((await fetch(`${a().url}/saml/metadata`)).status).to.equal(200);
    source.upsert({ key: b().key, tenant: b().tenant, secrets: b().pki.secrets });
    expect((await fetch(`${b().url}/saml/metadata`)).status).to.equal(200);
  });

  it('rebuilds a changed tenant on its next request (a new signing key is in its metadata at once)', async () => {
    source.upsert({ key: a().key, tenant: a().tenant, secrets: c().pki.secrets });
    const rotated = await (await fetch(`${a().url}/saml/metadata`)).text();
    expect(rotated.replace(/\s/g, '')).to.contain(c().pki.brokerCert.replace(/-----[A-Z ]+-----|\s/g, ''));
    expect(logs.some((l) => l['event'] === 'pool.tenant_changed' && l['tenant'] === a().name)).to.equal(true);
    source.upsert({ key: a().key, tenant: a().tenant, secrets: a().pki.secrets });
    const back = await (await fetch(`${a().url}/saml/metadata`)).text();
    expect(back.replace(/\s/g, '')).to.contain(a().pki.brokerCert.replace(/-----[A-Z ]+-----|\s/g, ''));
  });

  it('refuses a bundle that claims a served host or name (POOL_TENANT_CONFLICT); the first keeps serving', async () => {
    const impostor = tenantAt(c().tenant, 'broker', `pool-d-${run}`, a().url);
    source.upsert({ key: 'impostor', tenant: impostor, secrets: c().pki.secrets });
    const sameName = tenantAt(c().tenant, 'broker', a().name, 'http://127.0.0.4:1');
    source.upsert({ key: 'same-name', tenant: sameName, secrets: c().pki.secrets });
    const conflicts = logs.filter(
      (l) => l['event'] === 'pool.tenant_invalid' && l['reason'] === 'POOL_TENANT_CONFLICT',
    );
    expect(conflicts.map((l) => l['bundle'])).to.deep.equal(['impostor', 'same-name']);
    const body = await (await fetch(`${a().url}/saml/metadata`)).text();
    expect(body.replace(/\s/g, '')).to.contain(a().pki.brokerCert.replace(/-----[A-Z ]+-----|\s/g, ''));
  });

  it('answers 503 POOL_TENANT_UNAVAILABLE for a tenant whose part cannot be built, and only for it', async () => {
    const noSecrets = {
      read: (name: string, key: string): string => {
        throw new JsmSsoError('SECRET_MISSING', `no ${name}/${key}`);
      },
      readOptional: () => undefined,
    };
    source.upsert({ key: c().key, tenant: c().tenant, secrets: noSecrets });
    const answer = await fetch(`${c().url}/saml/metadata`);
    expect(answer.status).to.equal(503);
    expect(await answer.text()).to.contain('POOL_TENANT_UNAVAILABLE');
    const failure = logs.find((l) => l['event'] === 'pool.tenant_build_failed');
    expect(failure).to.include({ tenant: c().name, reason: 'SECRET_MISSING' });
    expect((await fetch(`${a().url}/saml/metadata`)).status).to.equal(200);
    source.upsert({ key: c().key, tenant: c().tenant, secrets: c().pki.secrets });
    expect((await fetch(`${c().url}/saml/metadata`)).status).to.equal(200);
  });

  it("refuses alone a tenant whose signing key is not its certificate's: 503, CONFIG_INVALID naming the keys; the pool serves on (ADR 0354)", async () => {
    const renewed = await createSelfSignedCertificate({ commonName: 'renewed beside the old key' });
    const withRenewedCertificate: SecretReader = {
      read: (name, key) =>
        name === 'broker-signing' && key === 'tls.crt' ? renewed.certPem : c().pki.secrets.read(name, key),
      readOptional: (name, key) =>
        name === 'broker-signing' && key === 'tls.crt'
          ? renewed.certPem
          : c().pki.secrets.readOptional(name, key),
    };
    const from = logs.length;
    source.upsert({ key: c().key, tenant: c().tenant, secrets: withRenewedCertificate });
    const answer = await fetch(`${c().url}/saml/metadata`);
    expect(answer.status).to.equal(503);
    expect(await answer.text()).to.contain('POOL_TENANT_UNAVAILABLE');
    const failure = logs.slice(from).find((l) => l['event'] === 'pool.tenant_build_failed');
    expect(failure).to.include({ tenant: c().name, reason: 'CONFIG_INVALID' });
    expect(JSON.stringify(failure)).to.contain(
      'broker-signing/tls.key is not the key of broker-signing/tls.crt',
    );
    expect(JSON.stringify(failure)).not.to.contain('BEGIN');
    expect((await fetch(`${a().url}/saml/metadata`)).status).to.equal(200);
    source.upsert({ key: c().key, tenant: c().tenant, secrets: c().pki.secrets });
    expect((await fetch(`${c().url}/saml/metadata`)).status).to.equal(200);
  });

  it("parses each tenant's signing certificate once per bundle: a scrape reads no Secret, a changed bundle's certificate shows at the next", async () => {
    const reads: string[] = [];
    /** `pki`'s Secrets, counting every read, with some keys replaced. */
    const counted = (pki: Pki, replaced: Record<string, string> = {}): SecretReader => ({
      read: (name, key) => {
        reads.push(`${name}/${key}`);
        return replaced[`${name}/${key}`] ?? pki.secrets.read(name, key);
      },
      readOptional: (name, key) => {
        reads.push(`${name}/${key}`);
        return replaced[`${name}/${key}`] ?? pki.secrets.readOptional(name, key);
      },
    });
    const expiryOfB = async () => {
      const gauge = registry.getSingleMetric('jsm_sso_signing_certificate_expiry_timestamp_seconds')!;
      const series = (await gauge.get()).values.find(
        (v) => v.labels['tenant'] === b().name && v.labels['slot'] === 'current',
      );
      return series?.value;
    };
    const seconds = (pem: string) => certificateNotAfter(pem)!.getTime() / 1000;

    source.upsert({ key: b().key, tenant: b().tenant, secrets: counted(b().pki) });
    expect(await expiryOfB()).to.equal(seconds(b().pki.brokerCert));
    const firstScrape = reads.length;
    expect(firstScrape).to.be.greaterThan(0);
    await registry.metrics();
    expect(await expiryOfB()).to.equal(seconds(b().pki.brokerCert));
    expect(reads.length, 'scrapes after the first read no Secret').to.equal(firstScrape);

    const rotated = await createSelfSignedCertificate({ commonName: 'rotated', days: 30 });
    source.upsert({
      key: b().key,
      tenant: b().tenant,
      secrets: counted(b().pki, { 'broker-signing/tls.crt': rotated.certPem }),
    });
    expect(await expiryOfB()).to.equal(seconds(rotated.certPem));
    source.upsert({ key: b().key, tenant: b().tenant, secrets: b().pki.secrets });
  });

  it("does not finish at a tenant deleted and re-created under C's name a sign-in started at C (ADR 0371)", async () => {
    const incarnation = (uid: string) => ({
      key: c().key,
      tenant: c().tenant,
      secrets: c().pki.secrets,
      uid,
    });
    source.upsert(incarnation(`first-${run}`));
    try {
      const browser = new Browser();
      const authorizeUrl = await c().portal.getAuthorizeUrlAsync('rs-c', undefined, {});
      const sso = await browser.request(authorizeUrl);
      expect(sso.status).to.equal(302);
      source.remove(c().key);
      source.upsert(incarnation(`second-${run}`));
      const idpUrl = new URL(sso.headers.get('location')!, authorizeUrl).href;
      const atNew = await loginAtDevIdp(browser, idpUrl, { brokerUrl: c().url });
      expect(atNew.page.status, "the predecessor's sign-in at the new tenant").to.be.within(400, 499);
      expect(pageReason(atNew.html)).to.equal('OIDC_STATE_UNKNOWN');
      expect(atNew.fields['SAMLResponse']).to.equal(undefined);
    } finally {
      source.upsert({ key: c().key, tenant: c().tenant, secrets: c().pki.secrets });
    }
  });
});
