import { expect } from 'chai';
import { loadTenantFile } from '../../common/config/load.js';
import type { JsmSsoPool } from '../../common/config/pool.generated.js';
import type { KubeObject } from '../../common/kube/client.js';
import { hostNameRefusal } from '../../operator/pool-host-names.js';

/**
 * Which pooled tenants' hosts are no DNS name an Ingress rule can hold to that host alone (ADR 0254).
 * The whole path (nothing placed, status, Event) against a real API server: pool-host-claims.test.ts.
 */
describe("a pooled tenant's URL host that is not a DNS name", () => {
  const pool = { metadata: { namespace: 'jsm-pools', name: 'shared' }, spec: {} } as JsmSsoPool & KubeObject;
  const refusalAt = (broker: string) => {
    const tenant = loadTenantFile('test/fixtures/tenant-valid.yaml');
    tenant.spec.portal.url = 'https://help.acme.example';
    tenant.spec.broker.url = broker;
    return hostNameRefusal(pool, tenant);
  };

  for (const [url, shown] of [
    ['https://203.0.113.5/sso', '203.0.113.5'],
    // The URL parser reads an address written in hex as the address.
    ['https://0xcb.0.113.5', '203.0.113.5'],
    ['https://[2001:db8::5]:8443', '[2001:db8::5]'],
    ['http://127.0.0.1:8081', '127.0.0.1'],
    ['https://*.acme.example', '*.acme.example'],
    ['https://sso_desk.acme.example', 'sso_desk.acme.example'],
    ['https://sso..acme.example', 'sso..acme.example'],
    ['https://-sso.acme.example', '-sso.acme.example'],
  ] as const)
    it(`refuses ${url}`, () => {
      const refusal = refusalAt(url);
      expect(refusal).to.include({ status: 'False', reason: 'HostNotADnsName' });
      expect(refusal?.message).to.contain(`its broker at ${shown} (spec.broker.url)`);
      expect(refusal?.message).to.contain('JsmSsoPool jsm-pools/shared');
    });

  for (const url of [
    'https://sso.acme.example',
    'https://sso.acme.example./saml',
    'https://SSO.Acme.EXAMPLE:8443',
    'https://bücher.example',
    'http://acme.localhost:8081',
    'https://1-2-3-4.example',
  ])
    it(`places ${url}`, () => {
      expect(refusalAt(url)).to.equal(undefined);
    });
});
