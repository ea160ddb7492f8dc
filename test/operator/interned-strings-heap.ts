// The heap of 2,000 cached pooled tenants, interned and as parsed, measured in a process of its own
// (run by test/operator/interned-strings.test.ts): in a test suite's process, what its other tests left
// in V8's heap and string table moved the ratio (0.83 alone, 0.90-0.96 in a suite).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { KubeObject } from '../../common/kube/client.js';
import { cachedTenant } from '../../operator/cached-tenant.js';
import { InternedStrings } from '../../operator/interned-strings.js';
import { pooledOnSharedSecrets } from '../../testkit/tenants.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** A pooled tenant as the API server sends it: its own name, uid and URLs, the rest like its pool's. */
export function tenantJson(i: number): string {
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

const COUNT = 2_000;

/** Heap the process holds while it keeps COUNT tenants as `transform` leaves them. */
function keep(transform: (tenant: KubeObject) => KubeObject): number {
  const start = heapUsed();
  const cache = Array.from({ length: COUNT }, (_, i) => transform(JSON.parse(tenantJson(i)) as KubeObject));
  const used = heapUsed() - start;
  if (cache.length !== COUNT) throw new Error('the cache lost tenants');
  return used;
}

if (process.argv[2] === 'measure') {
  // The least of three rounds each: the nearest to the cache's own heap.
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
  process.stdout.write(JSON.stringify({ parsed, interned }));
}
