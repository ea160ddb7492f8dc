import { expect } from 'chai';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { certificateFingerprint, createSelfSignedCertificate } from '../../common/pki.js';

describe('self-signed signing certificates', () => {
  it('pair an RSA-2048 key with a certificate valid from now for the requested days', async () => {
    const pair = await createSelfSignedCertificate({ commonName: 'acme broker', days: 30 });
    const cert = new X509Certificate(pair.certPem);
    expect(cert.subject).to.equal('CN=acme broker');
    expect(cert.checkPrivateKey(createPrivateKey(pair.keyPem))).to.equal(true);
    expect(cert.publicKey.asymmetricKeyDetails?.modulusLength).to.equal(2048);
    const days = (Date.parse(cert.validTo) - Date.now()) / 86_400_000;
    expect(days).to.be.within(29, 31);
    expect(Date.parse(cert.validFrom)).to.be.below(Date.now());
  });

  it('fingerprints like openssl (SHA-256, colon-separated hex)', async () => {
    const pair = await createSelfSignedCertificate({ commonName: 'x' });
    expect(certificateFingerprint(pair.certPem)).to.match(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });
});
