import { expect } from 'chai';
import { MemoryFlowStore } from '../../common/flowstore/index.js';
import { WriteClaims, WriteInProgressError } from '../../portal/write-claims.js';
import type { WriteOutcome } from '../../portal/write-once.js';

describe('portal write claims (a second post of one form waits for the first)', () => {
  it('lets a waiting post look and write in its turn when the holder gives up', async () => {
    const store = new MemoryFlowStore();
    let fail!: (err: Error) => void;
    const writes: string[] = [];
    const claims = (sleep: () => Promise<void>) =>
      new WriteClaims(store, { holdSeconds: 60, waitMs: 60_000, sleep });
    const holder = claims(async () => {}).once('create:1:a:k', () => {
      writes.push('holder');
      return new Promise<WriteOutcome<string>>((_resolve, reject) => {
        fail = reject;
      });
    });
    const looks: string[] = [];
    // The waiter's first wait is where the holder gives up.
    const waiter = claims(async () => {
      fail(new Error('Atlassian kept refusing'));
      await holder.catch(() => undefined);
    }).once(
      'create:1:a:k',
      async () => {
        writes.push('waiter');
        return { value: 'IT-9', existed: false };
      },
      async () => {
        looks.push('looked');
        return undefined;
      },
    );
    expect(await waiter).to.deep.equal({ value: 'IT-9', existed: false });
    await holder.catch((err: Error) => expect(err.message).to.equal('Atlassian kept refusing'));
    expect(writes).to.deep.equal(['holder', 'waiter']);
    expect(looks).to.deep.equal(['looked']);
  });

  it('answers PORTAL_WRITE_IN_PROGRESS (409), writing nothing, while a claim stays held past the wait', async () => {
    const store = new MemoryFlowStore();
    // A holder that died mid-write: its claim stays until it expires.
    await store.putIfAbsent('write:{claims}:comment:IT-1:k', 'pending', 60);
    let wrote = false;
    const err = await new WriteClaims(store, { holdSeconds: 60, waitMs: 0 })
      .once('comment:IT-1:k', async () => {
        wrote = true;
        return { value: true, existed: false };
      })
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(WriteInProgressError);
    expect([(err as WriteInProgressError).code, (err as WriteInProgressError).status]).to.deep.equal([
      'PORTAL_WRITE_IN_PROGRESS',
      409,
    ]);
    expect(wrote).to.equal(false);
  });
});
