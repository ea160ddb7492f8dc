import { createHmac } from 'node:crypto';
import { expect } from 'chai';
import { resolveBrokerSettings } from '../../broker/settings.js';
import { MemoryFlowStore } from '../../common/flowstore/index.js';
import type { HopSignatureAlgorithm } from '../../common/saml/index.js';
import { ServiceProvider } from '../../portal/saml/sp.js';
import {
  Browser,
  createPki,
  listenPlaceholder,
  oidcIdp,
  type Pki,
  portalSp,
  serveBroker,
  tenantFor,
  useSigningKey,
} from '../../testkit/broker-harness.js';
import { type KeyPair, makeKeyPair } from '../../testkit/keys.js';
import { hopLogoutResponseQuery, hopResponseSignedBy } from '../../testkit/saml-fixtures.js';

/**
 * spec.signatureAlgorithm is the one algorithm of the portal–broker hop, both ways: no downgrade.
 * The attacks sign with a key the receiver does trust (during a rollover from RSA to P-256 the
 * portal trusts both certificates), only with the other algorithm, or with HMAC keyed by the public
 * certificate (the classic key confusion).
 */
const PORTAL = 'https://portal.test';
const BROKER = 'https://broker.test';
const DS = 'http://www.w3.org/2000/09/xmldsig#';
const rsa = () => makeKeyPair('hop broker rsa', 'rsa');
const ec = () => makeKeyPair('hop broker ec', 'ec');

function portalFor(algorithm: HopSignatureAlgorithm, trusted: KeyPair[]): ServiceProvider {
  const own =
    algorithm === 'rsa-sha256' ? makeKeyPair('hop portal rsa', 'rsa') : makeKeyPair('hop portal ec', 'ec');
  return new ServiceProvider({
    portalUrl: PORTAL,
    brokerUrl: BROKER,
    signingKeyPem: own.keyPem,
    signingCertPem: own.certPem,
    brokerCertificates: { kind: 'configured', certificates: async () => trusted.map((pair) => pair.certPem) },
    replayStore: new MemoryFlowStore(),
    signatureAlgorithm: algorithm,
  });
}

const responseSignedBy = (pair: KeyPair) => hopResponseSignedBy(pair, BROKER, PORTAL);

/** The Response's own signature (the first in the document) re-made as HMAC-SHA256 keyed by `secret`. */
function withHmacResponseSignature(xml: string, secret: string): string {
  const signedInfo = /<ds:SignedInfo>(.*?)<\/ds:SignedInfo>/.exec(xml)![1]!;
  const hmacInfo = signedInfo.replace(
    /<ds:SignatureMethod Algorithm="[^"]+">/,
    '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#hmac-sha256">',
  );
  const value = createHmac('sha256', secret)
    .update(`<ds:SignedInfo xmlns:ds="${DS}">${hmacInfo}</ds:SignedInfo>`)
    .digest('base64');
  return xml
    .replace(`<ds:SignedInfo>${signedInfo}</ds:SignedInfo>`, `<ds:SignedInfo>${hmacInfo}</ds:SignedInfo>`)
    .replace(
      /<ds:SignatureValue>[^<]+<\/ds:SignatureValue>/,
      `<ds:SignatureValue>${value}</ds:SignatureValue>`,
    );
}

async function refusalOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

const b64 = (xml: string) => Buffer.from(xml).toString('base64');

