// @peculiar/x509 (used here to read extensions) needs the Reflect metadata API first.
import 'reflect-metadata';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { expect } from 'chai';
import { certificateFingerprint, createSelfSignedCertificate, serialNumberHex } from '../../common/pki.js';

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

  it('uses a positive 128-bit serial, digitalSignature key usage and no CA rights', async () => {
    const pair = await createSelfSignedCertificate({ commonName: 'acme broker' });
    const serial = new X509Certificate(pair.certPem).serialNumber;
    // DER INTEGER, 16 bytes, top bit clear (a negative serial is refused by strict verifiers).
    expect(serial).to.match(/^[4-7][0-9A-F]{31}$/);
    const cert = new x509.X509Certificate(pair.certPem);
    const usage = cert.getExtension(x509.KeyUsagesExtension);
    expect(usage?.usages).to.equal(x509.KeyUsageFlags.digitalSignature);
    expect(usage?.critical).to.equal(true);
    expect(cert.getExtension(x509.BasicConstraintsExtension)?.ca).to.equal(false);
  });

  it('keeps the serial positive and 16 bytes long whatever the random bytes (leading zero or top bit set)', () => {
    // A leading zero byte once made DER drop it and the serial print 15 bytes (1 run in 128).
    expect(serialNumberHex(new Uint8Array(16))).to.equal(`40${'00'.repeat(15)}`);
    expect(serialNumberHex(new Uint8Array(16).fill(0xff))).to.equal(`7f${'ff'.repeat(15)}`);
    for (const first of [0x00, 0x01, 0x3f, 0x80, 0xc0]) {
      const random = new Uint8Array(16).fill(0xab);
      random[0] = first;
      const serial = serialNumberHex(random);
      expect(serial, `first byte ${first}`).to.match(/^[4-7][0-9a-f]{31}$/);
      expect(serial.slice(2)).to.equal('ab'.repeat(15));
    }
  });

  it('fingerprints like openssl (SHA-256, colon-separated hex)', async () => {
    const pair = await createSelfSignedCertificate({ commonName: 'x' });
    expect(certificateFingerprint(pair.certPem)).to.match(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });
});
