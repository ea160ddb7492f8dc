import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SAML, ValidateInResponseTo } from '@node-saml/node-saml';
import { expect } from 'chai';
import { compileMapping } from '../../broker/mapping.js';
import { issueSignedResponse, loadSigningCredential } from '../../common/saml/index.js';
import { createPki, type Pki } from '../../testkit/broker-harness.js';

const HOSTILE =
  '</saml:AttributeValue></saml:Attribute><saml:Attribute Name="admin"><saml:AttributeValue>yes';

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
    })({ idp: 'corp', subject: 's1', claims: { email: 'a&b@acme.test', name, groups: ['g1', 'g<2>'] } });
    return issueSignedResponse(loadSigningCredential(pki.brokerKey, pki.brokerCert), {
      issuer: 'https://broker.test/saml/metadata',
      audience: 'https://portal.test/saml/metadata',
      acsUrl: 'https://portal.test/saml/acs',
      inResponseTo: '_req1',
      ...mapped,
      sessionIndex: '_s1',
      authnInstant: new Date(),
      now: new Date(),
      lifetimeSeconds: 300,
    });
  }

  function xmlsecVerify(xml: string, signature: 'response' | 'assertion'): string {
    const file = join(pki.dir, `response-${signature}.xml`);
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
        join(pki.dir, 'broker-signing', 'tls.crt'),
        file,
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
  }

  it('produces Response and Assertion signatures that xmlsec1 verifies, even with XML in claim values', async () => {
    const { xml } = await issue(`Mallory ${HOSTILE}\r\n"'\t`);
    expect(() => xmlsecVerify(xml, 'response')).not.to.throw();
    expect(() => xmlsecVerify(xml, 'assertion')).not.to.throw();
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
