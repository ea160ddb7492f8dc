import { expect } from 'chai';
import { checkTenant } from '../../common/config/load.js';
import { certificateNotAfter, createSelfSignedCertificate } from '../../common/pki.js';
import type { SecretFacts } from '../../operator/resources/common.js';
import { signingCertificateCondition } from '../../operator/signing-certificate-condition.js';
import { tenantObject } from '../../testkit/tenants.js';

const DAY = 86_400_000;

describe('SigningCertificateValid condition', () => {
  const tenant = checkTenant(tenantObject('acme', 'acme'));
  let secrets: Record<string, SecretFacts>;
  let brokerNotAfter: Date;
  before(async () => {
    const facts = async (days: number) => ({
      keyHashes: {},
      privateKeys: {},
      certificates: { 'tls.crt': (await createSelfSignedCertificate({ commonName: 'x', days })).certPem },
    });
    secrets = { 'acme-broker-signing': await facts(90), 'acme-portal-signing': await facts(365) };
    brokerNotAfter = certificateNotAfter(secrets['acme-broker-signing']!.certificates['tls.crt'])!;
  });

  it('is True with both dates while both certificates have more than 30 days left', () => {
    const condition = signingCertificateCondition(tenant, secrets, new Date());
    expect(condition).to.include({ status: 'True', reason: 'CertificatesValid' });
    expect(condition.message).to.match(
      /^broker certificate valid until \d{4}-\d\d-\d\dT[\d:]+Z, portal certificate/,
    );
  });

  it('turns False, naming the Secret, within 30 days of the sooner expiry, and once it has passed', () => {
    const soon = signingCertificateCondition(tenant, secrets, new Date(brokerNotAfter.getTime() - 10 * DAY));
    expect(soon).to.include({ status: 'False', reason: 'CertificateExpiringSoon' });
    expect(soon.message)
      .to.include('Secret acme-broker-signing')
      .and.include('docs/production.md#signing-key-rotation');
    const expired = signingCertificateCondition(tenant, secrets, new Date(brokerNotAfter.getTime() + DAY));
    expect(expired).to.include({ status: 'False', reason: 'CertificateExpired' });
  });

  it('keeps the same message from one day to the next from one day to the next (no daily status writes)', () => {
    const at = (offset: number) =>
      signingCertificateCondition(tenant, secrets, new Date(brokerNotAfter.getTime() - offset * DAY)).message;
    expect(at(20)).to.equal(at(19));
    expect(at(200)).to.equal(at(199));
  });

  it('is Unknown when the configuration is invalid or a certificate is unreadable', () => {
    expect(signingCertificateCondition(undefined, secrets, new Date()).status).to.equal('Unknown');
    const broken = {
      ...secrets,
      'acme-portal-signing': { keyHashes: {}, certificates: { 'tls.crt': 'junk' }, privateKeys: {} },
    };
    expect(signingCertificateCondition(tenant, broken, new Date())).to.include({
      status: 'Unknown',
      reason: 'CertificateUnreadable',
    });
  });
});
