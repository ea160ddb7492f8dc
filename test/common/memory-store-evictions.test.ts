import { expect } from 'chai';
import { MemoryFlowStore } from '../../common/flowstore/index.js';
import { capturedLogger } from '../../testkit/captured-logs.js';

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'stored',
    (e: unknown) => (e as { code?: string }).code,
  );

const SESSION = { evictable: true } as const;

/** The memory store's cap against floods, with sessions that make room rather than keep sign-ins out (ADR 0357). */
describe('memory flow store: evictable entries (ADR 0357)', () => {
  it('makes room for any new key out of the oldest evictable entries, told once; never out of the others', async () => {
    const { logger, logs } = capturedLogger({ component: 'broker' });
    const store = new MemoryFlowStore({ maxEntries: 4, logger });
    try {
      await store.putIfAbsent('saml-message:1', '1', 600); // a replay marker
      await store.put('session:a', 'a', 600, SESSION);
      await store.put('session:b', 'b', 600, SESSION);
      await store.put('session:a', 'a again', 600, SESSION); // rewritten: now the newer of the two
      await store.put('flow:1', 'f', 600);
      // Full: a new flow takes the room of the session written longest ago, b.
      await store.put('flow:2', 'f', 600);
      expect(await store.get('session:b')).to.equal(undefined);
      // A new session takes a's.
      await store.put('session:c', 'c', 600, SESSION);
      expect(await store.get('session:a')).to.equal(undefined);
      // A marker left by takeLeaving is never evictable, whatever was there.
      expect(await store.takeLeaving('session:c', 'used', 600)).to.equal('c');
      // Nothing evictable left: refused as before, and nothing that was there is gone.
      expect(await codeOf(store.put('flow:3', 'f', 600))).to.equal('FLOW_STORE_FULL');
      expect(await codeOf(store.put('session:d', 'd', 600, SESSION))).to.equal('FLOW_STORE_FULL');
      for (const key of ['saml-message:1', 'flow:1', 'flow:2', 'session:c'])
        expect(await store.get(key), key).to.not.equal(undefined);
      expect(store.evictions.get('')).to.equal(2);
      expect(store.refusals.get('')?.get('FLOW_STORE_FULL')).to.equal(2);
      const told = logs.filter((line) => line['reason'] === 'FLOW_STORE_SESSIONS_EVICTED');
      expect(told).to.have.length(1);
      expect(told[0]).to.include({ level: 'warn', event: 'flow_store.sessions_evicted' });
    } finally {
      await store.close();
    }
  });

  it('counts no eviction for a session that had already expired, unswept, when its room was taken', async () => {
    let now = 1_000;
    const store = new MemoryFlowStore({ maxEntries: 3, now: () => now });
    try {
      await store.put('session:b', 'b', 600, SESSION);
      await store.put('session:a', 'a', 1, SESSION); // ends at 2,000
      await store.put('flow:x', 'x', 600);
      now = 1_900; // full: the sweep finds nothing ended, b (the oldest) is evicted
      await store.put('flow:y', 'y', 600);
      expect(store.evictions.get('')).to.equal(1);
      now = 2_100; // a ended; the last sweep was 200 ms ago, so it is still held
      await store.put('flow:z', 'z', 600);
      expect(await store.get('session:a')).to.equal(undefined);
      expect(store.evictions.get(''), 'an ended session is not evicted').to.equal(1);
      // b, evicted, would live until 601,000: a session looked for and not found may be it (ADR 0363).
      expect(store.evictedEntriesLive()).to.equal(true);
      now = 601_000;
      expect(store.evictedEntriesLive(), 'b would have ended by now in any case').to.equal(false);
    } finally {
      await store.close();
    }
  });

  it("in a pool, a tenant's new keys evict only its own sessions: another's full share is refused as before", async () => {
    const store = new MemoryFlowStore({
      tenantShares: { reservedPerTenant: 1, shared: 2, mostPerTenant: 3 },
    });
    const a = store.view('a');
    const b = store.view('b');
    try {
      for (const key of ['1', '2', '3']) await a.put(`session:${key}`, 'a', 600, SESSION);
      await b.put('flow:1', 'b', 600); // its reserve
      // The shared room is a's sessions: b cannot take it from them.
      expect(await codeOf(b.put('flow:2', 'b', 600))).to.equal('FLOW_STORE_FULL');
      expect(await codeOf(b.put('session:1', 'b', 600, SESSION))).to.equal('FLOW_STORE_FULL');
      expect(await a.get('session:1')).to.equal('a');
      // a, at its ceiling, makes room out of its own oldest session.
      await a.put('flow:1', 'a', 600);
      expect(await a.get('session:1')).to.equal(undefined);
      expect(store.evictions.get('a')).to.equal(1);
      expect(store.evictions.has('b')).to.equal(false);
      // What a logout that finds nothing is told (ADR 0363): a's sessions may be lost, b's not.
      expect(a.evictedEntriesLive?.()).to.equal(true);
      expect(b.evictedEntriesLive?.()).to.equal(false);
      // a leaves the pool (ADR 0367): its counts, which the metrics are made of, go; b's refusals and
      // what a's logouts are told stay.
      store.forgetCounts('a');
      expect(store.evictions.has('a')).to.equal(false);
      expect(store.refusals.get('b')?.get('FLOW_STORE_FULL')).to.equal(2);
      expect(a.evictedEntriesLive?.()).to.equal(true);
    } finally {
      await store.close();
    }
  });
});
