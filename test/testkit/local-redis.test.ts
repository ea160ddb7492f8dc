import { execFileSync } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { expect } from 'chai';
import {
  freePort,
  type LocalRedis,
  onFreePort,
  PortTakenError,
  startLocalRedis,
} from '../../testkit/local-redis.js';

/** The pid of the Redis that answers on `port`, read from its own INFO. */
function pidOn(port: number): number {
  const info = execFileSync('redis-cli', ['-p', String(port), 'info', 'server'], { encoding: 'utf8' });
  return Number(/^process_id:(\d+)/m.exec(info)?.[1]);
}

/** A listener that accepts and never says a word: a stalled fault proxy of another test on the port. */
async function silentListener(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('testkit: a local Redis is the one the test started, on a port nobody else holds', () => {
  // Another test process's Redis, on the port a freePort() look found free a moment before.
  let neighbour: LocalRedis;
  const started: LocalRedis[] = [];

  beforeEach(async () => {
    neighbour = await startLocalRedis();
    execFileSync('redis-cli', ['-p', String(neighbour.port), 'set', 'neighbours-key', 'kept']);
  });

  afterEach(async () => {
    await Promise.all(started.splice(0).map((redis) => redis.stop()));
    await neighbour.stop();
  });

  it('refuses a named port another Redis answers on, rather than handing out that Redis (whose PONG came first)', async () => {
    const outcome = await startLocalRedis([], neighbour.port).then(
      (redis) => {
        started.push(redis);
        return redis;
      },
      (err: unknown) => err,
    );
    expect(outcome).to.be.instanceOf(PortTakenError);
    expect((outcome as PortTakenError).code).to.equal('PORT_TAKEN');
    expect(pidOn(neighbour.port)).to.equal(neighbour.process.pid);
    const kept = execFileSync('redis-cli', ['-p', String(neighbour.port), 'get', 'neighbours-key'], {
      encoding: 'utf8',
    });
    expect(kept.trim()).to.equal('kept');
  });

  it("starts on another port when the one picked turns out another Redis's, and that port's answers are its own", async () => {
    const picks = [neighbour.port];
    const redis = await onFreePort(
      (port) => startLocalRedis([], port),
      async () => picks.shift() ?? freePort(),
    );
    started.push(redis);
    expect(redis.port).to.not.equal(neighbour.port);
    expect(pidOn(redis.port)).to.equal(redis.process.pid);
  });

  it('gives up a port held by a listener that never answers, and starts on another, without blocking the run', async () => {
    const silent = await silentListener();
    try {
      const picks = [silent.port];
      const redis = await onFreePort(
        (port) => startLocalRedis([], port),
        async () => picks.shift() ?? freePort(),
      );
      started.push(redis);
      expect(redis.port).to.not.equal(silent.port);
      expect(pidOn(redis.port)).to.equal(redis.process.pid);
    } finally {
      await silent.close();
    }
  });
});
