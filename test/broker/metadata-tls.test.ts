import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Element } from '@xmldom/xmldom';
import { expect } from 'chai';
import * as samlify from 'samlify';
import {
  BINDING_POST,
  BINDING_REDIRECT,
  certificateBase64,
  NS,
  parseIdpMetadata,
  parseSamlXml,
} from '../../common/saml/index.js';
import {
  type BrokerUnderTest,
  closeServer,
  createPki,
  type IdpDoc,
  listenPlaceholder,
  oidcIdp,
  type Pki,
  portalSp,
  serveBroker,
  tenantFor,
} from '../../testkit/broker-harness.js';
import { makeKeyPair } from '../../testkit/keys.js';
import { makeTestCa, type TestCa } from '../../testkit/pki.js';
import { upstreamIdp } from './upstream-saml.js';

async function startBroker(pki: Pki, idps: IdpDoc[]): Promise<BrokerUnderTest> {
  const { server, url } = await listenPlaceholder();
  return serveBroker(server, url, tenantFor(url, idps), pki);
}

describe('broker: IdP metadata', () => {
  let pki: Pki;
  let broker: BrokerUnderTest;
  const next = makeKeyPair('broker-next-signing');

  before(async () => {
    pki = createPki();
    writeFileSync(join(pki.dir, 'broker-signing', 'next.crt'), next.certPem);
    broker = await startBroker(pki, [oidcIdp('corporate', 'http://127.0.0.1:9')]);
  });
  after(async () => {
    await broker.close();
    pki.cleanup();
  });

  it('publishes entityID, SSO (Redirect + POST), SLO and both signing certificates (active and next)', async () => {
    const response = await fetch(`${broker.url}/saml/metadata`);
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.match(/^application\/samlmetadata\+xml/);
    const xml = await response.text();
    const root = parseSamlXml(xml).documentElement as unknown as Element;
    expect(root.namespaceURI).to.equal(NS.metadata);
    expect(root.getAttribute('entityID')).to.equal(`${broker.url}/saml/metadata`);
    const descriptor = root.getElementsByTagNameNS(NS.metadata, 'IDPSSODescriptor')[0]!;
    expect(descriptor.getAttribute('WantAuthnRequestsSigned')).to.equal('true');
    expect(descriptor.getAttribute('protocolSupportEnumeration')).to.equal(NS.protocol);
    const services = (name: string) =>
      [...descriptor.getElementsByTagNameNS(NS.metadata, name)].map((e) => [
        e.getAttribute('Binding'),
        e.getAttribute('Location'),
      ]);
    expect(services('SingleSignOnService')).to.deep.equal([
      [BINDING_REDIRECT, `${broker.url}/saml/sso`],
      [BINDING_POST, `${broker.url}/saml/sso`],
    ]);
    expect(services('SingleLogoutService')).to.deep.equal([[BINDING_REDIRECT, `${broker.url}/saml/slo`]]);
    const keys = [...descriptor.getElementsByTagNameNS(NS.metadata, 'KeyDescriptor')];
    expect(keys.map((k) => k.getAttribute('use'))).to.deep.equal(['signing', 'signing']);
    expect(
      keys.map((k) => k.getElementsByTagNameNS(NS.dsig, 'X509Certificate')[0]!.textContent),
    ).to.deep.equal([certificateBase64(pki.brokerCert), certificateBase64(next.certPem)]);
    // Our own metadata reader and samlify's (an independent one) both read it the same way.
    const parsed = parseIdpMetadata(xml);
    expect(parsed.entityId).to.equal(`${broker.url}/saml/metadata`);
    expect(parsed.signingCertificatesPem).to.have.length(2);
    const asSamlify = samlify.IdentityProvider({ metadata: xml });
    expect(asSamlify.entityMeta.getEntityID()).to.equal(`${broker.url}/saml/metadata`);
  });
});

