import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { KubeObject } from '../../common/kube/client.js';
import { cachedTenant } from '../../operator/cached-tenant.js';
import { InternedStrings } from '../../operator/interned-strings.js';
import { tenantJson } from './interned-strings-heap.js';

// The operator's one copy of repeated strings in its caches (ADR 0120).
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
    const script = fileURLToPath(new URL('./interned-strings-heap.ts', import.meta.url));
    const { parsed, interned } = JSON.parse(
      execFileSync(process.execPath, ['--import', 'tsx', script, 'measure'], { encoding: 'utf8' }),
    ) as { parsed: number; interned: number };
    // V8 already shares very short strings; the messages, times and spec values are what remain.
    expect(interned / parsed, `${interned} bytes interned, ${parsed} parsed`).to.be.below(0.9);
  });
});
