import { expect } from 'chai';
import { MemoryFlowStore } from '../../common/flowstore/index.js';
import {
  heldForSeconds,
  WriteClaims,
  WriteInProgressError,
  WriteUnconfirmedError,
} from '../../portal/write-claims.js';
import { newWriteKey, type WriteOutcome, writeKeyMadeAt } from '../../portal/write-once.js';

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
      {
        find: async () => {
          looks.push('looked');
          return undefined;
        },
      },
    );
    expect(await waiter).to.deep.equal({ value: 'IT-9', existed: false });
    await holder.catch((err: Error) => expect(err.message).to.equal('Atlassian kept refusing'));
    expect(writes).to.deep.equal(['holder', 'waiter']);
    expect(looks).to.deep.equal(['looked']);
  });

  it('answers PORTAL_WRITE_IN_PROGRESS (409), writing nothing, while a claim stays held past the wait, saying when it is over at the latest', async () => {
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
    // The claim was taken before this post found it, for holdSeconds: over within them (ADR 0401).
    expect((err as WriteInProgressError).retryAfterSeconds).to.equal(60);
    expect(wrote).to.equal(false);
  });

  describe('after a holder gave up on a write that may have been made (ADR 0240)', () => {
    const key = 'write:{claims}:create:1:a:k';
    /** A post of the same form, the give-up left `ageMs` ago; what it wrote, if anything. */
    async function post(ageMs: number | 'bare', confirmed: string | undefined | Error) {
      const store = new MemoryFlowStore();
      await store.put(key, ageMs === 'bare' ? 'unconfirmed' : `unconfirmed:${Date.now() - ageMs}`, 600);
      const outcome = await new WriteClaims(store, { holdSeconds: 60, waitMs: 1000 })
        .once('create:1:a:k', async () => ({ value: 'IT-10', existed: false }), {
          find: async () => undefined,
          confirm: async () => {
            if (confirmed instanceof Error) throw confirmed;
            return confirmed;
          },
        })
        .catch((err: unknown) => err);
      return { outcome, left: await store.get(key) };
    }

    it('lands on the write a look past the search finds, at once or later', async () => {
      for (const age of [0, 31_000])
        expect((await post(age, 'IT-9')).outcome).to.deep.equal({ value: 'IT-9', existed: true });
    });

    it('writes nothing for 30 s when it is not found (it may still be under way), a bare marker too', async () => {
      for (const age of [0, 29_000, 'bare'] as const) {
        const { outcome, left } = await post(age, undefined);
        expect(outcome).to.be.instanceOf(WriteUnconfirmedError);
        expect(left).to.match(/^unconfirmed/);
      }
    });

    it('writes nothing when the look past the search fails, however long ago the give-up was', async () => {
      const failed = new Error('Atlassian did not answer the look');
      for (const age of [0, 31_000]) {
        const { outcome, left } = await post(age, failed);
        expect(outcome).to.be.instanceOf(WriteUnconfirmedError);
        expect((outcome as WriteUnconfirmedError).cause).to.equal(failed);
        expect(left).to.match(/^unconfirmed/);
      }
    });

    it('writes nothing however late for a write kept (nothing could find it), and keeps what became of it', async () => {
      const store = new MemoryFlowStore();
      const kept = new WriteClaims(store, { holdSeconds: 60, waitMs: 1000 });
      const looks = { mayHaveWritten: () => true, keepSeconds: 28_800 };
      const failed = new Error('Atlassian answered 500 after the step');
      await kept.once('transition:IT-1:k', () => Promise.reject(failed), looks).catch(() => undefined);
      const stepKey = 'write:{claims}:transition:IT-1:k';
      await store.put(stepKey, `unconfirmed:${Date.now() - 31_000}`, 28_800);
      const again = await kept
        .once('transition:IT-1:k', async () => ({ value: true, existed: false }), looks)
        .catch((err: unknown) => err);
      expect(again).to.be.instanceOf(WriteUnconfirmedError);
      // Taken fine: its outcome outlives the hold.
      const now = { ms: Date.now() };
      const clocked = new MemoryFlowStore({ now: () => now.ms });
      const taken = new WriteClaims(clocked, { holdSeconds: 60, waitMs: 1000 });
      const steps: string[] = [];
      const step = async () => {
        steps.push('taken');
        return { value: true, existed: false };
      };
      await taken.once('transition:IT-1:k2', step, looks);
      now.ms += 61_000;
      expect(await taken.once('transition:IT-1:k2', step, looks)).to.deep.equal({
        value: true,
        existed: true,
      });
      expect(steps).to.deep.equal(['taken']);
    });

    // What its page says and its Retry-After (ADR 0399): only a time the claim holds the form for.
    it('tells when the form can be sent again only while its claim holds it for a time', async () => {
      const gaveUp = async (store: MemoryFlowStore, keepSeconds?: number) => {
        const failed = new Error('Atlassian did not answer in time');
        const looks = { mayHaveWritten: () => true, ...(keepSeconds === undefined ? {} : { keepSeconds }) };
        await new WriteClaims(store, { holdSeconds: 60, waitMs: 1000 })
          .once('comment:IT-1:k', () => Promise.reject(failed), looks)
          .catch(() => undefined);
        return heldForSeconds(failed);
      };
      expect(await gaveUp(new MemoryFlowStore()), 'a give-up that holds its form').to.equal(30);
      expect(await gaveUp(new MemoryFlowStore(), 28_800), 'a form kept for its life').to.equal(undefined);
      class MarkLost extends MemoryFlowStore {
        override async put(): Promise<void> {
          throw new Error('the store did not answer');
        }
      }
      expect(await gaveUp(new MarkLost()), 'a mark the store did not write').to.equal(undefined);
      // A post refused within the hold: the claims' own error says it, as WriteInProgressError does.
      const refusedWithin = async (age: number, look: Error | undefined) =>
        ((await post(age, look)).outcome as WriteUnconfirmedError).retryAfterSeconds;
      expect(await refusedWithin(29_000, undefined), 'a post 29 s into the hold').to.equal(1);
      const failed = new Error('Atlassian did not answer the look');
      expect(await refusedWithin(0, failed), 'a failed look within the hold').to.equal(30);
      expect(await refusedWithin(31_000, failed), 'a failed look past it').to.equal(undefined);
      expect(heldForSeconds((await post(0, failed)).outcome), 'read as any other hold').to.equal(30);
    });

    it('writes in its turn after 30 s when the look past the search finds nothing', async () => {
      const { outcome, left } = await post(31_000, undefined);
      expect(outcome).to.deep.equal({ value: 'IT-10', existed: false });
      expect(JSON.parse(left!)).to.deep.equal({ value: 'IT-10' });
    });
  });

  // ADR 0435: a claim gone (its give-up's 10 minutes over, or lost by the store) left a form sent again
  // to the search alone, which may lag: its request was raised twice.
  describe('a form older than a claim lives, no claim of it found', () => {
    /** A fresh post of a form whose key was made `ageMs` ago (holdSeconds 140); what it looked and wrote. */
    async function post(formMadeAt: number, confirmed: string | undefined | Error) {
      const calls: string[] = [];
      const store = new MemoryFlowStore();
      const outcome = await new WriteClaims(store, { holdSeconds: 140, waitMs: 1000 })
        .once(
          'create:1:a:k',
          async () => {
            calls.push('write');
            return { value: 'IT-10', existed: false };
          },
          {
            find: async () => undefined,
            confirm: async () => {
              calls.push('confirm');
              if (confirmed instanceof Error) throw confirmed;
              return confirmed;
            },
            formMadeAt,
          },
        )
        .catch((err: unknown) => err);
      return { outcome, calls, left: await store.get('write:{claims}:create:1:a:k') };
    }
    const madeAgo = (ms: number) => writeKeyMadeAt(newWriteKey(Date.now() - ms));

    it('lands on the write a look past the search finds, and keeps it in its claim', async () => {
      for (const ageMs of [111_000, 601_000, 8 * 3600_000]) {
        const { outcome, calls, left } = await post(madeAgo(ageMs), 'IT-9');
        expect(outcome).to.deep.equal({ value: 'IT-9', existed: true });
        expect(calls).to.deep.equal(['confirm']);
        expect(JSON.parse(left!)).to.deep.equal({ value: 'IT-9' });
      }
    });

    it('writes when the look past the search finds nothing, or fails (nothing known: as on the search alone)', async () => {
      for (const confirmed of [undefined, new Error('Atlassian did not answer the look')]) {
        const { outcome, calls } = await post(madeAgo(601_000), confirmed);
        expect(outcome).to.deep.equal({ value: 'IT-10', existed: false });
        expect(calls).to.deep.equal(['confirm', 'write']);
      }
    });

    it('looks for a form whose key tells no time of this portal (a key of an earlier release, random throughout)', async () => {
      const { calls } = await post(writeKeyMadeAt('jsmssoffffffff0123456789abcdef01'), undefined);
      expect(calls).to.deep.equal(['confirm', 'write']);
    });

    it('writes at once for a form younger than a claim lives (it cannot have lost one), a replica’s clock ahead too', async () => {
      for (const ageMs of [0, 109_000, -29_000]) {
        const { calls } = await post(madeAgo(ageMs), 'IT-9');
        expect(calls, `a form made ${ageMs} ms ago`).to.deep.equal(['write']);
      }
    });
  });

  it('reads when a write key was made, to the second', () => {
    const now = Date.now();
    expect(now - writeKeyMadeAt(newWriteKey(now))).to.be.within(0, 999);
  });
});
