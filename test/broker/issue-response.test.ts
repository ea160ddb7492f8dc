import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SAML, ValidateInResponseTo } from '@node-saml/node-saml';
import { expect } from 'chai';
import { compileMapping } from '../../broker/mapping.js';
import { JsmSsoError } from '../../common/errors.js';
import { issueSignedResponse, loadSigningCredential } from '../../common/saml/index.js';
import { createPki, type Pki } from '../../testkit/broker-harness.js';
import { makeKeyPair } from '../../testkit/keys.js';

const ECDSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256';

const HOSTILE =
  '</saml:AttributeValue></saml:Attribute><saml:Attribute Name="admin"><saml:AttributeValue>yes';

/** xmlsec1 checks one of the two signatures of a Response, with the certificate in `certFile`. */
function xmlsecVerifyNode(xml: string, signature: 'response' | 'assertion', certFile: string): string {
  const file = `${certFile}.${signature}.xml`;
  writeFileSync(file, xml);
  const node =
    signature === 'response'
      ? "/*/*[local-name()='Signature']"
      : "//*[local-name()='Assertion']/*[local-name()='Signature']";
  return execFileSync(
    'xmlsec1',
    [
      '--verify',
      '--id-attr:ID',
      'urn:oasis:names:tc:SAML:2.0:assertion:Assertion',
      '--id-attr:ID',
      'urn:oasis:names:tc:SAML:2.0:protocol:Response',
      '--node-xpath',
      node,
      '--pubkey-cert-pem',
      certFile,
      file,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

describe('broker: signed SAML Response', () => {
  let pki: Pki;
  before(() => {
    pki = createPki();
  });
  after(() => pki.cleanup());

  function issue(name: string) {
    const mapped = compileMapping({
      name: 'corp',
      attributeMapping: { email: 'claims.email', displayName: 'claims.name', groups: 'claims.groups' },
    })({
      idp: 'corp',
      subject: 's1',
      claims: { email: 'a&b@acme.test', name, groups: ['g1', 'g<2>'] },
      emailVerified: false,
    });
    return issueSignedResponse(loadSigningCredential(pki.brokerKey, pki.brokerCert), {
      issuer: 'https://broker.test/saml/metadata',
      audience: 'https://portal.test/saml/metadata',
      acsUrl: 'https://portal.test/saml/acs',
      inResponseTo: '_req1',
      ...mapped,
      sessionIndex: '_s1',
      // Escaped in canonical form, as the digest is computed over the text sent (ADR 0228).
      authenticatingAuthorities: ['https://home-idp.test/metadata?a=1&b=<2>', 'https://idp.test/metadata'],
      authnInstant: new Date(),
      sessionNotOnOrAfter: new Date(Date.now() + 3_600_000),
      now: new Date(),
      lifetimeSeconds: 300,
    });
  }

  function xmlsecVerify(xml: string, signature: 'response' | 'assertion'): string {
    return xmlsecVerifyNode(xml, signature, join(pki.dir, 'broker-signing', 'tls.crt'));
  }

  it('produces Response and Assertion signatures that xmlsec1 verifies, even with XML in claim values', async () => {
    const { xml } = await issue(`Mallory ${HOSTILE}\r\n"'\t`);
    expect(() => xmlsecVerify(xml, 'response')).not.to.throw();
    expect(() => xmlsecVerify(xml, 'assertion')).not.to.throw();
  });

  it('writes the AuthenticatingAuthority values after the AuthnContextClassRef, escaped, within both signatures', async () => {
    const { xml } = await issue('Alice');
    expect(xml).to.contain(
      '</saml:AuthnContextClassRef><saml:AuthenticatingAuthority>https://home-idp.test/metadata?a=1&amp;b=&lt;2&gt;</saml:AuthenticatingAuthority><saml:AuthenticatingAuthority>https://idp.test/metadata</saml:AuthenticatingAuthority></saml:AuthnContext>',
    );
    expect(() => xmlsecVerify(xml, 'assertion')).not.to.throw();
    expect(() =>
      xmlsecVerify(xml.replace('https://idp.test/metadata', 'https://evil.test/metadata'), 'assertion'),
    ).to.throw();
  });

  it('fails xmlsec1 verification when one character of the assertion changes', async () => {
    const { xml } = await issue('Alice');
    expect(() => xmlsecVerify(xml.replace('Alice', 'Alicf'), 'assertion')).to.throw();
  });

  it('signs off the event loop: callbacks queued before issuing run before the Response is ready', async () => {
    // Synchronous signing would finish the whole Response before the event loop turns once; the
    // Response signature waits for the Assertion's, so at least one loop turn happens in between.
    let immediateRan = false;
    setImmediate(() => {
      immediateRan = true;
    });
    const issuing = issue('Alice');
    expect(immediateRan).to.equal(false);
    await issuing;
    expect(immediateRan).to.equal(true);
  });

  it('keeps injected markup as text: node-saml reads the hostile name verbatim and no extra attribute', async () => {
    const { xml } = await issue(`Mallory ${HOSTILE}`);
    const sp = new SAML({
      issuer: 'https://portal.test/saml/metadata',
      audience: 'https://portal.test/saml/metadata',
      callbackUrl: 'https://portal.test/saml/acs',
      idpCert: pki.brokerCert,
      wantAssertionsSigned: true,
      wantAuthnResponseSigned: true,
      validateInResponseTo: ValidateInResponseTo.never,
    });
    const { profile } = await sp.validatePostResponseAsync({
      SAMLResponse: Buffer.from(xml).toString('base64'),
    });
    expect(profile?.['displayName']).to.equal(`Mallory ${HOSTILE}`);
    expect(profile?.['admin']).to.equal(undefined);
    expect(profile?.['groups']).to.deep.equal(['g1', 'g<2>']);
    expect(profile?.nameID).to.equal('a&b@acme.test');
  });
});

describe('broker: signed SAML Response with an ECDSA P-256 key (ecdsa-sha256)', () => {
  const pair = makeKeyPair('broker ecdsa', 'ec');
  const issue = () =>
    issueSignedResponse(loadSigningCredential(pair.keyPem, pair.certPem), {
      issuer: 'https://broker.test/saml/metadata',
      audience: 'https://portal.test/saml/metadata',
      acsUrl: 'https://portal.test/saml/acs',
      inResponseTo: '_req1',
      nameId: 'alice@acme.test',
      nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
      attributes: [{ name: 'email', values: ['alice@acme.test'] }],
      sessionIndex: '_s1',
      authnInstant: new Date(),
      sessionNotOnOrAfter: new Date(Date.now() + 3_600_000),
      now: new Date(),
      lifetimeSeconds: 300,
    });

  it('signs Response and Assertion with ecdsa-sha256 whose values are r||s (64 octets, not DER)', async () => {
    const { xml } = await issue();
    const methods = [...xml.matchAll(/<ds:SignatureMethod Algorithm="([^"]+)"/g)].map((m) => m[1]);
    expect(methods).to.deep.equal([ECDSA_SHA256, ECDSA_SHA256]);
    for (const [, value] of xml.matchAll(/<ds:SignatureValue>([^<]+)<\/ds:SignatureValue>/g)) {
      // DER would start with 0x30 and take 70–72 octets; RFC 4051 wants the two 32-octet integers.
      expect(Buffer.from(value!, 'base64')).to.have.length(64);
    }
  });

  it('xmlsec1 verifies both signatures', async () => {
    const { xml } = await issue();
    const dir = mkdtempSync(join(tmpdir(), 'jsm-sso-ec-'));
    const certFile = join(dir, 'tls.crt');
    writeFileSync(certFile, pair.certPem);
    const verifies = (text: string, signature: 'response' | 'assertion') => {
      try {
        xmlsecVerifyNode(text, signature, certFile);
        return true;
      } catch {
        return false;
      }
    };
    try {
      expect(verifies(xml, 'response')).to.equal(true);
      expect(verifies(xml, 'assertion')).to.equal(true);
      const forged = xml.replace('>alice@acme.test</saml:NameID>', '>mallory@acme.test</saml:NameID>');
      expect(verifies(forged, 'assertion')).to.equal(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // An interop result, not a wish: node-saml 5 verifies with xml-crypto 6, whose algorithm table has
  // no ECDSA and which node-saml gives no way to extend. One reason ecdsa-sha256 is opt-in, not the
  // default (docs/decisions/0063-ecdsa-for-the-broker-portal-hop.md); revisit when this fails.
  it('node-saml refuses it (xml-crypto knows no ECDSA), so RSA stays the default', async () => {
    const { xml } = await issue();
    const sp = new SAML({
      issuer: 'https://portal.test/saml/metadata',
      audience: 'https://portal.test/saml/metadata',
      callbackUrl: 'https://portal.test/saml/acs',
      idpCert: pair.certPem,
      wantAssertionsSigned: true,
      wantAuthnResponseSigned: true,
      validateInResponseTo: ValidateInResponseTo.never,
    });
    let refusal: unknown;
    await sp.validatePostResponseAsync({ SAMLResponse: Buffer.from(xml).toString('base64') }).catch((err) => {
      refusal = err;
    });
    expect((refusal as Error | undefined)?.message).to.equal('Invalid document signature');
  });

  it('refuses a signing key that is neither RSA-2048+ nor P-256 (SIGNING_KEY_UNSUPPORTED)', () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    for (const keyPem of [p384, rsa1024]) {
      expect(() => loadSigningCredential(keyPem.toString(), pair.certPem))
        .to.throw(JsmSsoError)
        .with.property('code', 'SIGNING_KEY_UNSUPPORTED');
    }
  });
});
