import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { resolveBrokerSettings } from '../../broker/settings.js';
import { loadTenantFile } from '../../common/config/load.js';
import { SecretDirectory } from '../../common/config/secrets.js';
import { signingSecretName } from '../../common/config/signing-secrets.js';
import { createSelfSignedCertificate } from '../../common/pki.js';

describe('signing Secret names', () => {
  it('default to <tenant>-<part>-signing, the names the operator generates', () => {
    const tenant = loadTenantFile('test/fixtures/tenant-valid.yaml');
    expect(signingSecretName(tenant, 'broker')).to.equal('acme-broker-signing');
    expect(signingSecretName(tenant, 'portal')).to.equal('acme-portal-signing');
    tenant.spec.broker.signingSecretRef = { name: 'custom-broker' };
    expect(signingSecretName(tenant, 'broker')).to.equal('custom-broker');
  });

  it('let the broker start on the generated Secrets when the tenant names none', async () => {
    const tenant = loadTenantFile('test/fixtures/tenant-valid.yaml');
    const root = mkdtempSync(join(tmpdir(), 'jsm-sso-signing-'));
    try {
      for (const secret of ['acme-broker-signing', 'acme-portal-signing']) {
        const pair = await createSelfSignedCertificate({ commonName: secret });
        mkdirSync(join(root, secret));
        writeFileSync(join(root, secret, 'tls.crt'), pair.certPem);
        writeFileSync(join(root, secret, 'tls.key'), pair.keyPem);
      }
      const settings = resolveBrokerSettings(tenant, new SecretDirectory(root));
      expect(settings.entityId).to.equal('http://127.0.0.1:8081/saml/metadata');
      expect(settings.metadataCertificates).to.have.length(1);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
