import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect } from 'chai';
import type { KubeObject } from '../../common/kube/client.js';
import { cachedTenant } from '../../operator/cached-tenant.js';
import { InternedStrings } from '../../operator/interned-strings.js';
import { pooledOnSharedSecrets } from '../../testkit/tenants.js';

/** The operator's one copy of repeated strings in its caches (ADR 0120). */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** A pooled tenant as the API server sends it: its own name, uid and URLs, the rest like its pool's. */
function tenantJson(i: number): string {
  const tenant = pooledOnSharedSecrets('customers', `t${i}`, 'pools', 'shared') as unknown as KubeObject;
  const at = '2026-12-02T07:00:00Z';
  const condition = (type: string, reason: string, message: string) => ({
    type,
    status: 'True',
    reason,
    message,
    lastTransitionTime: at,
    observedGeneration: 1,
  });
  return JSON.stringify({
    ...tenant,
    metadata: {
      ...tenant.metadata,
      uid: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`,
      generation: 1,
    },
    status: {
      observedGeneration: 1,
      placement: 'pool pools/shared',
      conditions: [
        condition('ConfigValid', 'Valid', 'the configuration is valid'),
        condition('Applied', 'ObjectsApplied', 'every object is in its desired state'),
        condition(
          'PoolReady',
          'PoolNotReady',
          'JsmSsoPool pools/shared is not Ready: the broker Deployment has no available pod',
        ),
        condition(
          'SigningCertificateValid',
          'CertificatesValid',
          'broker certificate valid until 2036-11-29T06:51:39Z',
        ),
      ],
    },
  });
}

function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

describe('interned strings (the operator caches one copy of repeated values)', () => {
  it('keeps every value of a tenant, copies rather than changes it, and stays bounded', () => {
    const strings = new InternedStrings(3);
    const tenant = JSON.parse(tenantJson(1)) as KubeObject;
    const before = JSON.stringify(tenant);
    const cached = cachedTenant(tenant, strings);
    expect(cached['spec']).to.deep.equal(tenant['spec']);
    expect(cached['spec'] === tenant['spec'], 'a copy').to.equal(false);
    expect(cached['status']).to.deep.equal(tenant['status']);
    expect(JSON.stringify(tenant)).to.equal(before);
    expect(strings.size).to.be.at.most(3);
    expect(strings.deep([null, 1, true, 'a', { b: ['c'] }])).to.deep.equal([
      null,
      1,
      true,
      'a',
      { b: ['c'] },
    ]);
  });

  it('holds 2,000 cached pooled tenants in less heap than their parsed copies (a tenth less at least)', () => {
    const count = 2_000;
    const keep = (transform: (tenant: KubeObject) => KubeObject) => {
      const start = heapUsed();
      const cache = Array.from({ length: count }, (_, i) =>
        transform(JSON.parse(tenantJson(i)) as KubeObject),
      );
      const used = heapUsed() - start;
      expect(cache).to.have.length(count);
      return used;
    };
    // The least of three rounds each: what else the process keeps meanwhile (a suite's timers and
    // sockets) only adds to a round, so the least is the nearest to the cache's own heap.
    let parsed = Number.POSITIVE_INFINITY;
    let interned = Number.POSITIVE_INFINITY;
    for (let round = 0; round < 3; round++) {
      parsed = Math.min(
        parsed,
        keep((tenant) => tenant),
      );
      const strings = new InternedStrings();
      interned = Math.min(
        interned,
        keep((tenant) => cachedTenant(tenant, strings)),
      );
    }
    // V8 already shares very short strings; the messages, times and spec values are what remain.
    expect(interned / parsed, `${interned} bytes interned, ${parsed} parsed`).to.be.below(0.9);
  });
});
