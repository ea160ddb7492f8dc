import { expect } from 'chai';
import { checkTenant } from '../../common/config/load.js';
import type { SecretFacts } from '../../operator/resources/common.js';
import { secretFacts } from '../../operator/secret-facts.js';
import { signingKeyVerdict } from '../../operator/signing-key-verdict.js';
import { type KeyPair, makeKeyPair } from '../../testkit/keys.js';
import { tenantObject } from '../../testkit/tenants.js';

/** The operator's judgment of the signing Secrets' pairs, on the Secrets' facts (ADR 0354). */
describe("the operator's verdict on the signing Secrets' key pairs", () => {
  const tenant = checkTenant(tenantObject('ns', 'acme'));
  const keys = {
    broker: makeKeyPair('signing-verdict-broker'),
    brokerNext: makeKeyPair('signing-verdict-broker-next'),
    portal: makeKeyPair('signing-verdict-portal'),
    portalNext: makeKeyPair('signing-verdict-portal-next'),
    renewed: makeKeyPair('signing-verdict-renewed'),
  };
  const pair = (p: KeyPair, prefix = 'tls') => ({
    [`${prefix}.key`]: p.keyPem,
    [`${prefix}.crt`]: p.certPem,
  });
  /** As the API server gives a Secret: its values in base64 under data. */
  const facts = (values: Record<string, string>): SecretFacts =>
    secretFacts(
      {
        metadata: { name: 'signing' },
        data: Object.fromEntries(
          Object.entries(values).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
        ),
      },
      Buffer.alloc(32, 7),
    );
  const verdict = (broker: Record<string, string>, portal: Record<string, string> = pair(keys.portal)) =>
    signingKeyVerdict(tenant, { 'acme-broker-signing': facts(broker), 'acme-portal-signing': facts(portal) });

  it("takes each of the rotation runbook's states: tls alone, next published, swapped, either half of next alone", () => {
    const states = [
      pair(keys.broker),
      { ...pair(keys.broker), ...pair(keys.brokerNext, 'next') },
      { ...pair(keys.brokerNext), ...pair(keys.broker, 'next') },
      { ...pair(keys.broker), 'next.crt': keys.brokerNext.certPem },
      { ...pair(keys.broker), 'next.key': keys.brokerNext.keyPem },
      // A half that is not even PEM is no pair to judge: the runbook never puts one there alone.
      { ...pair(keys.broker), 'next.crt': 'not a certificate' },
    ];
    for (const state of states) {
      expect(verdict(state)).to.equal(undefined);
      expect(verdict(pair(keys.broker), { ...state })).to.equal(undefined);
    }
  });

  it('refuses a certificate renewed beside the old key, naming the keys and never their content', () => {
    const refused = verdict({ ...pair(keys.broker), 'tls.crt': keys.renewed.certPem });
    expect(refused).to.deep.equal({
      reason: 'SigningKeyInvalid',
      message:
        'acme-broker-signing/tls.key is not the key of acme-broker-signing/tls.crt; replace the pair with a key and the certificate of that key',
    });
    expect(
      verdict(pair(keys.broker), { ...pair(keys.portal), 'tls.crt': keys.renewed.certPem })?.message,
    ).to.match(/^acme-portal-signing\/tls\.key is not the key of acme-portal-signing\/tls\.crt/);
  });

  it('refuses next.key and next.crt of two keys, and a pair that is not PEM, in the words the parts say at start', () => {
    const message = (broker: Record<string, string>, portal?: Record<string, string>) =>
      verdict(broker, portal)?.message;
    expect(
      message({ ...pair(keys.broker), 'next.key': keys.brokerNext.keyPem, 'next.crt': keys.renewed.certPem }),
    ).to.match(/^acme-broker-signing\/next\.key is not the key of acme-broker-signing\/next\.crt;/);
    expect(
      message(pair(keys.broker), {
        ...pair(keys.portal),
        'next.key': keys.portalNext.keyPem,
        'next.crt': keys.renewed.certPem,
      }),
    ).to.match(/^acme-portal-signing\/next\.key is not the key of acme-portal-signing\/next\.crt;/);
    expect(message({ ...pair(keys.broker), 'tls.key': 'not a key' })).to.match(
      /^acme-broker-signing\/tls\.key is not a PEM private key;/,
    );
    expect(message(pair(keys.broker), { ...pair(keys.portal), 'tls.crt': 'not a certificate' })).to.match(
      /^acme-portal-signing\/tls\.key has no certificate: acme-portal-signing\/tls\.crt is not PEM;/,
    );
  });

  it('leaves a missing Secret or key to missingSecrets', () => {
    expect(signingKeyVerdict(tenant, {})).to.equal(undefined);
    expect(verdict({ 'tls.key': keys.broker.keyPem })).to.equal(undefined);
  });
});