describe('broker: TLS to IdPs (caBundleSecretRef)', () => {
  let pki: Pki;
  let ca: TestCa;
  let idpServer: Server;
  let issuer: string;
  /** The jwks_uri the discovery document names (undefined: it names none). */
  let jwksUri: () => string | undefined;
  /** Endpoints the discovery document names in place of its own https ones. */
  let endpoints: Record<string, string>;
  const brokers: BrokerUnderTest[] = [];

  before(async () => {
    pki = createPki();
    ca = makeTestCa('tenant private CA');
    mkdirSync(join(pki.dir, 'idp-ca'));
    writeFileSync(join(pki.dir, 'idp-ca', 'ca.crt'), ca.caPem);
    const cert = ca.issue({ hosts: ['127.0.0.1'] });
    const samlMetadata = upstreamIdp().getMetadata();
    // An IdP behind a private CA: OIDC discovery and SAML metadata over https.
    idpServer = createServer({ key: cert.keyPem, cert: cert.certPem }, (req, res) => {
      if (req.url === '/.well-known/openid-configuration') {
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            issuer,
            authorization_endpoint: `${issuer}/auth`,
            token_endpoint: `${issuer}/token`,
            jwks_uri: jwksUri(),
            response_types_supported: ['code'],
            subject_types_supported: ['public'],
            id_token_signing_alg_values_supported: ['RS256'],
            ...endpoints,
          }),
        );
        return;
      }
      if (req.url === '/saml-metadata') {
        res.setHeader('content-type', 'application/samlmetadata+xml');
        res.end(samlMetadata);
        return;
      }
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((resolve) => idpServer.listen(0, '127.0.0.1', resolve));
    issuer = `https://127.0.0.1:${(idpServer.address() as AddressInfo).port}`;
  });
  beforeEach(() => {
    jwksUri = () => `${issuer}/jwks`;
    endpoints = {};
  });
  after(async () => {
    for (const broker of brokers) await broker.close();
    await closeServer(idpServer as unknown as Parameters<typeof closeServer>[0]);
    ca.cleanup();
    pki.cleanup();
  });

  async function firstRedirect(idp: IdpDoc): Promise<Response> {
    const broker = await startBroker(pki, [idp]);
    brokers.push(broker);
    const portal = portalSp(broker.url, pki);
    return fetch(await portal.getAuthorizeUrlAsync('rs', undefined, {}), { redirect: 'manual' });
  }

  const oidcWith = (more: IdpDoc) => {
    const spec = oidcIdp('corporate', issuer);
    Object.assign(spec['oidc'], more);
    return spec;
  };
  const samlWith = (more: IdpDoc) => ({
    name: 'upstream',
    saml: { metadataUrl: `${issuer}/saml-metadata`, ...more },
    emailTrust: 'asserted',
  });

  it('trusts an OIDC IdP certificate issued by the tenant CA bundle', async () => {
    const response = await firstRedirect(oidcWith({ caBundleSecretRef: { name: 'idp-ca' } }));
    expect(response.status, await response.clone().text()).to.equal(302);
    expect(response.headers.get('location')!.startsWith(`${issuer}/auth?`)).to.equal(true);
  });

  it('refuses an OIDC IdP whose certificate no trusted CA issued', async () => {
    const response = await firstRedirect(oidcWith({}));
    expect(response.status).to.equal(502);
    expect(await response.text()).to.contain('OIDC_DISCOVERY_FAILED');
  });

  it('refuses an https OIDC IdP whose discovery names no jwks_uri, or one over plain http', async () => {
    const trusted = oidcWith({ caBundleSecretRef: { name: 'idp-ca' } });
    for (const uri of [undefined, `http://127.0.0.1:${new URL(issuer).port}/jwks`]) {
      jwksUri = () => uri;
      const response = await firstRedirect(trusted);
      expect(response.status, String(uri)).to.equal(502);
      expect(await response.text(), String(uri)).to.contain('OIDC_DISCOVERY_FAILED');
    }
  });

  // ADR 0324: kept, the person was sent to sign in there, and the grant refused afterwards as her answer.
  // ADR 0333: an end_session_endpoint kept, each sign-out an internal error that asked the IdP nothing.
  it('refuses an https OIDC IdP whose discovery names its token, userinfo or end-session endpoint over plain http', async () => {
    const trusted = oidcWith({ caBundleSecretRef: { name: 'idp-ca' } });
    for (const endpoint of ['token_endpoint', 'userinfo_endpoint', 'end_session_endpoint']) {
      endpoints = { [endpoint]: `http://127.0.0.1:${new URL(issuer).port}/${endpoint}` };
      const response = await firstRedirect(trusted);
      expect(response.status, endpoint).to.equal(502);
      expect(await response.text(), endpoint).to.contain('OIDC_DISCOVERY_FAILED');
    }
  });

  it('fetches SAML metadata over TLS verified with the tenant CA bundle', async () => {
    const response = await firstRedirect(samlWith({ caBundleSecretRef: { name: 'idp-ca' } }));
    expect(response.status, await response.clone().text()).to.equal(302);
    expect(response.headers.get('location')!.startsWith('https://upstream-idp.example.test/sso?')).to.equal(
      true,
    );
  });

  it('refuses SAML metadata from a server whose certificate no trusted CA issued', async () => {
    const response = await firstRedirect(samlWith({}));
    expect(response.status).to.equal(502);
    expect(await response.text()).to.contain('SAML_METADATA_UNAVAILABLE');
  });
});
