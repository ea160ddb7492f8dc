import { expect } from 'chai';
import { loadTenantFile } from '../../common/config/load.js';
import { MemoryFlowStore } from '../../common/flowstore/index.js';
import { createMetricsRegistry } from '../../common/metrics.js';
import { urlHostKey } from '../../common/pool/host-routing.js';
import type { SecretReader, TenantBundle } from '../../common/pool/source.js';
import { TenantPool } from '../../common/pool/tenant-pool.js';
import { MAX_CONTEXTS, tenantCertificates } from '../../common/pool/tenant-tls.js';
import { capturedLogger } from '../../testkit/captured-logs.js';
import { makeTestCa, type TestCa } from '../../testkit/pki.js';

/**
 * The context cache behind a pool's SNI (the handshakes themselves: pool-tls.test.ts): one context
 * per bundle, a new bundle of the same tenant (its projection changed) built afresh, and at most
 * MAX_CONTEXTS kept, the least recently used dropped first; and which tenant's certificate a host
 * name shared across ports gets.
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
  it('serves at a host name shared across ports the certificate of the tenant that named its host first, whichever order a replica heard of them in (ADR 0230)', () => {
    const pair = ca.issue({ hosts: ['sso.acme.test'] });
    /** Tenant `namespace/name` at `url`, placed in the pool at `placed` and naming its host since `named`, as the kube source delivers it. */
    const claiming = (key: string, url: string, placed: string, named: string, reads: string[]) => {
      const made = bundle(key, pair, reads);
      const [namespace, name] = key.split('/') as [string, string];
      made.tenant.metadata = { name, namespace };
      made.tenant.spec.broker.url = url;
      const hostClaims = { broker: { host: urlHostKey(url), claimedAt: Date.parse(named) } };
      return { ...made, claimedAt: Date.parse(placed), hostClaims };
    };
    /** The tenants whose certificate a pool that heard of them in `order` reads for sso.acme.test. */
    const readFor = (order: string[]) => {
      const reads: string[] = [];
      const bundles = new Map([
        // Placed long before acme, but at this host name (another port) only since 2026.
        [
          'aaa/squat',
          claiming(
            'aaa/squat',
            'https://sso.acme.test:8443',
            '2024-01-01T00:00:00Z',
            '2026-06-01T00:00:00Z',
            reads,
          ),
        ],
        [
          'acme/acme',
          claiming(
            'acme/acme',
            'https://sso.acme.test',
            '2025-01-01T00:00:00Z',
            '2025-01-01T00:00:00Z',
            reads,
          ),
        ],
      ]);
      const { logger } = capturedLogger({ component: 'broker' });
      const pool = new TenantPool({
        part: 'broker',
        build: async () => ({ handler: (_req, res) => res.end() }),
        store: new MemoryFlowStore(),
        registry: createMetricsRegistry(),
        logger,
      });
      for (const key of order) pool.upsert(bundles.get(key)!);
      tenantCertificates(pool, 'broker', logger)('sso.acme.test');
      return reads;
    };
    expect(readFor(['acme/acme', 'aaa/squat'])).to.deep.equal(['acme/acme']);
    expect(readFor(['aaa/squat', 'acme/acme'])).to.deep.equal(['acme/acme']);
  });
});
