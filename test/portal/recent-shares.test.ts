// The store of whom requests were lately shared with or unshared from (ADR 0419): what a list reads back,
// bounded as Jira's reconcileIssues is, kept under a keyed hash of the account, read across a key rotation.
import { expect } from 'chai';
import { MemoryFlowStore } from '../../common/flowstore/index.js';
import { RecentShares } from '../../portal/recent-shares.js';

describe('portal recent shares', () => {
  const store = new MemoryFlowStore();
  after(() => store.close());
  const bob = { accountId: 'qm:bob', organizationIds: ['7'] };
  const dana = { accountId: 'qm:dana', organizationIds: ['9'] };

  it("gives a person hers, newest first (her newest 50), then her organizations'; recent only; nobody else's", async () => {
    const shares = new RecentShares(store, 'key material');
    const t0 = Date.now();
    await shares.remember({ organizationId: '7' }, '30001', t0);
    for (let i = 1; i <= 51; i++)
      await shares.remember({ accountId: bob.accountId }, String(10_000 + i), t0 + i);
    await shares.remember({ accountId: bob.accountId }, 'IT-1', t0 + 52); // not an issue id: never kept
    const ids = await shares.issueIdsFor(bob, t0 + 100);
    expect(ids).to.have.length(51);
    expect(ids[0]).to.equal('10051');
    expect(ids).to.not.include('10001');
    expect(ids.at(-1), 'her organization’s, after hers').to.equal('30001');
    expect(await shares.issueIdsFor(dana, t0 + 100), 'another person, another organization').to.deep.equal(
      [],
    );
    expect(await shares.issueIdsFor(bob, t0 + 600_100), 'ten minutes on').to.deep.equal([]);
  });

  it('keeps the same share once, and an organization’s entries apart by organization', async () => {
    const shares = new RecentShares(new MemoryFlowStore(), 'key material');
    const t0 = Date.now();
    await shares.remember({ organizationId: '7' }, '40001', t0);
    await shares.remember({ organizationId: '9' }, '40001', t0 + 1);
    await shares.remember({ organizationId: '7' }, '40001', t0 + 2);
    await shares.remember({ accountId: bob.accountId }, '40002', t0 + 3);
    await shares.remember({ accountId: bob.accountId }, '40002', t0 + 4);
    expect(await shares.issueIdsFor(bob, t0 + 10)).to.deep.equal(['40002', '40001']);
    expect(await shares.issueIdsFor(dana, t0 + 10)).to.deep.equal(['40001']);
  });

  it('finds a share kept before a swap of the portal’s key while the old key is held as next (ADR 0298)', async () => {
    const shared = new MemoryFlowStore();
    const t0 = Date.now();
    await new RecentShares(shared, 'old key').remember({ accountId: bob.accountId }, '50001', t0);
    const swapped = new RecentShares(shared, ['new key', 'old key']);
    expect(await swapped.issueIdsFor(bob, t0 + 1)).to.deep.equal(['50001']);
    expect(await new RecentShares(shared, 'new key').issueIdsFor(bob, t0 + 1)).to.deep.equal([]);
  });
});
