// Redis answering with an error is not Redis "not answering in time": a full Redis (maxmemory with
// noeviction), an ACL without the command and a key of another type each get their own code, and
// nothing is written by a refused command (ADR 0205); a Redis loading its dataset or running a long
// script is one that will serve again (ADR 0396). A real redis-server of its own, configured so.
import { expect } from 'chai';
import { Redis } from 'ioredis';
import type { JsmSsoError } from '../../common/errors.js';
import type { RedisFlowStore } from '../../common/flowstore/redis-store.js';
import { eventually } from '../../testkit/envtest.js';
import { type LocalRedis, startLocalRedis } from '../../testkit/local-redis.js';
import { connectedFlowStore } from '../../testkit/redis.js';

async function refusalOf(command: Promise<unknown>): Promise<JsmSsoError> {
  const err = await command.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'refused').to.be.instanceOf(Error);
  return err as JsmSsoError;
}

describe('flow store on a Redis that answers with an error', function () {
  this.timeout(30_000);
  let redis: LocalRedis;
  let admin: Redis;
  let store: RedisFlowStore;
  before(async () => {
    redis = await startLocalRedis(['--enable-debug-command', 'yes']);
    admin = new Redis(redis.url);
    store = await connectedFlowStore('refusals', redis.url);
  });
  after(async () => {
    await store.close();
    admin.disconnect();
    await redis.stop();
  });

  describe('holding its maxmemory with maxmemory-policy noeviction', () => {
    before(async () => {
      await store.put('full:kept', 'before', 60);
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
      await admin.config('SET', 'maxmemory', '1');
    });
    after(() => admin.config('SET', 'maxmemory', '0'));

    it('refuses every kind of write with FLOW_STORE_FULL (503), naming OOM and the command', async () => {
      const writes: Array<[string, () => Promise<unknown>]> = [
        ['put', () => store.put('full:a', '1', 60)],
        ['putIfAbsent', () => store.putIfAbsent('full:b', '1', 60)],
        ['claim', () => store.claim('full:{full}:c', 'pending', 60)],
        ['putInFirstFree', () => store.putInFirstFree(['full:{g}:0', 'full:{g}:1'], 'v', 60, 0)],
        ['takeLeaving', () => store.takeLeaving('full:kept', 'used', 60)],
      ];
      for (const [name, write] of writes) {
        const err = await refusalOf(write());
        expect(err.code, name).to.equal('FLOW_STORE_FULL');
        expect(err.status, name).to.equal(503);
        expect(err.where?.['redisError'], name).to.equal('OOM');
        expect(err.message, name).to.match(/maxmemory/);
      }
    });

    it('writes nothing (not even the claim witness), and still reads and deletes', async () => {
      expect(await admin.keys('*full*')).to.deep.equal(['jsm-sso:refusals:full:kept']);
      expect(await store.get('full:kept')).to.equal('before');
      expect(await store.take('full:kept')).to.equal('before');
    });
  });

  it('refuses a command its ACL user lacks with FLOW_STORE_REFUSED (500), naming NOPERM and the command', async () => {
    await admin.acl('SETUSER', 'no-getdel', 'on', '>secret', '~*', '+@all', '-getdel');
    const limited = await connectedFlowStore('refusals', redis.url.replace('//', '//no-getdel:secret@'));
    try {
      await limited.put('flow', 'v', 60);
      const err = await refusalOf(limited.take('flow'));
      expect(err.code).to.equal('FLOW_STORE_REFUSED');
      expect(err.status).to.equal(500);
      expect(err.where).to.deep.equal({ redisError: 'NOPERM', command: 'getdel' });
      expect(err.message).to.not.include('secret');
      expect(await limited.get('flow'), 'the flow is still there').to.equal('v');
    } finally {
      await limited.close();
    }
  });

  it('refuses a key of another type with FLOW_STORE_REFUSED, naming WRONGTYPE', async () => {
    await admin.lpush('jsm-sso:refusals:listed', 'not a string');
    const err = await refusalOf(store.get('listed'));
    expect(err.code).to.equal('FLOW_STORE_REFUSED');
    expect(err.where).to.deep.equal({ redisError: 'WRONGTYPE', command: 'get' });
  });

  it('runs each of its scripts again after Redis forgot them (NOSCRIPT: sent again as EVAL)', async () => {
    expect(await store.putInFirstFree(['s:{g}:0', 's:{g}:1'], 'v', 60, 0)).to.equal(0);
    expect(await store.claim('s:{c}:first', 'pending', 60)).to.equal(true);
    // SCRIPT FLUSH, as a failover to a replica that never ran them or a restart leaves the cache.
    await admin.script('FLUSH');
    expect(await store.putInFirstFree(['s:{g}:0', 's:{g}:1'], 'v', 60, 0)).to.equal(1);
    expect(await store.claim('s:{c}:first', 'pending', 60), 'the claim taken before').to.equal(false);
    expect(await store.claim('s:{c}:second', 'pending', 60)).to.equal(true);
    await admin.script('FLUSH');
    await store.deleteHolding(['s:{g}:0', 's:{g}:1'], 'v');
    expect(await admin.exists('jsm-sso:refusals:s:{g}:0', 'jsm-sso:refusals:s:{g}:1')).to.equal(0);
  });

  /** Each step of a sign-in or a write, as the flow store is asked for it. */
  const everyStep = (name: string): Array<[string, () => Promise<unknown>]> => [
    ['put', () => store.put(`${name}:new`, 'v', 60)],
    ['get', () => store.get(`${name}:kept`)],
    ['take', () => store.take(`${name}:kept`)],
    ['putIfAbsent', () => store.putIfAbsent(`${name}:marker`, 'used', 60)],
    ['claim', () => store.claim(`${name}:{c}:claim`, 'pending', 60)],
    ['ping', () => store.ping()],
  ];

  /** Each step refused 503 FLOW_STORE_UNAVAILABLE for Redis's error `kind`; nothing of them written. */
  async function everyStepUnavailable(name: string, kind: string): Promise<void> {
    for (const [step, run] of everyStep(name)) {
      const err = await refusalOf(run());
      expect([err.code, err.status], step).to.deep.equal(['FLOW_STORE_UNAVAILABLE', 503]);
      // Redis's answer, not a deadline: the step was refused, not left unanswered.
      expect((err.cause as Error | undefined)?.message, step).to.match(new RegExp(`^${kind} `));
    }
  }

  /** Then each step served as before, by the same store: nothing written meanwhile, the flow still there. */
  async function everyStepServed(name: string): Promise<void> {
    expect(await admin.exists(`jsm-sso:refusals:${name}:new`, `jsm-sso:refusals:${name}:marker`)).to.equal(0);
    expect(await store.take(`${name}:kept`), 'the flow, taken once').to.equal('flow');
    expect(await store.putIfAbsent(`${name}:marker`, 'used', 60)).to.equal(true);
    expect(await store.claim(`${name}:{c}:claim`, 'pending', 60)).to.equal(true);
    await store.ping();
  }

  it('answers FLOW_STORE_UNAVAILABLE (503) while Redis loads its dataset (LOADING), writes nothing, and serves once loaded', async () => {
    await store.put('loading:kept', 'flow', 60);
    // DEBUG RELOAD saves and loads the dataset again, as a restart does; each key's load is held
    // 1 ms (4,000 keys: about 4 s), and Redis answers its clients between keys, LOADING.
    await admin.debug('POPULATE', 4000, 'filler');
    await admin.config('SET', 'key-load-delay', '1000');
    await admin.config('SET', 'loading-process-events-interval-bytes', '1024');
    const reloader = new Redis(redis.url);
    const reloaded = reloader.debug('RELOAD');
    try {
      await eventually(async () => /loading:1/.test(await admin.info('persistence')), 'Redis loading');
      await everyStepUnavailable('loading', 'LOADING');
    } finally {
      // Loaded before anything else is asked of this Redis, whatever the steps answered.
      expect(await reloaded).to.equal('OK');
      reloader.disconnect();
      await admin.config('SET', 'key-load-delay', '0');
    }
    await everyStepServed('loading');
  });

  it('answers FLOW_STORE_UNAVAILABLE (503) while a script runs past busy-reply-threshold (BUSY), writes nothing, and serves once it ends', async () => {
    await store.put('busy:kept', 'flow', 60);
    await admin.config('SET', 'busy-reply-threshold', '100');
    const looper = new Redis(redis.url);
    const looping = looper.eval('while true do end', 0).catch((e: unknown) => e);
    try {
      await eventually(
        async () => /^BUSY /.test(String(await admin.ping().catch((e: Error) => e.message))),
        'Redis answering BUSY',
      );
      await everyStepUnavailable('busy', 'BUSY');
    } finally {
      // Ended before anything else is asked of this Redis, whatever the steps answered.
      await admin.script('KILL');
      expect(String(await looping)).to.match(/killed/);
      looper.disconnect();
      await admin.config('SET', 'busy-reply-threshold', '5000');
    }
    await everyStepServed('busy');
  });

  it('keeps FLOW_STORE_UNAVAILABLE (503) for a write to a replica (READONLY), and the next command goes through', async () => {
    await admin.config('SET', 'replica-read-only', 'yes');
    // A replica of a primary that is not there: every write answers READONLY, as after a failover.
    await admin.replicaof('127.0.0.1', '1');
    try {
      const err = await refusalOf(store.put('r', '1', 60));
      expect(err.code).to.equal('FLOW_STORE_UNAVAILABLE');
      expect(err.status).to.equal(503);
      // READONLY ends the connection to find the new primary; the command right after it (here
      // before the close is even seen) waits for the new connection, it does not fail. A replica
      // still answers reads.
      expect(await store.get('r'), 'the next command goes through').to.equal(undefined);
    } finally {
      await admin.replicaof('NO', 'ONE');
    }
  });

  it('answers FLOW_STORE_UNAVAILABLE (503), not REFUSED, while a primary lacks the replicas min-replicas-to-write asks for (NOREPLICAS)', async () => {
    // A replica restarting or lagging past min-replicas-max-lag: writes come back by themselves
    // once it is there again, nothing for an operator to do.
    await admin.config('SET', 'min-replicas-to-write', '1');
    try {
      const err = await refusalOf(store.put('n', '1', 60));
      expect([err.code, err.status]).to.deep.equal(['FLOW_STORE_UNAVAILABLE', 503]);
      expect(await admin.exists('jsm-sso:refusals:n'), 'nothing written').to.equal(0);
    } finally {
      await admin.config('SET', 'min-replicas-to-write', '0');
    }
    await store.put('n', '1', 60);
    expect(await store.get('n')).to.equal('1');
  });
});
