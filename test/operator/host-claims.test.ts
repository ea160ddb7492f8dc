import { expect } from 'chai';
import { type JsmSsoTenant, loadTenantFile } from '../../common/config/load.js';
import type { KubeObject } from '../../common/kube/client.js';
import { HOST_CLAIMS_ANNOTATION, hostClaimsText } from '../../common/pool/claims.js';
import { type HostClaimsCache, hostClaimKeys, hostClaimsToWrite } from '../../operator/host-claims.js';
import { MANAGED_BY } from '../../operator/resources/common.js';
import { POOL_LABEL, placedName, TENANT_UID_LABEL } from '../../operator/resources/projection.js';

/**
 * The host claims the operator writes with a projection (ADR 0230), which its pool ranks hosts by:
 * kept while a host stays, new when it is newly named, never before a claim known on that host.
 * The whole path against a real API server: pool-host-claims.test.ts.
 */
describe('the host claims written with a projection', () => {
  const pool = { namespace: 'pools', name: 'shared' };
  const at = (iso: string) => Date.parse(iso);

  function tenant(namespace: string, name: string, portal: string, broker: string): JsmSsoTenant {
    const made = loadTenantFile('test/fixtures/tenant-valid.yaml');
    made.metadata = { name, namespace, uid: `${namespace}-${name}-uid` };
    made.spec.portal.url = portal;
    made.spec.broker.url = broker;
    return made;
  }

  /** A projection of `owner` in `poolName`, made at `created`, with `claims` as the operator keeps them. */
  function projection(
    owner: JsmSsoTenant,
    created: string,
    claims?: Parameters<typeof hostClaimsText>[0],
    poolName = pool.name,
  ): KubeObject {
    return {
      metadata: {
        name: placedName(owner),
        namespace: pool.namespace,
        creationTimestamp: created as unknown as Date,
        labels: {
          'app.kubernetes.io/managed-by': MANAGED_BY,
          [POOL_LABEL]: poolName,
          [TENANT_UID_LABEL]: owner.metadata!.uid!,
        },
        ...(claims ? { annotations: { [HOST_CLAIMS_ANNOTATION]: hostClaimsText(claims) } } : {}),
      },
    };
  }

  /** The operator's cache holding these tenants and their projections, indexed by the hosts they name. */
  function cacheOf(placed: Array<[JsmSsoTenant, KubeObject]>): HostClaimsCache {
    const key = (t: JsmSsoTenant) => `${t.metadata!.namespace}/${t.metadata!.name}`;
    return {
      tenant: (namespace, name) => placed.find(([t]) => key(t) === `${namespace}/${name}`)?.[0],
      secretMeta: (_namespace, name) => placed.find(([, p]) => p.metadata.name === name)?.[1],
      hostClaimants: (claim) =>
        placed.filter(([t]) => hostClaimKeys(t, pool).includes(claim)).map(([t]) => key(t)),
    };
  }

  const holder = tenant('b', 'holder', 'https://help.b.example', 'https://sso.b.example');
  const holderProjection = projection(holder, '2026-01-01T00:00:00Z', {
    portal: { host: 'help.b.example', claimedAt: at('2026-01-01T00:00:00Z') },
    broker: { host: 'sso.b.example', claimedAt: at('2026-01-01T00:00:00Z') },
  });

  it('keeps the time of a host still named, and claims a host newly named now', () => {
    const moved = tenant('a', 'mover', 'https://help.b.example', 'https://sso.a.example/sso');
    const previous = projection(moved, '2025-01-01T00:00:00Z', {
      portal: { host: 'help.a.example', claimedAt: at('2025-01-01T00:00:00Z') },
      broker: { host: 'sso.a.example', claimedAt: at('2025-01-01T00:00:00Z') },
    });
    const cache = cacheOf([
      [holder, holderProjection],
      [moved, previous],
    ]);
    const now = new Date('2026-06-01T00:00:00Z');
    expect(hostClaimsToWrite(cache, moved, pool, previous, now)).to.deep.equal({
      broker: { host: 'sso.a.example', claimedAt: at('2025-01-01T00:00:00Z') },
      portal: { host: 'help.b.example', claimedAt: now.getTime() },
    });
  });

  it('claims a host newly named after every claim known on it, even by a clock that runs behind', () => {
    const moved = tenant('a', 'mover', 'https://help.b.example', 'https://sso.a.example');
    const cache = cacheOf([
      [holder, holderProjection],
      [moved, projection(moved, '2025-01-01T00:00:00Z')],
    ]);
    const behind = new Date('2025-12-31T23:59:59Z');
    const claims = hostClaimsToWrite(cache, moved, pool, undefined, behind);
    expect(claims.portal?.claimedAt).to.equal(at('2026-01-01T00:00:00Z') + 1);
    expect(claims.broker?.claimedAt).to.equal(behind.getTime());
  });

  it("counts a projection's hosts from its creation when an earlier operator wrote it, and anew in another pool", () => {
    const placed = tenant('a', 'placed', 'https://help.a.example', 'https://sso.a.example');
    const now = new Date('2026-06-01T00:00:00Z');
    const unannotated = projection(placed, '2025-01-01T00:00:00Z');
    const kept = hostClaimsToWrite(cacheOf([[placed, unannotated]]), placed, pool, unannotated, now);
    expect(kept.portal?.claimedAt).to.equal(at('2025-01-01T00:00:00Z'));
    const elsewhere = projection(
      placed,
      '2025-01-01T00:00:00Z',
      { portal: { host: 'help.a.example', claimedAt: at('2025-01-01T00:00:00Z') } },
      'other',
    );
    const moved = hostClaimsToWrite(cacheOf([[placed, elsewhere]]), placed, pool, elsewhere, now);
    expect(moved.portal?.claimedAt).to.equal(now.getTime());
  });
});
