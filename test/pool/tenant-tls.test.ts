import { expect } from 'chai';
import { loadTenantFile } from '../../common/config/load.js';
import type { SecretReader, TenantBundle } from '../../common/pool/source.js';
import { MAX_CONTEXTS, tenantCertificates } from '../../common/pool/tenant-tls.js';
import { capturedLogger } from '../../testkit/captured-logs.js';
import { makeTestCa, type TestCa } from '../../testkit/pki.js';

/**
 * The context cache behind a pool's SNI (the handshakes themselves: pool-tls.test.ts): one context
 * per bundle, a new bundle of the same tenant (its projection changed) built afresh, and at most
 * MAX_CONTEXTS kept, the least recently used dropped first.
 */
describe('tenant certificates by server name (the cache of TLS contexts)', () => {
  let ca: TestCa;
  before(() => {
    ca = makeTestCa();
  });
  after(() => ca.cleanup());

  /** Counts the reads of the certificate, which happen exactly when a context is built. */
  function bundle(key: string, pair: { certPem: string; keyPem: string }, reads: string[]): TenantBundle {
    const tenant = loadTenantFile('test/fixtures/tenant-valid.yaml');
    tenant.spec.broker.tlsSecretRef = { name: 'listener' };
    const secrets: SecretReader = {
      read: (_secret, name) => {
        if (name === 'tls.crt') reads.push(key);
        return name === 'tls.crt' ? pair.certPem : pair.keyPem;
      },
      readOptional: () => undefined,
    };
    return { key, tenant, secrets };
  }

  it('builds a context once per bundle, again for a changed bundle, and keeps at most MAX_CONTEXTS', () => {
    const first = ca.issue({ hosts: ['sso.acme.test'] });
    const reads: string[] = [];
    const served = new Map<string, TenantBundle>();
    const { logger } = capturedLogger({ component: 'broker' });
    const choose = tenantCertificates({ bundleForServerName: (name) => served.get(name) }, 'broker', logger);

    served.set('sso.acme.test', bundle('acme', first, reads));
    expect(choose('sso.acme.test')).to.not.equal(undefined);
    choose('sso.acme.test');
    expect(reads).to.deep.equal(['acme']);
    expect(choose('unknown.test')).to.equal(undefined);

    // The projection changed: a new bundle of the same tenant is built afresh.
    served.set('sso.acme.test', bundle('acme', ca.issue({ hosts: ['sso.acme.test'] }), reads));
    choose('sso.acme.test');
    expect(reads).to.deep.equal(['acme', 'acme']);

    // MAX_CONTEXTS other tenants used after it: acme's, the least recently used, was dropped.
    for (let i = 0; i < MAX_CONTEXTS; i++) {
      served.set(`t${i}.test`, bundle(`t${i}`, first, reads));
      choose(`t${i}.test`);
    }
    choose(`t${MAX_CONTEXTS - 1}.test`);
    expect(reads.filter((key) => key === `t${MAX_CONTEXTS - 1}`)).to.have.length(1);
    choose('sso.acme.test');
    expect(reads.filter((key) => key === 'acme')).to.have.length(3);
  });
});
