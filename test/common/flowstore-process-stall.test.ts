import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import type { RedisFlowStore } from '../../common/flowstore/redis-store.js';
import { connectedFlowStore } from '../../testkit/redis.js';

/** Holds this process's event loop for `ms`, as a long GC pause or a CPU quota's throttling does. */
function stallProcess(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // Nothing else of this process runs meanwhile: timers fall due, answers wait in the socket.
  }
}

/** Counts the writes to the store's socket: one per command sent (no pipelining). */
function countWrites(store: RedisFlowStore): { count(): number; restore(): void } {
  const stream = (store.client as Redis).stream;
  const write = stream.write;
  let writes = 0;
  stream.write = function (this: typeof stream, ...args: Parameters<typeof write>) {
    writes++;
    return write.apply(this, args);
  } as typeof write;
  return {
    count: () => writes,
    restore: () => {
      stream.write = write;
    },
  };
}

/**
 * Waits until `n` commands are on the wire, without a turn of the event loop where one can be
 * helped (a command sent from a promise's continuation), so its answer is not read yet; a command
 * that waits for an earlier answer gets a turn.
 */
async function sent(writes: { count(): number }, n: number): Promise<void> {
  const giveUpAt = performance.now() + 5_000;
  for (let round = 0; writes.count() < n; round++) {
    if (performance.now() > giveUpAt) throw new Error(`only ${writes.count()} of ${n} commands sent`);
    if (round % 50 === 49) await new Promise((resolve) => setImmediate(resolve));
    else await Promise.resolve();
  }
}

/**
 * The command deadline measures Redis, not this process (ADR 0214): Redis answers at once while
 * the process is stalled past the deadline, and the answer is taken. ioredis's commandTimeout
 * failed such a command (FLOW_STORE_UNAVAILABLE, a 503 to a customer), and reported a claim Redis
 * had granted as not known.
 */
describe('flow store on Redis: a stall of this process is not a Redis that does not answer', () => {
  let store: RedisFlowStore;
  before(async () => {
    store = await connectedFlowStore('process-stall');
  });
  after(() => store.close());

  const stall = () => stallProcess(store.commandDeadlineMs + 300);

  it('takes a read Redis answered while the process was stalled past the deadline', async () => {
    const key = `stall:${randomUUID()}`;
    await store.put(key, 'kept', 60);
    const writes = countWrites(store);
    try {
      const read = store.get(key);
      await sent(writes, 1);
      stall();
      expect(await read).to.equal('kept');
    } finally {
      writes.restore();
    }
  });

  it('takes a claim Redis granted while the process was stalled past the deadline', async () => {
    const key = `stall:${randomUUID()}`;
    const writes = countWrites(store);
    try {
      // Redis's clock (TIME), then the claim itself: the stall comes with the claim on the wire.
      const claimed = store.claim(key, 'first', 60);
      await sent(writes, 2);
      stall();
      expect(await claimed).to.equal(true);
    } finally {
      writes.restore();
    }
    expect(await store.get(key)).to.equal('first');
  });
});
