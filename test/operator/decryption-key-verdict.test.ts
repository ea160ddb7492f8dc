import { expect } from 'chai';
import { checkTenant } from '../../common/config/load.js';
import { decryptionKeyVerdict } from '../../operator/decryption-key-verdict.js';
import type { SecretFacts } from '../../operator/resources/common.js';
import { secretFacts } from '../../operator/secret-facts.js';
import { type KeyPair, makeKeyPair } from '../../testkit/keys.js';
import { tenantObject } from '../../testkit/tenants.js';

/** The operator's judgment of spec.broker.encryptionSecretRef's content, on the Secrets' facts (ADR 0352). */
describe("the operator's verdict on the broker's decryption Secret", () => {
  const hashKey = Buffer.alloc(32, 7);
  const pair = (p: KeyPair, prefix = 'tls') => ({
    [`${prefix}.key`]: p.keyPem,
    [`${prefix}.crt`]: p.certPem,
  });
  // As the API server gives a Secret: its values in base64 under data.
  const facts = (name: string, values: Record<string, string>): SecretFacts =>
    secretFacts(
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name, namespace: 'ns' },
        data: Object.fromEntries(
          Object.entries(values).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
        ),
      },
      hashKey,
    );
  const keys = {
    brokerSigning: makeKeyPair('verdict-broker-signing'),
    brokerNext: makeKeyPair('verdict-broker-next'),
    portalSigning: makeKeyPair('verdict-portal-signing'),
    portalNext: makeKeyPair('verdict-portal-next'),
    brokerTls: makeKeyPair('verdict-broker-tls'),
    portalTls: makeKeyPair('verdict-portal-tls'),
    decryption: makeKeyPair('verdict-decryption'),
  };
  const tenant = checkTenant(
    tenantObject('ns', 'acme', {
      ...tenantObject('ns', 'acme').spec,
      broker: {
        ...tenantObject('ns', 'acme').spec.broker,
        encryptionSecretRef: { name: 'acme-decryption' },
        tlsSecretRef: { name: 'acme-broker-tls' },
      },
      portal: { ...tenantObject('ns', 'acme').spec.portal, tlsSecretRef: { name: 'acme-portal-tls' } },
    }),
  );
  const verdict = (decryption: Record<string, string>) =>
    decryptionKeyVerdict(tenant, {
      'acme-broker-signing': facts('acme-broker-signing', {
        ...pair(keys.brokerSigning),
        ...pair(keys.brokerNext, 'next'),
      }),
      'acme-portal-signing': facts('acme-portal-signing', {
        ...pair(keys.portalSigning),
        ...pair(keys.portalNext, 'next'),
      }),
      'acme-broker-tls': facts('acme-broker-tls', pair(keys.brokerTls)),
      'acme-portal-tls': facts('acme-portal-tls', pair(keys.portalTls)),
      'acme-decryption': facts('acme-decryption', decryption),
    });

  it('takes a sound pair, and a sound next pair beside it', () => {
    expect(verdict(pair(keys.decryption))).to.equal(undefined);
    expect(verdict({ ...pair(keys.decryption), ...pair(makeKeyPair('verdict-next'), 'next') })).to.equal(
      undefined,
    );
  });

  it('refuses every other key of the tenant, naming it, in the tls or the next pair', () => {
    const cases: [KeyPair, string][] = [
      [keys.brokerSigning, "the broker's signing key (acme-broker-signing/tls.key)"],
      [keys.brokerNext, "the broker's next signing key (acme-broker-signing/next.key)"],
      [keys.portalSigning, "the portal's signing key (acme-portal-signing/tls.key)"],
      [keys.portalNext, "the portal's next signing key (acme-portal-signing/next.key)"],
      [keys.brokerTls, "the broker's TLS key (acme-broker-tls/tls.key)"],
      [keys.portalTls, "the portal's TLS key (acme-portal-tls/tls.key)"],
    ];
    for (const [key, named] of cases) {
      expect(verdict(pair(key))).to.deep.equal({
        reason: 'EncryptionKeyInvalid',
        message: `acme-decryption/tls.key is ${named}: give it a key of its own; replace it`,
      });
      expect(verdict({ ...pair(keys.decryption), ...pair(key, 'next') })?.message).to.equal(
        `acme-decryption/next.key is ${named}: give it a key of its own; replace it`,
      );
    }
  });

  it('refuses a key that is not RSA of 2048 bits, not PEM, or not its certificate’s, as the broker does', () => {
    const message = (data: Record<string, string>) => verdict(data)?.message;
    expect(message(pair(makeKeyPair('verdict-ec', 'ec')))).to.match(
      /acme-decryption\/tls\.key must be an RSA key of 2048 bits/,
    );
    expect(message({ ...pair(keys.decryption), 'tls.key': 'not a key' })).to.match(
      /acme-decryption\/tls\.key is not a PEM private key/,
    );
    expect(message({ ...pair(keys.decryption), 'tls.crt': 'not a certificate' })).to.match(
      /acme-decryption\/tls\.key has no certificate: acme-decryption\/tls\.crt is not PEM/,
    );
    expect(
      message({
        ...pair(keys.decryption),
        'next.key': keys.decryption.keyPem,
        'next.crt': keys.brokerTls.certPem,
      }),
    ).to.match(/acme-decryption\/next\.key is not the key of acme-decryption\/next\.crt/);
  });
});
