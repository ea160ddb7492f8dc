import { expect } from 'chai';
import { type JsmSsoTenant, loadTenantFile } from '../../common/config/load.js';
import type { JsmSsoPool } from '../../common/config/pool.generated.js';
import type { KubeObject } from '../../common/kube/client.js';
import { poolServiceRefusal } from '../../operator/pool-service-hosts.js';

/**
 * Which tenant URLs name a pool's Service as a server name can (ADR 0249). The whole path (nothing
 * placed, status, Event) against a real API server: pool-host-claims.test.ts.
 */
describe("a pooled tenant's URL at one of its pool's Service names", () => {
  const pool = { metadata: { namespace: 'jsm-pools', name: 'shared' }, spec: {} } as JsmSsoPool & KubeObject;

  function tenant(portal: string, broker = 'https://sso.acme.example'): JsmSsoTenant {
    const made = loadTenantFile('test/fixtures/tenant-valid.yaml');
    made.metadata = { name: 'acme', namespace: 'acme', uid: 'acme-uid' };
    made.spec.portal.url = portal;
    made.spec.broker.url = broker;
    return made;
  }

  for (const url of [
    'https://shared-portal',
    'https://shared-portal.jsm-pools',
    'https://shared-portal.jsm-pools.svc',
    'https://shared-portal.jsm-pools.svc.cluster.local',
    'https://shared-portal.jsm-pools.svc.cluster.local.',
    'https://Shared-Portal.JSM-Pools.SVC:8443/help',
    'https://shared-broker.jsm-pools.svc.corp.internal/x',
  ])
    it(`refuses ${url}`, () => {
      const refusal = poolServiceRefusal(pool, tenant(url));
      expect(refusal).to.include({ status: 'False', reason: 'HostIsPoolService' });
      expect(refusal?.message).to.match(
        /its portal at shared-(portal|broker)\.?[a-z.-]* \(spec\.portal\.url\) is Service jsm-pools\/shared-(portal|broker)/,
      );
    });

  for (const url of [
    'https://help.acme.example',
    'https://shared-portal.other-ns.svc',
    'https://shared-portal-x.jsm-pools.svc',
    'https://other-portal.jsm-pools.svc',
    'https://help.shared-portal.jsm-pools.svc',
    'https://shared-portal.jsm-pools.svcx',
  ])
    it(`places ${url}`, () => {
      expect(poolServiceRefusal(pool, tenant(url))).to.equal(undefined);
    });

  it('names each part that is at a Service', () => {
    const refusal = poolServiceRefusal(
      pool,
      tenant('https://shared-broker.jsm-pools.svc', 'https://shared-portal.jsm-pools'),
    );
    expect(refusal?.message).to.contain(
      'its broker at shared-portal.jsm-pools (spec.broker.url) is Service jsm-pools/shared-portal; its portal at shared-broker.jsm-pools.svc (spec.portal.url) is Service jsm-pools/shared-broker',
    );
  });
});
