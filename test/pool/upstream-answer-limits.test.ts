// One broker pool process, two tenants (ADR 0149 in a pool): tenant A's IdP answers its token
// request with an endless body (a TCP proxy in front of a real oidc-provider makes it as the broker
// reads), while tenant B's people sign in through their own IdP at the same moment. A's sign-in is
// 502 UPSTREAM_RESPONSE_TOO_LARGE, having read no more than the limit; B's are untouched: the bound
// is per call, and one tenant's upstream cannot fill the memory the others are served from.
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { MemoryFlowStore } from '../../common/flowstore/index.js';
import { createMetricsRegistry } from '../../common/metrics.js';
import type { RunningPool } from '../../common/pool/start.js';
import { DEFAULT_MAX_RESPONSE_BYTES } from '../../common/tls/index.js';
import { type DevIdp, startDevIdp } from '../../dev/idp/provider.js';
import {
  Browser,
  createPki,
  devClient,
  loginThroughBroker,
  oidcIdp,
  type Pki,
  pageReason,
  portalSp,
  startBrokerPool,
  tenantFor,
} from '../../testkit/broker-harness.js';
import { capturedLogger } from '../../testkit/captured-logs.js';
import { type FaultProxy, HUGE_BODY_BYTES, startFaultProxy } from '../../testkit/fault-proxy.js';
import { listenOnLoopbacks, MemoryTenantSource, tenantAt } from '../../testkit/pool.js';

/** What an endless body may have put in flight past the limit: the sockets' kernel buffers. */
const SOCKET_SLACK = 16 * 1024 * 1024;

describe("broker pool: one tenant's IdP answers without end while another tenant signs in", function () {
  this.timeout(60_000);
  const { logger, logs } = capturedLogger({ component: 'broker' });
  const store = new MemoryFlowStore();
  let servers: Awaited<ReturnType<typeof listenOnLoopbacks>>;
  let proxy: FaultProxy;
  let idpA: DevIdp;
  let idpB: DevIdp;
  let running: RunningPool;
  let tenants: { name: string; url: string; pki: Pki }[];

  before(async () => {
    servers = await listenOnLoopbacks((req, res) => running.handler(req, res), 2);
    const [urlA, urlB] = servers.urls as [string, string];
    proxy = await startFaultProxy();
    // A's IdP names the proxy as its issuer, so every call A's broker makes to it goes through the proxy.
    idpA = await startDevIdp({ clients: [devClient(urlA)], issuer: proxy.url });
    proxy.target = { host: '127.0.0.1', port: (idpA.server.address() as AddressInfo).port };
    idpB = await startDevIdp({ clients: [devClient(urlB)] });
    tenants = [
      { name: 'tenant-a', url: urlA, pki: createPki() },
      { name: 'tenant-b', url: urlB, pki: createPki() },
    ];
    const issuers = [proxy.url, idpB.issuer];
    const source = new MemoryTenantSource(
      tenants.map((t, i) => ({
        key: t.name,
        tenant: tenantAt(tenantFor(t.url, [oidcIdp('corporate', issuers[i]!)]), 'broker', t.name, t.url),
        secrets: t.pki.secrets,
      })),
    );
    running = await startBrokerPool({
      source,
      store,
      registry: createMetricsRegistry(),
      logger,
    });
  });
  after(async () => {
    await running?.close();
    await servers?.close();
    await Promise.all([idpA?.close(), idpB?.close(), proxy?.close()]);
    await store.close();
    for (const t of tenants ?? []) t.pki.cleanup();
  });

  const signIn = async (t: { url: string; pki: Pki }) => {
    const portal = portalSp(t.url, t.pki);
    const { page, html, fields } = await loginThroughBroker({ portal, brokerUrl: t.url }, new Browser());
    return { portal, status: page.status, reason: pageReason(html), fields };
  };

  it("answers A 502 UPSTREAM_RESPONSE_TOO_LARGE having read at most the limit, while B's sign-ins at the same time succeed", async () => {
    const [a, b] = tenants as [(typeof tenants)[0], (typeof tenants)[0]];
    // Both tenants' keys and discovery are read first, so the moment under test is the token call.
    for (const t of tenants) expect((await signIn(t)).status).to.equal(200);
    proxy.add({ fault: 'huge-body', method: 'POST', pathPrefix: '/token' });
    const from = logs.length;
    const [atA, ...atB] = await Promise.all([signIn(a), signIn(b), signIn(b), signIn(b)]);
    expect(proxy.hits()).to.deep.equal([1]);
    expect([atA.status, atA.reason]).to.deep.equal([502, 'UPSTREAM_RESPONSE_TOO_LARGE']);
    expect(proxy.bodyBytesSent(), 'body bytes A’s IdP sent').to.be.below(
      DEFAULT_MAX_RESPONSE_BYTES + SOCKET_SLACK,
    );
    expect(proxy.bodyBytesSent()).to.be.below(HUGE_BODY_BYTES);
    for (const attempt of atB) {
      expect([attempt.status, attempt.reason]).to.deep.equal([200, undefined]);
      const { profile } = await attempt.portal.validatePostResponseAsync(attempt.fields);
      expect(profile?.nameID).to.equal('alice@acme.test');
    }
    // The refusal is A's alone: its lines name tenant A, and B's sign-ins are logged as successes.
    const tooLarge = logs.slice(from).filter((l) => l['reason'] === 'UPSTREAM_RESPONSE_TOO_LARGE');
    expect(tooLarge.map((l) => [l['event'], l['tenant']]).sort()).to.deep.equal([
      ['broker.login', 'tenant-a'],
      ['broker.unavailable', 'tenant-a'],
    ]);
    const logins = logs
      .slice(from)
      .filter((l) => l['event'] === 'broker.login' && l['tenant'] === 'tenant-b');
    expect(logins.map((l) => l['result'])).to.deep.equal(['success', 'success', 'success']);
    // And A's next sign-in works once its IdP answers sanely.
    expect((await signIn(a)).status).to.equal(200);
  });
});
