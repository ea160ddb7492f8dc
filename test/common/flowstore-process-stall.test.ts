import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { parseRedisAddress } from '../../common/flowstore/redis-address.js';
import { RedisFlowStore } from '../../common/flowstore/redis-store.js';
import {
  type LocalRedis,
  startLocalRedis,
  startLocalReplica,
  startLocalSentinel,
} from '../../testkit/local-redis.js';
import { answering, connectedFlowStore, PATIENT_REPLICA } from '../../testkit/redis.js';

/** Holds this process's event loop for `ms`, as a long GC pause or a CPU quota's throttling does. */
function stallProcess(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // Nothing else of this process runs meanwhile: timers fall due, answers wait in the socket.
  }
}

/**
 * Counts the writes to the socket the store's one-time markers go on (its own, or one for markers
 * alone: ADR 0291): one per command sent (no pipelining).
 */
function countWrites(store: RedisFlowStore): { count(): number; restore(): void } {
  const stream = (store.markerClient as Redis).stream;
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

/** `send`'s answer, this process stalled for `ms` once its first `commands` are on the wire. */
async function throughStall<T>(
  store: RedisFlowStore,
  send: () => Promise<T>,
  commands: number,
  ms: number,
): Promise<T> {
  const writes = countWrites(store);
  try {
    const answer = send();
    await sent(writes, commands);
    stallProcess(ms);
    return await answer;
  } finally {
    writes.restore();
  }
}

/**
 * The command deadline measures Redis, not this process (ADR 0214): Redis answers at once while
 * the process is stalled past the deadline, and the answer is taken. ioredis's commandTimeout
 * failed such a command (FLOW_STORE_UNAVAILABLE, a 503 to a customer), and reported a claim Redis
 * had granted as not known. Past the socket timeout (2 s) too (ADR 0259): ioredis's timer for a
 * silent connection fires in the same phase, before the poll that would read the answer, and
 * dropped the connection with it: a take Redis did, a marker it wrote, were 503s.
 */
describe('flow store on Redis: a stall of this process is not a Redis that does not answer', () => {
  let store: RedisFlowStore;
  before(async () => {
    store = await connectedFlowStore('process-stall');
  });
  after(() => store.close());

  const pastDeadline = () => store.commandDeadlineMs + 300;
  const pastSocketTimeout = 3_000;

  it('takes a read Redis answered while the process was stalled past the deadline', async () => {
    const key = `stall:${randomUUID()}`;
    await store.put(key, 'kept', 60);
    expect(await throughStall(store, () => store.get(key), 1, pastDeadline())).to.equal('kept');
  });

  it('takes a claim Redis granted while the process was stalled past the deadline', async () => {
    const key = `stall:${randomUUID()}`;
    // Redis's clock (TIME), then the claim itself: the stall comes with the claim on the wire.
    expect(await throughStall(store, () => store.claim(key, 'first', 60), 2, pastDeadline())).to.equal(true);
    expect(await store.get(key)).to.equal('first');
  });

  it('takes the answer to a take Redis did while the process was stalled past the socket timeout', async function () {
    this.timeout(10_000);
    const key = `stall:${randomUUID()}`;
    await store.put(key, 'flow state', 60);
    expect(await throughStall(store, () => store.take(key), 1, pastSocketTimeout)).to.equal('flow state');
  });

  it('takes the answer to a marker Redis wrote while the process was stalled past the socket timeout', async function () {
    this.timeout(10_000);
    const key = `stall:${randomUUID()}`;
    // The connection is up (an earlier case's may have been made again).
    await store.ping();
    expect(
      await throughStall(store, () => store.putIfAbsent(key, 'used', 60), 1, pastSocketTimeout),
    ).to.equal(true);
    expect(await store.get(key)).to.equal('used');
  });
});

/** The same over Sentinel, whose connection to the master ioredis's SentinelConnector makes (ADR 0259). */
describe('flow store on Redis through Sentinel: a stall of this process past the socket timeout', function () {
  this.timeout(20_000);
  const started: LocalRedis[] = [];
  let store: RedisFlowStore;
  before(async () => {
    const master = await startLocalRedis();
    started.push(master);
    // A take through Sentinel waits for a replica to hold it (ADR 0261).
    started.push(await startLocalReplica(master.port));
    const sentinel = await startLocalSentinel({ masterPort: master.port, name: 'stalled' });
    started.push(sentinel);
    store = await answering(
      RedisFlowStore.open(parseRedisAddress(sentinel.url), 'process-stall', undefined, PATIENT_REPLICA),
    );
  });
  after(async () => {
    await store?.close();
    for (const redis of started) await redis.stop();
  });

  it('takes the answer to a take the master did while the process was stalled', async () => {
    const key = `stall:${randomUUID()}`;
    await store.put(key, 'flow state', 60);
    expect(await throughStall(store, () => store.take(key), 1, 3_000)).to.equal('flow state');
  });
});
