import { createSign } from 'node:crypto';
import { expect } from 'chai';
import { trustedKeys } from '../../common/saml/certificates.js';
import { signRedirectQuery, verifyRedirectSignature } from '../../common/saml/index.js';
import { makeKeyPair } from '../../testkit/keys.js';
import { refusalCode } from '../../testkit/saml-fixtures.js';

const REQUEST =
  '<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r1" Version="2.0"/>';
const sp = () => makeKeyPair('portal.example.test');

function query(relayState?: string): string {
  return signRedirectQuery('SAMLRequest', REQUEST, {
    keyPem: sp().keyPem,
    ...(relayState ? { relayState } : {}),
  });
}

describe('verifyRedirectSignature (HTTP-Redirect binding)', () => {
  it('accepts a signed query and returns the inflated message and RelayState', () => {
    const result = verifyRedirectSignature(query('flow 1/ä'), 'SAMLRequest', [sp().certPem]);
    expect(result).to.deep.equal({
      xml: REQUEST,
      relayState: 'flow 1/ä',
      sigAlg: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    });
  });

  it('verifies the raw octets as received, whatever percent-encoding the sender chose', () => {
    // Lower-case escapes are legal but differ from what a re-encoding verifier would produce.
    const lower = query('a/b').replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
    const reSigned = lower.split('&Signature=')[0]!;
    const signature = createSign('sha256').update(reSigned).sign(sp().keyPem, 'base64');
    const raw = `${reSigned}&Signature=${encodeURIComponent(signature)}`;
    expect(verifyRedirectSignature(raw, 'SAMLRequest', [sp().certPem]).relayState).to.equal('a/b');
  });

  it('accepts an ECDSA-signed query', () => {
    const ec = makeKeyPair('portal-ec.example.test', 'ec');
    const raw = signRedirectQuery('SAMLResponse', REQUEST, { keyPem: ec.keyPem });
    expect(verifyRedirectSignature(raw, 'SAMLResponse', [ec.certPem]).sigAlg).to.equal(
      'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
    );
  });

  it('refuses a query without Signature or SigAlg', () => {
    const unsigned = query().split('&Signature=')[0]!;
    expect(refusalCode(() => verifyRedirectSignature(unsigned, 'SAMLRequest', [sp().certPem]))).to.equal(
      'SAML_SIGNATURE_MISSING',
    );
    const noAlg = query().replace(/&SigAlg=[^&]*/, '');
    expect(refusalCode(() => verifyRedirectSignature(noAlg, 'SAMLRequest', [sp().certPem]))).to.equal(
      'SAML_SIGNATURE_MISSING',
    );
  });

  it('refuses a tampered RelayState', () => {
    const raw = query('flow-1').replace('RelayState=flow-1', 'RelayState=flow-2');
    expect(refusalCode(() => verifyRedirectSignature(raw, 'SAMLRequest', [sp().certPem]))).to.equal(
      'SAML_SIGNATURE_INVALID',
    );
  });

  it('refuses a tampered message', () => {
    const other = signRedirectQuery('SAMLRequest', REQUEST.replace('_r1', '_r2'), { keyPem: sp().keyPem });
    const swapped = query().replace(/SAMLRequest=[^&]*/, other.match(/SAMLRequest=[^&]*/)![0]);
    expect(refusalCode(() => verifyRedirectSignature(swapped, 'SAMLRequest', [sp().certPem]))).to.equal(
      'SAML_SIGNATURE_INVALID',
    );
  });

  it('refuses a signature by a key that is not configured', () => {
    const forged = signRedirectQuery('SAMLRequest', REQUEST, {
      keyPem: makeKeyPair('attacker.example.test').keyPem,
    });
    expect(refusalCode(() => verifyRedirectSignature(forged, 'SAMLRequest', [sp().certPem]))).to.equal(
      'SAML_SIGNATURE_INVALID',
    );
  });

  it('refuses SHA-1 and unknown SigAlg values', () => {
    for (const alg of [
      'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
      'http://www.w3.org/2000/09/xmldsig#dsa-sha1',
      'none',
    ]) {
      const raw = query().replace(/SigAlg=[^&]*/, `SigAlg=${encodeURIComponent(alg)}`);
      expect(refusalCode(() => verifyRedirectSignature(raw, 'SAMLRequest', [sp().certPem]))).to.equal(
        'SAML_SIGNATURE_ALGORITHM_FORBIDDEN',
      );
    }
  });

  it('refuses a SAMLEncoding other than DEFLATE, and accepts DEFLATE named explicitly', () => {
    const deflate = encodeURIComponent('urn:oasis:names:tc:SAML:2.0:bindings:URL-Encoding:DEFLATE');
    expect(
      verifyRedirectSignature(`${query()}&SAMLEncoding=${deflate}`, 'SAMLRequest', [sp().certPem]).xml,
    ).to.be.a('string');
    expect(
      refusalCode(() =>
        verifyRedirectSignature(`${query()}&SAMLEncoding=urn%3Aexample%3Aplain`, 'SAMLRequest', [
          sp().certPem,
        ]),
      ),
    ).to.equal('SAML_ENCODING_INVALID');
  });

  it('refuses duplicated parameters', () => {
    const raw = query('a');
    for (const dup of [
      '&RelayState=b',
      `&${raw.match(/SAMLRequest=[^&]*/)![0]}`,
      `&${raw.match(/SigAlg=[^&]*/)![0]}`,
    ]) {
      expect(refusalCode(() => verifyRedirectSignature(raw + dup, 'SAMLRequest', [sp().certPem]))).to.equal(
        'SAML_BINDING_INVALID',
      );
    }
  });

  it('refuses a query carrying the other message parameter or none', () => {
    expect(refusalCode(() => verifyRedirectSignature(query(), 'SAMLResponse', [sp().certPem]))).to.equal(
      'SAML_BINDING_INVALID',
    );
  });

  it('refuses a signed deflate bomb after verifying it', () => {
    const bomb = signRedirectQuery('SAMLRequest', `<r>${' '.repeat(2 * 1024 * 1024)}</r>`, {
      keyPem: sp().keyPem,
    });
    expect(refusalCode(() => verifyRedirectSignature(bomb, 'SAMLRequest', [sp().certPem]))).to.equal(
      'SAML_DEFLATE_LIMIT',
    );
  });
});

