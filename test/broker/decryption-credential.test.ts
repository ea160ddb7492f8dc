import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOMParser } from '@xmldom/xmldom';
import { expect } from 'chai';
import { readDecryptionCredential } from '../../broker/decryption-credential.js';
import { SecretDirectory } from '../../common/config/secrets.js';
import { ConfigError } from '../../common/errors.js';
import { buildSpMetadata, certificateBase64, NS } from '../../common/saml/index.js';
import { type KeyPair, makeKeyPair } from '../../testkit/keys.js';

/** spec.broker.encryptionSecretRef (ADR 0338): which key pairs the broker decrypts with and publishes. */
describe("the broker's SAML decryption keys", () => {
  let root: string;
  const signing = () => makeKeyPair('broker-signing');
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'jsm-sso-decryption-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  function secret(files: Record<string, string>): SecretDirectory {
    rmSync(join(root, 'enc'), { recursive: true, force: true });
    mkdirSync(join(root, 'enc'));
    for (const [key, value] of Object.entries(files)) writeFileSync(join(root, 'enc', key), value);
    return new SecretDirectory(root);
  }
  const pair = (p: KeyPair, prefix = 'tls') => ({
    [`${prefix}.key`]: p.keyPem,
    [`${prefix}.crt`]: p.certPem,
  });
  const refusal = (files: Record<string, string>) => {
    try {
      readDecryptionCredential(secret(files), 'enc', signing().keyPem);
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      expect((err as ConfigError).problems[0]!.path).to.equal('spec.broker.encryptionSecretRef');
      return (err as ConfigError).problems[0]!.message;
    }
    throw new Error('expected a refusal');
  };

  it('holds the pair, then the next pair during a rollover, certificates in the same order', () => {
    const active = makeKeyPair('broker-decryption');
    const next = makeKeyPair('broker-decryption-next');
    const credential = readDecryptionCredential(
      secret({ ...pair(active), ...pair(next, 'next') }),
      'enc',
      signing().keyPem,
    );
    expect(credential.certificatesPem).to.deep.equal([active.certPem, next.certPem]);
    expect(credential.keys.map((k) => k.asymmetricKeyType)).to.deep.equal(['rsa', 'rsa']);
  });

  it('refuses at start an EC key, a certificate of another key, the signing key itself, and no key at all', () => {
    expect(refusal(pair(makeKeyPair('broker-decryption', 'ec')))).to.match(
      /enc\/tls\.key must be an RSA key/,
    );
    const mismatched = { ...pair(makeKeyPair('broker-decryption')), 'tls.crt': makeKeyPair('other').certPem };
    expect(refusal(mismatched)).to.match(/is not the key of enc\/tls\.crt/);
    expect(refusal(pair(signing()))).to.match(/signing key/);
    expect(refusal({ ...pair(makeKeyPair('broker-decryption')), 'tls.key': 'not a key' })).to.match(
      /enc\/tls\.key is not a PEM private key/,
    );
  });

  it('refuses at start half a next pair, naming the half that is missing (ADR 0346)', () => {
    const active = pair(makeKeyPair('broker-decryption'));
    const next = makeKeyPair('broker-decryption-next');
    expect(refusal({ ...active, 'next.key': next.keyPem })).to.match(
      /enc has next\.key without next\.crt.*add next\.crt, or remove next\.key/,
    );
    expect(refusal({ ...active, 'next.crt': next.certPem })).to.match(
      /enc has next\.crt without next\.key.*add next\.key, or remove next\.crt/,
    );
  });

  it('publishes each certificate as an encryption KeyDescriptor with the algorithms accepted, and none without', () => {
    const certs = [makeKeyPair('broker-decryption').certPem, makeKeyPair('broker-decryption-next').certPem];
    const options = {
      entityId: 'https://b.example.test/saml/sp-metadata',
      acsUrl: 'https://b.example.test/saml/acs',
    };
    const descriptors = (xml: string, use: string) =>
      Array.from(
        new DOMParser().parseFromString(xml, 'text/xml').getElementsByTagNameNS(NS.metadata, 'KeyDescriptor'),
      ).filter((d) => d.getAttribute('use') === use);
    const xml = buildSpMetadata({
      ...options,
      signingCertPem: signing().certPem,
      encryptionCertificatesPem: certs,
    });
    const encryption = descriptors(xml, 'encryption');
    expect(
      encryption.map((d) => d.getElementsByTagNameNS(NS.dsig, 'X509Certificate')[0]!.textContent),
    ).to.deep.equal(certs.map(certificateBase64));
    const methods = Array.from(encryption[0]!.getElementsByTagNameNS(NS.metadata, 'EncryptionMethod')).map(
      (m) => m.getAttribute('Algorithm'),
    );
    expect(methods[0]).to.equal('http://www.w3.org/2009/xmlenc11#aes256-gcm');
    expect(methods).to.include('http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p');
    expect(methods.filter((m) => /rsa-1_5|tripledes/.test(m!))).to.deep.equal([]);
    expect(descriptors(xml, 'signing')).to.have.length(1);
    expect(
      descriptors(buildSpMetadata({ ...options, signingCertPem: signing().certPem }), 'encryption'),
    ).to.deep.equal([]);
  });
});
