import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOMParser } from '@xmldom/xmldom';
import { expect } from 'chai';
import { readDecryptionCredential } from '../../broker/decryption-credential.js';
import { resolveBrokerSettings } from '../../broker/settings.js';
import { privateKeyFacts } from '../../common/config/decryption-key.js';
import { loadTenantFile } from '../../common/config/load.js';
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
  const signingKey = () => [
    {
      secret: 'sig',
      key: 'tls.key',
      certificate: 'tls.crt',
      role: "the broker's signing key",
      publicKey: privateKeyFacts(signing().keyPem)!.publicKey,
    },
  ];
  const pair = (p: KeyPair, prefix = 'tls') => ({
    [`${prefix}.key`]: p.keyPem,
    [`${prefix}.crt`]: p.certPem,
  });
  const refusal = (files: Record<string, string>) => {
    try {
      readDecryptionCredential(secret(files), 'enc', signingKey());
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
      signingKey(),
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

  it("refuses at start any key of the tenant's it can read as its decryption key: signing (next too), the portal's, the listener's TLS key (ADR 0352)", () => {
    const files: Record<string, Record<string, string>> = {
      'acme-broker-signing': { ...pair(signing()), ...pair(makeKeyPair('broker-signing-next'), 'next') },
      'acme-portal-signing': {
        ...pair(makeKeyPair('portal-signing')),
        ...pair(makeKeyPair('portal-next'), 'next'),
      },
      'acme-broker-tls': pair(makeKeyPair('broker-listener')),
    };
    const startRefusal = (decryption: Record<string, string>) => {
      for (const [name, keys] of Object.entries({ ...files, enc: decryption })) {
        rmSync(join(root, name), { recursive: true, force: true });
        mkdirSync(join(root, name));
        for (const [key, value] of Object.entries(keys)) writeFileSync(join(root, name, key), value);
      }
      // The broker's pod mounts the portal's certificates, never its keys.
      rmSync(join(root, 'acme-portal-signing', 'tls.key'));
      rmSync(join(root, 'acme-portal-signing', 'next.key'));
      const tenant = loadTenantFile('test/fixtures/tenant-valid.yaml');
      tenant.spec.broker.encryptionSecretRef = { name: 'enc' };
      tenant.spec.broker.tlsSecretRef = { name: 'acme-broker-tls' };
      try {
        resolveBrokerSettings(tenant, new SecretDirectory(root));
      } catch (err) {
        expect(err).to.be.instanceOf(ConfigError);
        return (err as ConfigError).problems[0]!.message;
      }
      throw new Error('expected a refusal');
    };
    const as = (secret: string, prefix: string) => ({
      'tls.key': files[secret]![`${prefix}.key`]!,
      'tls.crt': files[secret]![`${prefix}.crt`]!,
    });
    expect(startRefusal(as('acme-broker-signing', 'tls'))).to.match(
      /enc\/tls\.key is the broker's signing key \(acme-broker-signing\/tls\.key\)/,
    );
    expect(startRefusal(as('acme-broker-signing', 'next'))).to.match(
      /enc\/tls\.key is the broker's next signing key \(acme-broker-signing\/next\.key\)/,
    );
    expect(startRefusal(as('acme-portal-signing', 'tls'))).to.match(
      /enc\/tls\.key is the portal's signing key \(acme-portal-signing\/tls\.key\)/,
    );
    expect(
      startRefusal({ ...pair(makeKeyPair('broker-decryption')), ...as('acme-portal-signing', 'next') }),
    ).to.match(/enc\/tls\.key is the portal's next signing key/);
    expect(startRefusal(as('acme-broker-tls', 'tls'))).to.match(
      /enc\/tls\.key is the broker's TLS key \(acme-broker-tls\/tls\.key\)/,
    );
    const next = { ...pair(makeKeyPair('broker-decryption')) };
    expect(
      startRefusal({
        ...next,
        'next.key': files['acme-broker-tls']!['tls.key']!,
        'next.crt': files['acme-broker-tls']!['tls.crt']!,
      }),
    ).to.match(/enc\/next\.key is the broker's TLS key/);
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
