import { expect } from 'chai';
import {
  NS,
  parseSamlXml,
  serializeXml,
  signEnveloped,
  verifyEnvelopedSignature,
} from '../../common/saml/index.js';
import { makeKeyPair } from '../../testkit/keys.js';
import { editXml, refusalCode } from '../../testkit/saml-fixtures.js';
import { signatureTemplate, xmlsecSign, xmlsecVerify } from '../../testkit/xmlsec.js';
import { applyXsw, XSW_VARIANTS, type XswVariant } from '../../testkit/xsw.js';
import { UNREADABLE_SIGNATURES } from './message-attacks.js';

const PORTAL_ACS = 'https://portal.example.test/saml/acs';
const EVIL_ACS = 'https://evil.example.test/steal';
const AUTHN_REQUEST_NODE = `${NS.protocol}:AuthnRequest`;

function authnRequest(id = '_authn-1', extra = ''): string {
  return (
    `<samlp:AuthnRequest xmlns:samlp="${NS.protocol}" xmlns:saml="${NS.assertion}" ID="${id}" Version="2.0" ` +
    `IssueInstant="2030-05-01T12:00:00Z" Destination="https://broker.example.test/saml/sso" AssertionConsumerServiceURL="${PORTAL_ACS}">` +
    `<saml:Issuer>https://portal.example.test</saml:Issuer>${extra}<samlp:NameIDPolicy AllowCreate="true"/></samlp:AuthnRequest>`
  );
}

const portal = () => makeKeyPair('portal.example.test');

function signedRequest(options: Partial<Parameters<typeof signEnveloped>[1]> = {}): string {
  return signEnveloped(authnRequest(), { id: '_authn-1', ...portal(), ...options });
}

function verifyRoot(xml: string, certs = [portal().certPem]) {
  const doc = parseSamlXml(xml);
  return verifyEnvelopedSignature(doc, doc.documentElement!, certs);
}