describe('trusted certificates across messages', () => {
  it('parses a configured certificate once, not per message', () => {
    const pem = sp().certPem;
    expect(trustedKeys([pem])[0]).to.equal(trustedKeys([`${pem}`])[0]);
  });

  it('after a rotation trusts only the new certificate: the old key is refused at once', () => {
    const before = makeKeyPair('rotation-before.example.test');
    const after = makeKeyPair('rotation-after.example.test');
    const signedBy = (keyPem: string) => signRedirectQuery('SAMLRequest', REQUEST, { keyPem });
    expect(verifyRedirectSignature(signedBy(before.keyPem), 'SAMLRequest', [before.certPem]).xml).to.equal(
      REQUEST,
    );
    expect(
      refusalCode(() => verifyRedirectSignature(signedBy(before.keyPem), 'SAMLRequest', [after.certPem])),
    ).to.equal('SAML_SIGNATURE_INVALID');
    expect(verifyRedirectSignature(signedBy(after.keyPem), 'SAMLRequest', [after.certPem]).xml).to.equal(
      REQUEST,
    );
  });

  it('refuses an unparsable certificate on every message, not only the first', () => {
    const broken = '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n';
    for (let attempt = 0; attempt < 2; attempt++)
      expect(refusalCode(() => verifyRedirectSignature(query(), 'SAMLRequest', [broken]))).to.equal(
        'SAML_CERTIFICATE_INVALID',
      );
  });
});
