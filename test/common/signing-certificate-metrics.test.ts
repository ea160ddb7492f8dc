import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Registry } from 'prom-client';
import { loadTenantFile } from '../../common/config/load.js';
import { SecretDirectory } from '../../common/config/secrets.js';
import { certificateNotAfter, createSelfSignedCertificate } from '../../common/pki.js';
import {
  readSigningCertificateExpiry,
  registerSigningCertificateExpiry,
} from '../../common/signing-certificate-metrics.js';

const NAME = 'jsm_sso_signing_certificate_expiry_timestamp_seconds';
const notAfterSeconds = (pem: string) => certificateNotAfter(pem)!.getTime() / 1000;

describe('signing certificate expiry metric', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'jsm-sso-expiry-'));
    mkdirSync(join(root, 'acme-portal-signing'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("reports the part's current and next certificate, read again at every scrape", async () => {
    const tenant = loadTenantFile('test/fixtures/tenant-valid.yaml');
    const registry = new Registry();
    const secrets = new SecretDirectory(root);
    // As a dedicated part registers it (common/runtime.ts): the Secret read at every scrape.
    registerSigningCertificateExpiry(registry, 'portal', () => [
      { tenantId: 'acme', expiry: readSigningCertificateExpiry('portal', tenant, secrets) },
    ]);
    const write = (key: string, pem: string) => writeFileSync(join(root, 'acme-portal-signing', key), pem);
    const series = async () =>
      Object.fromEntries(
        ((await registry.getSingleMetric(NAME)?.get())?.values ?? []).map((v) => [v.labels['slot'], v.value]),
      );

    expect(await series()).to.deep.equal({});
    const current = await createSelfSignedCertificate({ commonName: 'portal', days: 30 });
    write('tls.crt', current.certPem);
    expect(await series()).to.deep.equal({ current: notAfterSeconds(current.certPem) });

    const next = await createSelfSignedCertificate({ commonName: 'portal-next', days: 400 });
    write('next.crt', next.certPem);
    write('tls.crt', 'not a certificate');
    expect(await series()).to.deep.equal({ next: notAfterSeconds(next.certPem) });
    expect(await registry.metrics()).to.include(`${NAME}{tenant="acme",part="portal",slot="next"}`);
  });
});