describe('verifyEnvelopedSignature', () => {
  it('accepts a signature made by our signer and returns the signed element without its Signature', () => {
    const verified = verifyRoot(signedRequest());
    expect(verified.getAttribute('AssertionConsumerServiceURL')).to.equal(PORTAL_ACS);
    expect(verified.getElementsByTagNameNS(NS.dsig, 'Signature').length).to.equal(0);
  });

  it('accepts an ECDSA P-256 signature', () => {
    const ec = makeKeyPair('portal-ec.example.test', 'ec');
    const xml = signEnveloped(authnRequest(), { id: '_authn-1', ...ec });
    expect(verifyRoot(xml, [ec.certPem]).localName).to.equal('AuthnRequest');
  });

  it('tries every configured certificate (key rollover)', () => {
    expect(verifyRoot(signedRequest(), [makeKeyPair('old').certPem, portal().certPem]).localName).to.equal(
      'AuthnRequest',
    );
  });

  it('reports a missing or unparsable configured certificate as SAML_CERTIFICATE_INVALID (500), not as a bad message', () => {
    for (const certs of [
      [],
      ['-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n'],
    ]) {
      expect(refusalCode(() => verifyRoot(signedRequest(), certs))).to.equal('SAML_CERTIFICATE_INVALID');
      expect(() => verifyRoot(signedRequest(), certs))
        .to.throw()
        .with.property('status', 500);
    }
  });

  it('produces signatures that xmlsec1 verifies independently', () => {
    const result = xmlsecVerify(signedRequest(), portal().certPem, AUTHN_REQUEST_NODE);
    expect(result.ok, result.output).to.equal(true);
  });

  it('xmlsec1 refuses our signature once the content is tampered (the check above can fail)', () => {
    const tampered = signedRequest().replace(PORTAL_ACS, EVIL_ACS);
    expect(xmlsecVerify(tampered, portal().certPem, AUTHN_REQUEST_NODE).ok).to.equal(false);
  });

  it('accepts a signature made by xmlsec1', () => {
    const template = authnRequest('_authn-1').replace(
      '</saml:Issuer>',
      `</saml:Issuer>${signatureTemplate('_authn-1')}`,
    );
    const signed = xmlsecSign(template, portal().keyPem, portal().certPem, AUTHN_REQUEST_NODE);
    expect(verifyRoot(signed).getAttribute('ID')).to.equal('_authn-1');
  });

  it('refuses an unsigned element', () => {
    expect(refusalCode(() => verifyRoot(authnRequest()))).to.equal('SAML_SIGNATURE_MISSING');
  });

  it('refuses a stripped signature (Signature removed after signing)', () => {
    const stripped = editXml(signedRequest(), (root) => {
      root.removeChild(root.getElementsByTagNameNS(NS.dsig, 'Signature')[0]!);
    });
    expect(refusalCode(() => verifyRoot(stripped))).to.equal('SAML_SIGNATURE_MISSING');
  });

  it('refuses tampered content', () => {
    expect(refusalCode(() => verifyRoot(signedRequest().replace(PORTAL_ACS, EVIL_ACS)))).to.equal(
      'SAML_SIGNATURE_INVALID',
    );
  });

  it('refuses a signature by a key given in KeyInfo but not configured', () => {
    const attacker = makeKeyPair('attacker.example.test');
    const forged = signEnveloped(authnRequest(), { id: '_authn-1', ...attacker });
    expect(forged).to.include(Buffer.from(attacker.certPem.split('\n')[1]!, 'ascii').toString());
    expect(refusalCode(() => verifyRoot(forged))).to.equal('SAML_SIGNATURE_INVALID');
  });

  it('refuses a configured certificate replaced by an attacker certificate in KeyInfo', () => {
    const attacker = makeKeyPair('attacker.example.test');
    const forged = signEnveloped(authnRequest(), {
      id: '_authn-1',
      keyPem: attacker.keyPem,
      certPem: portal().certPem,
    });
    expect(refusalCode(() => verifyRoot(forged))).to.equal('SAML_SIGNATURE_INVALID');
  });

  it('refuses SHA-1 signature and digest algorithms', () => {
    const sha1Sig = signedRequest().replace(
      'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
      'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
    );
    expect(refusalCode(() => verifyRoot(sha1Sig))).to.equal('SAML_SIGNATURE_ALGORITHM_FORBIDDEN');
    const sha1Digest = signedRequest().replace(
      'http://www.w3.org/2001/04/xmlenc#sha256',
      'http://www.w3.org/2000/09/xmldsig#sha1',
    );
    expect(refusalCode(() => verifyRoot(sha1Digest))).to.equal('SAML_SIGNATURE_ALGORITHM_FORBIDDEN');
  });

  it('refuses unknown and HMAC signature algorithms', () => {
    for (const alg of ['http://www.w3.org/2000/09/xmldsig#hmac-sha1', 'urn:example:unknown']) {
      const xml = signedRequest().replace('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', alg);
      expect(refusalCode(() => verifyRoot(xml))).to.equal('SAML_SIGNATURE_ALGORITHM_FORBIDDEN');
    }
  });

  it('refuses transforms other than enveloped-signature and exclusive c14n (XSLT, XPath, XPath Filter 2.0, base64)', () => {
    for (const transform of [
      '<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xslt-19991116"/>',
      '<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"><ds:XPath>not(ancestor-or-self::ds:Signature)</ds:XPath></ds:Transform>',
      '<ds:Transform Algorithm="http://www.w3.org/2002/06/xmldsig-filter2"><dsig-xpath:XPath xmlns:dsig-xpath="http://www.w3.org/2002/06/xmldsig-filter2" Filter="subtract">//*</dsig-xpath:XPath></ds:Transform>',
      '<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#base64"/>',
    ]) {
      const xml = signedRequest().replace(
        '<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>',
        transform,
      );
      expect(xml, transform).to.contain(transform);
      expect(
        refusalCode(() => verifyRoot(xml)),
        transform,
      ).to.equal('SAML_SIGNATURE_ALGORITHM_FORBIDDEN');
    }
    const inclusive = signedRequest().replace(
      'CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"',
      'CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"',
    );
    expect(refusalCode(() => verifyRoot(inclusive))).to.equal('SAML_SIGNATURE_ALGORITHM_FORBIDDEN');
  });

  it('refuses a Reference that points at another element', () => {
    const xml = signedRequest().replace('URI="#_authn-1"', 'URI="#_other"');
    expect(refusalCode(() => verifyRoot(xml))).to.equal('SAML_SIGNATURE_REFERENCE_INVALID');
    const whole = signedRequest().replace('URI="#_authn-1"', 'URI=""');
    expect(refusalCode(() => verifyRoot(whole))).to.equal('SAML_SIGNATURE_REFERENCE_INVALID');
  });

  it('refuses a signature with two References', () => {
    const xml = editXml(signedRequest(), (root) => {
      const reference = root.getElementsByTagNameNS(NS.dsig, 'Reference')[0]!;
      reference.parentNode!.appendChild(reference.cloneNode(true));
    });
    expect(refusalCode(() => verifyRoot(xml))).to.equal('SAML_SIGNATURE_REFERENCE_INVALID');
  });

  it('refuses two SignedInfo elements (CVE-2025-29774 shape)', () => {
    const xml = editXml(signedRequest(), (root) => {
      const signedInfo = root.getElementsByTagNameNS(NS.dsig, 'SignedInfo')[0]!;
      signedInfo.parentNode!.insertBefore(signedInfo.cloneNode(true), signedInfo);
    });
    expect(refusalCode(() => verifyRoot(xml))).to.equal('SAML_SIGNATURE_INVALID');
  });

  it('refuses a comment inside DigestValue (CVE-2025-29775 shape)', () => {
    const xml = signedRequest().replace(
      /<ds:DigestValue>([^<]+)<\/ds:DigestValue>/,
      '<ds:DigestValue><!--x-->$1</ds:DigestValue>',
    );
    expect(refusalCode(() => verifyRoot(xml))).to.equal('SAML_SIGNATURE_INVALID');
  });

  for (const shape of UNREADABLE_SIGNATURES) {
    it(`refuses a signature with ${shape.has} as SAML_SIGNATURE_INVALID, not an internal error (ADR 0228)`, () => {
      const xml = shape.tamper(signedRequest());
      expect(xml).to.not.equal(signedRequest());
      expect(refusalCode(() => verifyRoot(xml))).to.equal('SAML_SIGNATURE_INVALID');
    });
  }

  it("accepts exclusive c14n's InclusiveNamespaces in its CanonicalizationMethod and Transform (xmlsec1 signs with them)", () => {
    const inclusive =
      '<ec:InclusiveNamespaces xmlns:ec="http://www.w3.org/2001/10/xml-exc-c14n#" PrefixList="saml"/>';
    const template = authnRequest('_authn-1').replace(
      '</saml:Issuer>',
      `</saml:Issuer>${signatureTemplate('_authn-1')
        .replace('xml-exc-c14n#"/>', `xml-exc-c14n#">${inclusive}</ds:CanonicalizationMethod>`)
        .replace(
          'xml-exc-c14n#"/></ds:Transforms>',
          `xml-exc-c14n#">${inclusive}</ds:Transform></ds:Transforms>`,
        )}`,
    );
    expect(template.split('InclusiveNamespaces').length).to.equal(3);
    const signed = xmlsecSign(template, portal().keyPem, portal().certPem, AUTHN_REQUEST_NODE);
    expect(verifyRoot(signed).getAttribute('ID')).to.equal('_authn-1');
  });

  it('refuses two Signature children', () => {
    const xml = editXml(signedRequest(), (root) => {
      const sig = root.getElementsByTagNameNS(NS.dsig, 'Signature')[0]!;
      root.appendChild(sig.cloneNode(true));
    });
    expect(refusalCode(() => verifyRoot(xml))).to.equal('SAML_SIGNATURE_REFERENCE_INVALID');
  });

  it('refuses a document in which an ID appears twice', () => {
    const xml = signedRequest().replace(
      '<samlp:NameIDPolicy',
      `<samlp:Extensions><x xmlns="urn:x" ID="_authn-1"/></samlp:Extensions><samlp:NameIDPolicy`,
    );
    expect(refusalCode(() => verifyRoot(xml))).to.equal('SAML_ID_NOT_UNIQUE');
  });

  it('reads the signed text, not a comment-truncated one (comments are not signed by exc-c14n)', () => {
    const xml = signEnveloped(
      authnRequest('_authn-1').replace(
        'https://portal.example.test</saml:Issuer>',
        'user@evil.test.good.test</saml:Issuer>',
      ),
      { id: '_authn-1', ...portal() },
    ).replace('user@evil.test.good.test', 'user@evil.test<!---->.good.test');
    const issuer = verifyRoot(xml).getElementsByTagNameNS(NS.assertion, 'Issuer')[0]!;
    expect(issuer.childNodes.length).to.equal(1);
    expect(issuer.textContent).to.equal('user@evil.test.good.test');
  });

  describe('XML Signature Wrapping on a signed AuthnRequest (POST body)', () => {
    const expectedCodes: Record<XswVariant, string> = {
      XSW1: 'SAML_SIGNATURE_REFERENCE_INVALID',
      XSW2: 'SAML_SIGNATURE_REFERENCE_INVALID',
      XSW3: 'SAML_ID_NOT_UNIQUE',
      XSW4: 'SAML_ID_NOT_UNIQUE',
      XSW5: 'SAML_ID_NOT_UNIQUE',
      XSW6: 'SAML_ID_NOT_UNIQUE',
      XSW7: 'SAML_ID_NOT_UNIQUE',
      XSW8: 'SAML_ID_NOT_UNIQUE',
    };
    for (const variant of XSW_VARIANTS) {
      it(`refuses ${variant}`, () => {
        const attack = applyXsw(signedRequest(), variant, {
          select: (root) => root,
          tamper: (evil) => evil.setAttribute('AssertionConsumerServiceURL', EVIL_ACS),
        });
        expect(attack).to.include(EVIL_ACS);
        expect(refusalCode(() => verifyRoot(attack))).to.equal(expectedCodes[variant]);
      });
    }
  });

  it('serializes the verified element back to parseable XML', () => {
    expect(serializeXml(verifyRoot(signedRequest()))).to.match(/^<samlp:AuthnRequest /);
  });
});
