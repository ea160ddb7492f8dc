import { connect } from 'node:net';
import { expect } from 'chai';
import { type KillableRedis, startKillableRedis } from '../../testkit/killable-redis.js';
import { redisCli } from '../../testkit/local-redis.js';

describe('testkit: a Redis killed and started again on the same port, empty (ADR 0445)', () => {
  let redis: KillableRedis;
  beforeEach(async () => {
    redis = await startKillableRedis();
  });
  afterEach(() => redis.stop());

  const port = () => new URL(redis.url).port;

  it('refuses while killed and comes back on the same URL without what it held', async () => {
    await redisCli(['-p', port(), 'set', 'before-the-kill', 'held']);
    await redis.kill();
    const error = await new Promise<string>((resolve) => {
      const socket = connect(Number(port()), '127.0.0.1', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
    expect(error, 'a connection while killed').to.equal('ECONNREFUSED');
    await redis.restart();
    expect((await redisCli(['-p', port(), 'ping'])).trim(), 'the same URL after the restart').to.equal(
      'PONG',
    );
    expect((await redisCli(['-p', port(), 'exists', 'before-the-kill'])).trim(), 'its data').to.equal('0');
  });

  it('is not read for data at rest as it dies: no client of a dying server complains', async () => {
    const said: string[] = [];
    const consoleError = console.error;
    console.error = (...args: unknown[]) => said.push(args.map(String).join(' '));
    try {
      await redis.kill();
    } finally {
      console.error = consoleError;
    }
    expect(said, 'what was written to stderr meanwhile').to.deep.equal([]);
  });
});
