import { expect } from 'chai';
import { Redis } from 'ioredis';
import {
  type FlowStore,
  FlowStoreUnavailableError,
  MemoryFlowStore,
  RedisFlowStore,
} from '../../common/flowstore/index.js';
import { freePort, startLocalRedis } from '../../testkit/local-redis.js';
import { connectedFlowStore, redisUrl } from '../../testkit/redis.js';

/** One contract, two implementations: what the broker and portal rely on must hold for both. */
function flowStoreContract(
  name: string,
  make: () => Promise<{ store: FlowStore; expire: (seconds: number) => Promise<void> }>,
) {
  describe(`${name} flow store contract`, () => {
    let store: FlowStore;
    let expire: (seconds: number) => Promise<void>;
    beforeEach(async () => ({ store, expire } = await make()));
    afterEach(async () => store?.close());

    it('returns what was put, and undefined for an absent key', async () => {
      await store.put('a', 'one', 60);
      expect(await store.get('a')).to.equal('one');
      expect(await store.get('absent')).to.equal(undefined);
    });

    it('replaces a value on put', async () => {
      await store.put('a', 'one', 60);
      await store.put('a', 'two', 60);
      expect(await store.get('a')).to.equal('two');
    });

    it('take reads once and deletes', async () => {
      await store.put('flow', 'state', 60);
      expect(await store.take('flow')).to.equal('state');
      expect(await store.take('flow')).to.equal(undefined);
      expect(await store.get('flow')).to.equal(undefined);
    });

    it('takeLeaving reads once and leaves its marker, which expires; an absent key stays absent', async () => {
      await store.put('state:s1', 'flow-1', 60);
      expect(await store.takeLeaving('state:s1', 'used', 1)).to.equal('flow-1');
      expect(await store.get('state:s1')).to.equal('used');
      expect(await store.takeLeaving('state:s1', 'used', 1)).to.equal('used');
      expect(await store.takeLeaving('state:absent', 'used', 60)).to.equal(undefined);
      expect(await store.get('state:absent')).to.equal(undefined);
      await expire(1);
      expect(await store.get('state:s1')).to.equal(undefined);
      expect(await store.takeLeaving('state:s1', 'used', 60)).to.equal(undefined);
    });

    it('putIfAbsent refuses the second writer (replay detection)', async () => {
      expect(await store.putIfAbsent('assertion-1', 'used', 60)).to.equal(true);
      expect(await store.putIfAbsent('assertion-1', 'used', 60)).to.equal(false);
      expect(await store.get('assertion-1')).to.equal('used');
    });

    it('claim refuses the second writer, as putIfAbsent does', async () => {
      expect(await store.claim('write:{claims}:k', 'pending', 60)).to.equal(true);
      expect(await store.claim('write:{claims}:k', 'other', 60)).to.equal(false);
      expect(await store.get('write:{claims}:k')).to.equal('pending');
    });

    /** Keys of one group, as a caller gives them (the braces: one Redis Cluster hash slot). */
    const slots = ['slot:{p}:0', 'slot:{p}:1', 'slot:{p}:2'];

    it('putInFirstFree writes the first absent key, skipping the taken ones, and says which', async () => {
      await store.put(slots[0]!, 'older', 60);
      expect(await store.putInFirstFree(slots, 'newer', 60, 0)).to.equal(1);
      expect(await store.putInFirstFree(slots, 'newest', 60, 0)).to.equal(2);
      expect(await Promise.all(slots.map((key) => store.get(key)))).to.deep.equal([
        'older',
        'newer',
        'newest',
      ]);
    });

    it('putInFirstFree replaces the whenAllTaken key once every key is taken, and takes an expired one again', async () => {
      for (const key of slots) await store.put(key, 'held', 60);
      expect(await store.putInFirstFree(slots, 'latest', 1, 2)).to.equal(2);
      expect(await Promise.all(slots.map((key) => store.get(key)))).to.deep.equal(['held', 'held', 'latest']);
      await expire(1);
      expect(await store.putInFirstFree(slots, 'again', 60, 0)).to.equal(2);
      expect(await store.get(slots[2]!)).to.equal('again');
    });

    it('putInFirstFree refuses a whenAllTaken outside the keys, writing nothing', async () => {
      for (const whenAllTaken of [-1, 3, 0.5]) {
        let error: unknown;
        await store.putInFirstFree(slots, 'v', 60, whenAllTaken).catch((err) => (error = err));
        expect(error, `whenAllTaken ${whenAllTaken}`).to.be.instanceOf(RangeError);
      }
      expect(await store.get(slots[0]!)).to.equal(undefined);
    });

    it('deleteHolding deletes the keys that still hold the value, and leaves the others', async () => {
      await store.put(slots[0]!, 'mine', 60);
      await store.put(slots[1]!, 'theirs', 60);
      await store.put(slots[2]!, 'mine', 60);
      await store.deleteHolding(slots, 'mine');
      expect(await Promise.all(slots.map((key) => store.get(key)))).to.deep.equal([
        undefined,
        'theirs',
        undefined,
      ]);
      await store.deleteHolding(slots, 'mine');
      expect(await store.get(slots[1]!)).to.equal('theirs');
    });

    it('forgets entries after their TTL', async () => {
      await store.put('short', 'x', 1);
      expect(await store.putIfAbsent('marker', 'x', 1)).to.equal(true);
      await expire(1);
      expect(await store.get('short')).to.equal(undefined);
      expect(await store.putIfAbsent('marker', 'x', 1)).to.equal(true);
    });

    it('deletes', async () => {
      await store.put('d', 'x', 60);
      await store.delete('d');
      expect(await store.get('d')).to.equal(undefined);
    });

    it('refuses a TTL that is not a positive whole number of seconds', async () => {
      for (const ttl of [0, -1, 1.5, Number.NaN]) {
        let error: unknown;
        await store.put('k', 'v', ttl).catch((err) => (error = err));
        expect(error, `ttl ${ttl}`).to.be.instanceOf(RangeError);
      }
    });

    it('answers ping while healthy', async () => {
      await store.ping();
    });
  });
}

