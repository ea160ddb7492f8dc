// A write claim sent to a Redis that stalls with it (the connection stays up, nothing answers): the
// post gives up on it after the command deadline and answers 503, having written nothing. Redis
// still holds the claim command, and runs it when it resumes: a claim nobody holds, which kept the
// same form out for the claim's whole lifetime (140 s): sent again, it waited for the ghost and
// answered 409 "still being sent from your earlier click" although nothing was ever sent.
// The stall must come between the claim's two commands (Redis's clock, then the script with its
// deadline): a Redis stopped outright (SIGSTOP) stalls the clock read, and the script is never sent.
// So Redis pauses writes (CLIENT PAUSE … WRITE), which holds the script and answers the clock.
import { expect } from 'chai';
import { Redis } from 'ioredis';
import type { RedisFlowStore } from '../../common/flowstore/redis-store.js';
import { eventually } from '../../testkit/envtest.js';
import { type LocalRedis, startLocalRedis } from '../../testkit/local-redis.js';
import {
  type Browser,
  type Harness,
  raiseRequestForm,
  signIn,
  startHarness,
} from '../../testkit/portal-harness.js';
import { connectedFlowStore } from '../../testkit/redis.js';

describe('faults: a write claim sent to a Redis that stalls', function () {
  this.timeout(60_000);
  let redis: LocalRedis;
  let store: RedisFlowStore;
  let h: Harness;
  let alice: Browser;

  before(async () => {
    redis = await startLocalRedis();
    store = await connectedFlowStore('claims-stalled', redis.url);
    // A 2 s write budget: a post waits at most that long for an earlier post of its form.
    h = await startHarness({ store, writes: { budgetMs: 2000 } });
    alice = await signIn(h, 'alice@acme.test', { displayName: 'Alice Anders' });
  });
  after(async () => {
    await h?.close();
    await redis?.stop();
  });

  it('does not let the claim Redis runs late keep the form out: sent again, it raises the request', async () => {
    const form = raiseRequestForm(h, alice, 'Get IT help');
    // An earlier request: Redis has the claim script cached, as it has after any write.
    expect(
      (await form.post({ ...(await form.fresh()), f_summary: 'Raised before the stall' })).status,
    ).to.equal(303);
    const fields = { ...(await form.fresh()), f_summary: 'Sent while Redis stalled' };
    // Redis pauses writes while the post looks for its key at Atlassian, so the next thing it sends
    // Redis is its claim: the clock read answered, the script held.
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    h.emulator.faults.set({ heldUntil: held, pathPrefix: '/rest/api/3/search/jql', times: 1 });
    const admin = new Redis(redis.url);
    const scriptsRun = async () =>
      Number(/cmdstat_evalsha:calls=(\d+)/.exec(await admin.info('commandstats'))?.[1] ?? 0);
    try {
      const first = form.post(fields);
      await eventually(async () => h.emulator.faults.hits()[0] === 1, 'the look-up held at Atlassian');
      const before = await scriptsRun();
      await admin.call('client', 'pause', 60_000, 'write');
      let firstAnswer: Response;
      try {
        release();
        firstAnswer = await first;
      } finally {
        await admin.call('client', 'unpause');
      }
      expect(firstAnswer.status).to.equal(503);
      expect(form.created(fields.f_summary)).to.have.length(0);
      await eventually(async () => (await scriptsRun()) > before, 'the claim run once Redis resumed');
    } finally {
      release();
      admin.disconnect();
    }
    const again = await form.post(fields);
    const [request] = form.created(fields.f_summary);
    expect(form.created(fields.f_summary), 'requests raised').to.have.length(1);
    expect([again.status, again.headers.get('location')]).to.deep.equal([
      303,
      `/requests/${request!.key}?created=1`,
    ]);
  });
});
