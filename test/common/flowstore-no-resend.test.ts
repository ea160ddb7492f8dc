import { randomUUID } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { expect } from 'chai';
import type { JsmSsoError } from '../../common/errors.js';
import { RedisFlowStore } from '../../common/flowstore/redis-store.js';
import { eventually } from '../../testkit/envtest.js';
import { answering, redisUrl } from '../../testkit/redis.js';

/**
 * A TCP proxy in front of Redis whose `swallow` switch makes the next connection's commands vanish
 * (nothing reaches Redis, nothing comes back: a network that lost them), for good on that connection.
 */
async function swallowingProxy(
  target: URL,
): Promise<{ url: string; swallow: boolean; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const proxy = {
    url: '',
    swallow: false,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    let swallowed = false;
    client.on('data', (chunk) => {
      swallowed ||= proxy.swallow;
      if (!swallowed) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => client.write(chunk));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  proxy.url = `redis://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return proxy;
}

/**
 * A command whose caller was told it failed (the deadline passed) is not sent again on the next
 * connection (ADR 0214): ioredis resends what was unanswered when a connection ends, and a GETDEL
 * resent there took the flow state the person then retried with.
 */
describe('flow store on Redis: a command given up on is not resent on the next connection', function () {
  // Past eventually's 20 s, so a store that never reconnects fails by its message, not mocha's.
  this.timeout(40_000);

  it('leaves the flow state a timed-out take did not reach', async () => {
    const proxy = await swallowingProxy(new URL(redisUrl()));
    const store = await answering(RedisFlowStore.connect(proxy.url, 'no-resend'));
    try {
      const key = `no-resend:${randomUUID()}`;
      await store.put(key, 'flow state', 60);
      proxy.swallow = true;
      const code = await store.take(key).then(
        () => 'answered',
        (err: JsmSsoError) => err.code,
      );
      expect(code).to.equal('FLOW_STORE_UNAVAILABLE');
      proxy.swallow = false;
      // The silent connection ends at the socket timeout (2 s) and the next one is made.
      await eventually(() => store.ping().then(() => true), 'reconnected through the proxy');
      expect(await store.get(key)).to.equal('flow state');
    } finally {
      await store.close();
      await proxy.close();
    }
  });
});
