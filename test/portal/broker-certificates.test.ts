import { expect } from 'chai';
import { certificateBase64 } from '../../common/saml/certificates.js';
import { certificatesFromMetadata, isLoopbackHttp } from '../../portal/saml/broker-certificates.js';
import { makeKeyPair } from '../../testkit/keys.js';

const ENTITY = 'https://broker.acme.test/saml/metadata';
const metadata = (entityId: string, certs: { pem: string; use?: string }[]) =>
  `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="${entityId}"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
  certs
    .map(
      (c) =>
        `<md:KeyDescriptor${c.use ? ` use="${c.use}"` : ''}><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>${certificateBase64(c.pem)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`,
    )
    .join('') +
  '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://broker.acme.test/saml/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>';

describe('portal broker certificates from metadata', () => {
  const current = makeKeyPair('broker current').certPem;
  const next = makeKeyPair('broker next').certPem;

  it('takes the signing certificates of the broker’s IdP role, current and next', () => {
    const found = certificatesFromMetadata(
      metadata(ENTITY, [{ pem: current, use: 'signing' }, { pem: next }]),
      ENTITY,
    );
    expect(found.map(certificateBase64)).to.deep.equal([certificateBase64(current), certificateBase64(next)]);
  });
  it('ignores encryption keys', () => {
    expect(() => certificatesFromMetadata(metadata(ENTITY, [{ pem: current, use: 'encryption' }]), ENTITY))
      .to.throw(/no signing certificate/)
      .with.property('code', 'SAML_METADATA_INVALID');
  });
  it('refuses metadata of another entity', () => {
    expect(() =>
      certificatesFromMetadata(metadata('https://evil.test/saml/metadata', [{ pem: current }]), ENTITY),
    )
      .to.throw(/expected entity/)
      .with.property('code', 'SAML_METADATA_INVALID');
  });
  it('fetches metadata over plain http only on loopback', () => {
    expect(isLoopbackHttp('http://127.0.0.1:8081/saml/metadata')).to.equal(true);
    expect(isLoopbackHttp('http://broker.acme.test/saml/metadata')).to.equal(false);
    expect(isLoopbackHttp('http://127.0.0.1.evil.test/saml/metadata')).to.equal(false);
  });
});