describe('portal: the broker must sign with spec.signatureAlgorithm exactly', () => {
  it('accepts an ecdsa-sha256 Response when ecdsa-sha256 is configured (control)', async () => {
    const assertion = await portalFor('ecdsa-sha256', [rsa(), ec()]).acs(
      b64(await responseSignedBy(ec())),
      '_request',
    );
    expect(assertion.nameId).to.equal('alice@acme.test');
  });

  it('refuses an rsa-sha256 Response from a trusted RSA certificate when ecdsa-sha256 is configured', async () => {
    const portal = portalFor('ecdsa-sha256', [rsa(), ec()]);
    expect(await refusalOf(portal.acs(b64(await responseSignedBy(rsa())), '_request'))).to.equal(
      'SAML_SIGNATURE_ALGORITHM_FORBIDDEN',
    );
  });

  it('refuses an ecdsa-sha256 Response from a trusted P-256 certificate when rsa-sha256 is configured', async () => {
    const portal = portalFor('rsa-sha256', [rsa(), ec()]);
    expect(await refusalOf(portal.acs(b64(await responseSignedBy(ec())), '_request'))).to.equal(
      'SAML_SIGNATURE_ALGORITHM_FORBIDDEN',
    );
  });

  for (const algorithm of ['ecdsa-sha256', 'rsa-sha256'] as const) {
    it(`refuses an HMAC-SHA256 Response keyed by the broker certificate when ${algorithm} is configured`, async () => {
      const pair = algorithm === 'rsa-sha256' ? rsa() : ec();
      const forged = withHmacResponseSignature(await responseSignedBy(pair), pair.certPem);
      expect(await refusalOf(portalFor(algorithm, [pair]).acs(b64(forged), '_request'))).to.equal(
        'SAML_SIGNATURE_ALGORITHM_FORBIDDEN',
      );
    });
  }

  it('refuses an rsa-sha256 Redirect LogoutResponse when ecdsa-sha256 is configured', async () => {
    const portal = portalFor('ecdsa-sha256', [rsa(), ec()]);
    const { requestId } = portal.logoutRedirect({ nameId: 'alice@acme.test' }, 'relay');
    const answer = (pair: KeyPair) => hopLogoutResponseQuery(pair, BROKER, PORTAL, requestId);
    expect(await refusalOf(portal.logoutResponse(answer(rsa()), requestId))).to.equal(
      'SAML_SIGNATURE_ALGORITHM_FORBIDDEN',
    );
    expect(await portal.logoutResponse(answer(ec()), requestId)).to.deep.equal({ success: true });
  });

  it('does not start with a key of the other kind (SIGNING_KEY_ALGORITHM_MISMATCH)', () => {
    expect(
      () =>
        new ServiceProvider({
          portalUrl: PORTAL,
          brokerUrl: BROKER,
          signingKeyPem: rsa().keyPem,
          signingCertPem: rsa().certPem,
          brokerCertificates: { kind: 'configured', certificates: async () => [] },
          replayStore: new MemoryFlowStore(),
          signatureAlgorithm: 'ecdsa-sha256',
        }),
    )
      .to.throw()
      .with.property('code', 'SIGNING_KEY_ALGORITHM_MISMATCH');
  });
});

describe('broker: the portal must sign with spec.signatureAlgorithm exactly', () => {
  let pki: Pki;
  before(() => {
    pki = createPki();
  });
  after(() => pki.cleanup());

  /** /saml/sso's answer to a node-saml AuthnRequest signed rsa-sha256 with the trusted RSA portal key. */
  async function ssoAnswer(algorithm: HopSignatureAlgorithm): Promise<Response> {
    const { server, url } = await listenPlaceholder();
    const tenant = tenantFor(url, [oidcIdp('corporate', 'http://127.0.0.1:1')], (spec) => {
      spec.signatureAlgorithm = algorithm;
    });
    const broker = await serveBroker(server, url, tenant, pki);
    try {
      const authorize = await portalSp(url, pki).getAuthorizeUrlAsync('rs', undefined, {});
      return await new Browser().request(authorize);
    } finally {
      await broker.close();
    }
  }

  it('refuses an rsa-sha256 AuthnRequest from the trusted RSA portal certificate when ecdsa-sha256 is configured', async () => {
    useSigningKey(pki, 'broker', ec());
    const answer = await ssoAnswer('ecdsa-sha256');
    expect(answer.status).to.equal(400);
    expect(await answer.text()).to.contain('SAML_SIGNATURE_ALGORITHM_FORBIDDEN');
  });

  it('does not start when its key does not fit spec.signatureAlgorithm (SIGNING_KEY_ALGORITHM_MISMATCH)', () => {
    useSigningKey(pki, 'broker', rsa());
    const tenant = tenantFor(BROKER, [oidcIdp('corporate', 'http://127.0.0.1:1')], (spec) => {
      spec.signatureAlgorithm = 'ecdsa-sha256';
    });
    expect(() => resolveBrokerSettings(tenant, pki.secrets))
      .to.throw()
      .with.property('code', 'SIGNING_KEY_ALGORITHM_MISMATCH');
  });
});
