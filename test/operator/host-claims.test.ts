import { expect } from 'chai';
import { type JsmSsoTenant, loadTenantFile } from '../../common/config/load.js';
import type { JsmSsoPool } from '../../common/config/pool.generated.js';
import type { KubeObject } from '../../common/kube/client.js';
import { HOST_CLAIMS_ANNOTATION, hostClaimsText } from '../../common/pool/claims.js';
import {
  type HostClaimsCache,
  hostClaimedCondition,
  hostClaimKeys,
  hostClaimsToWrite,
  hostConflicts,
  projectionClaimKeys,
} from '../../operator/host-claims.js';
import { MANAGED_BY } from '../../operator/resources/common.js';
import {
  POOL_LABEL,
  placedName,
  TENANT_NAME_LABEL,
  TENANT_NAMESPACE_LABEL,
  TENANT_UID_LABEL,
} from '../../operator/resources/projection.js';
import { tlsCertificateCondition } from '../../operator/server-name-claims.js';

/**
 * The host claims the operator writes with a projection (ADR 0230), which its pool ranks hosts by:
 * kept while a host stays, new when it is newly named, never before a claim known on that host.
 * The whole path against a real API server: pool-host-claims.test.ts.
 */
describe('the host claims written with a projection, and read as the pool reads them', () => {
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
          [TENANT_NAMESPACE_LABEL]: owner.metadata!.namespace!,
          [TENANT_NAME_LABEL]: owner.metadata!.name!,
          [TENANT_UID_LABEL]: owner.metadata!.uid!,
        },
        ...(claims ? { annotations: { [HOST_CLAIMS_ANNOTATION]: hostClaimsText(claims) } } : {}),
      },
    };
  }

  /**
   * The operator's cache holding these tenants and their projections, indexed by the hosts they name,
   * and the projections `left` behind by tenants it no longer knows.
   */
  function cacheOf(placed: Array<[JsmSsoTenant, KubeObject]>, left: KubeObject[] = []): HostClaimsCache {
    const key = (t: JsmSsoTenant) => `${t.metadata!.namespace}/${t.metadata!.name}`;
    const projections = [...placed.map(([, p]) => p), ...left];
    return {
      tenant: (namespace, name) => placed.find(([t]) => key(t) === `${namespace}/${name}`)?.[0],
      secretMeta: (_namespace, name) => projections.find((p) => p.metadata.name === name),
      hostClaimants: (claim) =>
        placed.filter(([t]) => hostClaimKeys(t, pool).includes(claim)).map(([t]) => key(t)),
      projectionsClaiming: (claim) => projections.filter((p) => projectionClaimKeys(p).includes(claim)),
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
  it('counts a projection left behind by a tenant the operator no longer knows, as the pool serves it, and names its Secret', () => {
    const newcomer = tenant('c', 'newcomer', 'https://help.b.example', 'https://sso.c.example');
    const placed = projection(newcomer, '2026-06-01T00:00:00Z', {
      portal: { host: 'help.b.example', claimedAt: at('2026-06-01T00:00:00Z') },
      broker: { host: 'sso.c.example', claimedAt: at('2026-06-01T00:00:00Z') },
    });
    const cache = cacheOf([[newcomer, placed]], [holderProjection]);
    const conflicts = hostConflicts(cache, newcomer, pool);
    expect(conflicts.map((c) => [c.part, c.host, c.holder.key, c.holder.leftover])).to.deep.equal([
      ['portal', 'help.b.example', 'b/holder', holderProjection.metadata.name],
    ]);
    expect(hostClaimedCondition(conflicts, pool).message).to.contain(
      `JsmSsoTenant b/holder claimed that host first (named it 2026-01-01T00:00:00.000Z; the operator knows no such tenant now: the projection it left behind, Secret pools/${holderProjection.metadata.name}, is served until it is removed)`,
    );
    // A host newly named ranks after it too.
    const moved = hostClaimsToWrite(cache, newcomer, pool, undefined, new Date('2025-01-01T00:00:00Z'));
    expect(moved.portal?.claimedAt).to.equal(at('2026-01-01T00:00:00Z') + 1);
  });

  describe('whose certificate a TLS pool serves for a host name its tenants share across ports (ADR 0235)', () => {
    const tls = { spec: { portal: { tls: {} } } } as unknown as JsmSsoPool;
    const plain = { spec: { portal: {} } } as unknown as JsmSsoPool;
    /** Tenant `namespace/name` at `portal`, with a certificate of its own unless told, and its projection claiming it since `since`. */
    function placedAt(namespace: string, name: string, portal: string, since: string, own = true) {
      const t = tenant(namespace, name, portal, `https://sso.${name}.example`);
      if (own) t.spec.portal.tlsSecretRef = { name: `${name}-tls` };
      const host = new URL(portal).host;
      return [
        t,
        projection(t, since, {
          portal: { host, claimedAt: at(since) },
          broker: { host: `sso.${name}.example`, claimedAt: at(since) },
        }),
      ] as [JsmSsoTenant, KubeObject];
    }
    const first = placedAt('a', 'first', 'https://help.shared.example', '2026-01-01T00:00:00Z');
    const second = placedAt('b', 'second', 'https://help.shared.example:8443', '2026-02-01T00:00:00Z');

    it('tells the later claim whose certificate is served for the name, and the earlier that its own is', () => {
      const cache = cacheOf([first, second]);
      const told = tlsCertificateCondition(cache, second[0], tls, pool, []);
      expect(told).to.include({ status: 'False', reason: 'ServerNameClaimedByEarlierTenant' });
      expect(told?.message).to.contain(
        'its portal at help.shared.example:8443 (spec.portal.tlsSecretRef): clients naming help.shared.example get the certificate of JsmSsoTenant a/first, ',
      );
      expect(tlsCertificateCondition(cache, first[0], tls, pool, [])).to.deep.equal({
        status: 'True',
        reason: 'CertificateServed',
        message:
          "JsmSsoPool pools/shared serves this tenant's spec.portal.tlsSecretRef to clients naming help.shared.example",
      });
      // Whichever order the cache lists them in.
      expect(tlsCertificateCondition(cacheOf([second, first]), second[0], tls, pool, [])?.reason).to.equal(
        'ServerNameClaimedByEarlierTenant',
      );
    });

    it('judges only a certificate the pool would serve, at a host it serves the tenant at', () => {
      const cache = cacheOf([first, second]);
      expect(tlsCertificateCondition(cache, second[0], plain, pool, [])).to.equal(undefined);
      const uncertified = placedAt(
        'c',
        'uncertified',
        'https://help.shared.example:9443',
        '2026-03-01T00:00:00Z',
        false,
      );
      expect(tlsCertificateCondition(cacheOf([first, uncertified]), uncertified[0], tls, pool, [])).to.equal(
        undefined,
      );
      // Its host held by an earlier tenant: PoolReady tells it (hostConflicts), this condition does not.
      const sameHost = placedAt('d', 'same', 'https://help.shared.example', '2026-04-01T00:00:00Z');
      const cacheWithSame = cacheOf([first, sameHost]);
      const conflicts = hostConflicts(cacheWithSame, sameHost[0], pool);
      expect(conflicts.map((c) => c.holder.key)).to.deep.equal(['a/first']);
      expect(tlsCertificateCondition(cacheWithSame, sameHost[0], tls, pool, conflicts)).to.equal(undefined);
    });
  });
});
