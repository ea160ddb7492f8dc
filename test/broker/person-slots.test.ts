import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { BACKCHANNEL_SLOTS_PER_PERSON, BrokerState, type LoginSession } from '../../broker/flows.js';
import { RedisFlowStore } from '../../common/flowstore/index.js';
import { answering, redisUrl } from '../../testkit/redis.js';

/**
 * A person's back-channel slots (ADR 0150) on the real Redis: a sign-in claims one in a single
 * round trip however many sessions the person already has (ADR 0157). The commands are read off
 * Redis's MONITOR, which tells the client's own commands from those a script runs inside Redis.
 */
describe('broker: a sign-in claims a person slot, and a sign-out frees it, in one round trip', () => {
  let tenant: string;
  let store: RedisFlowStore;
  let state: BrokerState;
  let monitor: Redis | undefined;
  /** The client's commands on this tenant's keys (a script's own are not round trips). */
  let sent: string[][];

  beforeEach(async () => {
    tenant = `person-slots-${randomBytes(6).toString('hex')}`;
    // Deadlines far past a loaded machine's stalls: this counts commands, it does not time them.
    store = await answering(RedisFlowStore.connect(redisUrl(), tenant, { commandTimeout: 10_000 }));
    state = new BrokerState(store, 60, 600);
    sent = [];
    monitor = await monitorOf(redisUrl());
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (source !== 'lua' && args.some((arg) => arg.startsWith(`jsm-sso:${tenant}:`))) sent.push(args);
    });
  });

  afterEach(async () => {
    monitor?.disconnect();
    monitor = undefined;
    await store.close();
  });

  /**
   * A connection in MONITOR mode. ioredis marks a connection monitoring a tick after Redis's OK, so a
   * command another connection sends in that instant (a new connection's ready check, INFO) reaches
   * it as a reply nobody waits for, and it emits "Command queue state error" (seen here in CI, and in
   * taskforcesh/bullmq#2505); `redis.monitor()` rejects on that error although the connection goes
   * on to monitor. Here only 'monitoring', or a failure to connect, decides.
   */
  function monitorOf(url: string): Promise<Redis> {
    const connection = new Redis(url, { monitor: true, lazyConnect: true });
    return new Promise((resolve, reject) => {
      connection.on('error', (err: Error) => {
        if (!err.message.startsWith('Command queue state error')) reject(err);
      });
      connection.once('monitoring', () => resolve(connection));
      connection.connect().catch(reject);
    });
  }

  const session = (person: string): LoginSession => ({ idp: 'corporate', backchannelKeys: { person } });

  /** The commands `work` sent, once MONITOR has shown them all (a marker command comes after). */
  async function commandsOf(work: () => Promise<void>): Promise<string[][]> {
    await settle();
    sent = [];
    await work();
    await settle();
    return sent.filter((args) => !args.some((arg) => arg.endsWith(':monitor-marker')));
  }

  async function settle(): Promise<void> {
    const seen = sent.length;
    await store.get('monitor-marker');
    while (!sent.slice(seen).some((args) => args.some((arg) => arg.endsWith(':monitor-marker'))))
      await new Promise((r) => setTimeout(r, 10));
  }

  it('sends two commands for a person with every slot taken: the session, and one slot claim', async () => {
    for (let i = 0; i < BACKCHANNEL_SLOTS_PER_PERSON; i++)
      await state.saveSession(`s${i}`, session('sub:alice'));
    const commands = await commandsOf(() => state.saveSession('s-next', session('sub:alice')));
    expect(commands.map(([name]) => name!.toLowerCase())).to.have.members(['set', 'evalsha']);
  });

  it('ends a session in three commands: read it, take it, and free her slots that name it in one', async () => {
    for (let i = 0; i < BACKCHANNEL_SLOTS_PER_PERSON; i++)
      await state.saveSession(`s${i}`, session('sub:alice'));
    // A first sign-out teaches the connection the script (EVAL); later ones send its hash only.
    await state.endSession('s0', () => true);
    const commands = await commandsOf(async () => {
      expect(await state.endSession('s3', () => true)).to.deep.equal(session('sub:alice'));
    });
    expect(commands.map(([name]) => name!.toLowerCase())).to.deep.equal(['get', 'getdel', 'evalsha']);
    const left = (await state.backchannelSessions('corporate', { person: 'sub:alice' })).map(
      (s) => s.sessionIndex,
    );
    expect(left).to.have.members(['s1', 's2', 's4', 's5', 's6', 's7']);
  });

  it('keeps a person to her slots: the newest sign-in is found, as are the other seven', async () => {
    const indexes = Array.from({ length: BACKCHANNEL_SLOTS_PER_PERSON + 1 }, (_, i) => `s${i}`);
    for (const index of indexes) await state.saveSession(index, session('sub:alice'));
    await state.saveSession('bob-1', session('sub:bob'));
    const found = (await state.backchannelSessions('corporate', { person: 'sub:alice' })).map(
      (s) => s.sessionIndex,
    );
    expect(found).to.have.length(BACKCHANNEL_SLOTS_PER_PERSON);
    expect(found).to.include('s8');
    expect(indexes).to.include.members(found);
  });
});
