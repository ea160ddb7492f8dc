import type { FlowStore } from '../common/flowstore/index.js';
import { MemoryFlowStore, RedisFlowStore } from '../common/flowstore/index.js';
import { startLocalRedis } from '../testkit/local-redis.js';

/** put+take round trips per second for each store (one flow step each), and their ratio. */
export async function benchFlowStore(): Promise<Record<string, number>> {
  const redis = await startLocalRedis();
  const memory = new MemoryFlowStore();
  const shared = RedisFlowStore.connect(redis.url, 'bench');
  try {
    await shared.ping();
    const memoryRate = await roundTrips(memory, 20_000);
    const redisRate = await roundTrips(shared, 5_000);
    return {
      'memory put+take per second': memoryRate,
      'redis put+take per second (32 concurrent)': redisRate,
      'redis / memory': redisRate / memoryRate,
    };
  } finally {
    await memory.close();
    await shared.close();
    await redis.stop();
  }
}

async function roundTrips(store: FlowStore, count: number): Promise<number> {
  const value = JSON.stringify({
    requestId: '_'.padEnd(40, 'x'),
    relayState: '/requests',
    verifier: 'v'.repeat(43),
  });
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < count) {
        const key = `flow:${next++}`;
        await store.put(key, value, 60);
        await store.take(key);
      }
    }),
  );
  return count / (Number(process.hrtime.bigint() - started) / 1e9);
}