let clock = Date.now();
flowStoreContract('memory', async () => {
  clock = Date.now();
  return {
    store: new MemoryFlowStore({ now: () => clock }),
    expire: async (seconds) => {
      clock += seconds * 1000 + 1;
    },
  };
});

flowStoreContract('memory, one tenant of a pool', async () => {
  clock = Date.now();
  return {
    store: new MemoryFlowStore({ now: () => clock }).view('tenant-a'),
    expire: async (seconds) => {
      clock += seconds * 1000 + 1;
    },
  };
});

flowStoreContract('redis', async () => {
  const tenant = `contract-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const store = await connectedFlowStore(tenant);
  return { store, expire: (seconds) => new Promise((r) => setTimeout(r, seconds * 1000 + 200)) };
});

describe('redis flow store', () => {
  it('prefixes every key with the tenant and sets a TTL on it', async () => {
    const store = await connectedFlowStore('tenant-x');
    const raw = new Redis(redisUrl());
    try {
      await store.put('flow:1', 'v', 120);
      await store.putIfAbsent('used:1', 'v', 120);
      await store.putInFirstFree(['slot:{p}:0'], 'v', 120, 0);
      for (const key of [
        'jsm-sso:tenant-x:flow:1',
        'jsm-sso:tenant-x:used:1',
        'jsm-sso:tenant-x:slot:{p}:0',
      ]) {
        const ttl = await raw.ttl(key);
        expect(ttl, key).to.be.within(1, 120);
      }
    } finally {
      await store.close();
      raw.disconnect();
    }
  });

  it('fails fast with FLOW_STORE_UNAVAILABLE when Redis cannot be reached', async () => {
    // The attempt's deadlines set past mocha's timeout (60 s): a wait that ran to them fails the test
    // by that timeout, so an answer at all is the refusal ending the wait (not a bound in ms).
    const store = RedisFlowStore.connect(`redis://127.0.0.1:${await freePort()}`, 't', {
      connectTimeout: 120_000,
      commandTimeout: 120_000,
    });
    try {
      let error: unknown;
      await store.get('k').catch((err) => (error = err));
      expect(error).to.be.instanceOf(FlowStoreUnavailableError);
      expect((error as FlowStoreUnavailableError).code).to.equal('FLOW_STORE_UNAVAILABLE');
      expect((error as FlowStoreUnavailableError).status).to.equal(503);
      // The refused attempt ends the wait: no waiting out a deadline for a Redis that is not there.
      expect((error as { cause?: { cause?: { code?: string } } }).cause?.cause?.code).to.equal(
        'ECONNREFUSED',
      );
    } finally {
      await store.close();
    }
  });

  it('waits for a connection attempt under way rather than failing a command while it completes', async () => {
    const redis = await startLocalRedis();
    // Stopped: the kernel accepts the connection, the ready check stays unanswered until SIGCONT.
    redis.process.kill('SIGSTOP');
    // The attempt's deadlines raised well past the stall, so a loaded machine cannot make it miss them.
    const store = RedisFlowStore.connect(redis.url, 't', { commandTimeout: 10_000, socketTimeout: 10_000 });
    try {
      let settled = false;
      const put = store.put('flow:1', 'state', 60).finally(() => (settled = true));
      // Longer than a wait between attempts (0.5 s): the command must still be waiting for this one.
      // A sleep, not a condition: the wait it must outlast is the store's private timer, and nothing
      // (no event, no command reaching the stopped Redis) marks the moment it would have ended.
      await new Promise((r) => setTimeout(r, 1500));
      expect(settled, 'the command ended while the attempt was under way').to.equal(false);
      redis.process.kill('SIGCONT');
      await put;
      expect(await store.take('flow:1')).to.equal('state');
    } finally {
      redis.process.kill('SIGCONT');
      await store.close();
      await redis.stop();
    }
  });
});
