import { mkdirSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { expect } from 'chai';
import { Agent, type Dispatcher, getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import { type DevIdp, startDevIdp } from '../../dev/idp/provider.js';
import {
  type BrokerUnderTest,
  Browser,
  createPki,
  devClient,
  listenPlaceholder,
  loginThroughBroker,
  oidcIdp,
  type Pki,
  portalSp,
  serveBroker,
  tenantFor,
} from '../../testkit/broker-harness.js';
import { makeTestCa, type TestCa } from '../../testkit/pki.js';

/** The IdP endpoints only the broker calls (back channel); the browser calls the others. */
const BACK_CHANNEL = new Set(['/.well-known/openid-configuration', '/jwks', '/token', '/me']);

describe('broker: outbound connections to an HTTPS IdP are kept alive and reused', () => {
  let pki: Pki;
  let ca: TestCa;
  let idp: DevIdp;
  let broker: BrokerUnderTest;
  let previousDispatcher: Dispatcher;
  let browserAgent: Agent;
  /** TLS connections the IdP accepted, each with the paths requested over it. */
  const connections = new Map<Socket, string[]>();

  before(async () => {
    pki = createPki();
    ca = makeTestCa('idp CA');
    const tls = ca.issue({ hosts: ['127.0.0.1'] });
    mkdirSync(join(pki.dir, 'idp-ca'));
    writeFileSync(join(pki.dir, 'idp-ca', 'ca.crt'), ca.caPem);
    // The test's browsers trust the CA too (they open the IdP's login pages).
    previousDispatcher = getGlobalDispatcher();
    browserAgent = new Agent({ connect: { ca: [ca.caPem] } });
    setGlobalDispatcher(browserAgent);
    const { server, url } = await listenPlaceholder();
    idp = await startDevIdp({ clients: [devClient(url)], tls: { key: tls.keyPem, cert: tls.certPem } });
    idp.server.on('secureConnection', (socket: Socket) => connections.set(socket, []));
    idp.server.prependListener('request', (req: IncomingMessage) => {
      connections.get(req.socket)?.push((req.url ?? '').split('?')[0]!);
    });
    const idpDoc = oidcIdp('corporate', idp.issuer);
    idpDoc['oidc'].caBundleSecretRef = { name: 'idp-ca' };
    broker = await serveBroker(server, url, tenantFor(url, [idpDoc]), pki);
  });
  after(async () => {
    await broker?.close();
    await idp?.close();
    setGlobalDispatcher(previousDispatcher);
    await browserAgent?.close();
    ca?.cleanup();
    pki?.cleanup();
  });

  it('serves 12 sign-ins (3 at a time) over a few TLS connections from the broker, not one per call', async () => {
    const portal = portalSp(broker.url, pki);
    // One sign-in alone first: discovery and JWKS are fetched once, not raced by three sign-ins.
    await loginThroughBroker({ portal, brokerUrl: broker.url }, new Browser());
    let started = 0;
    const worker = async () => {
      while (started < 12) {
        started++;
        const { fields } = await loginThroughBroker({ portal, brokerUrl: broker.url }, new Browser());
        expect(fields['SAMLResponse'], 'the broker answered with a Response').to.be.a('string');
      }
    };
    await Promise.all([worker(), worker(), worker()]);
    const brokerConnections = [...connections.values()].filter((paths) =>
      paths.some((path) => BACK_CHANNEL.has(path)),
    );
    const backChannelCalls = brokerConnections.flat().filter((path) => BACK_CHANNEL.has(path));
    // Token and userinfo for each sign-in, discovery and JWKS once.
    expect(backChannelCalls.filter((path) => path === '/token')).to.have.length(13);
    expect(backChannelCalls.filter((path) => path === '/me')).to.have.length(13);
    expect(backChannelCalls.filter((path) => path === '/jwks')).to.have.length(1);
    // About one connection per sign-in in flight (3; undici may open one more when a call starts in
    // the very tick another's socket is being released: test/tls/client.test.ts), never one per
    // call (28).
    expect(brokerConnections.length).to.be.within(1, 6);
    // The browser's connections never carried a back-channel call, and vice versa.
    for (const paths of brokerConnections)
      expect(paths.every((path) => BACK_CHANNEL.has(path))).to.equal(true);
  });
});
