// A request is raised, Atlassian creates it, and the session's store fails at the moment the portal
// remembers the new issue id for reconciled searches (ADR 0194). The request exists whatever the
// store says: the form must not fail, the failure is one warn line with a documented reason, the
// request's page opens at once (the gate makes it current: ADR 0381), and My requests lists it
// once Jira's index has it. The fault is real Redis: the session's writes key turns into a list while
// Atlassian handles the create, so the portal's GET of it is refused (WRONGTYPE).
import { expect } from 'chai';
import { Redis } from 'ioredis';
import {
  type Browser,
  type Harness,
  raiseRequestForm,
  reasons,
  signIn,
  useHarness,
} from '../../testkit/portal-harness.js';
import { redisUrl } from '../../testkit/redis.js';

describe('portal: the store fails as a new request is remembered for reconciled searches', () => {
  let h: Harness;
  let alice: Browser;
  const redis = new Redis(redisUrl());
  useHarness(async (started) => {
    h = started;
    h.emulator.state.searchIndex.hold();
    alice = await signIn(h, 'alice@acme.test');
  });
  after(() => redis.quit());

  /** The Redis key the session's recent writes are kept under (made by a first request). */
  const writesKey = async () => {
    const suffix = (await h.storedKeys()).find((k) => k.key.startsWith('portal:session-writes:'))!.key;
    const [key] = await redis.keys(`*:${suffix}`);
    return key!;
  };

  it('answers the form with the request, logs recent_write_not_kept, and shows the request at once, lists it once indexed', async () => {
    const form = raiseRequestForm(h, alice, 'Get IT help');
    expect((await form.post({ ...(await form.fresh()), f_summary: 'First, remembered' })).status).to.equal(
      303,
    );
    const key = await writesKey();
    let faulted = false;
    h.emulator.faults.set({
      pathPrefix: '/rest/servicedeskapi/request',
      method: 'POST',
      times: 1,
      onArrival: async () => {
        await redis.del(key);
        await redis.lpush(key, 'not a string');
        faulted = true;
      },
    });
    const logFrom = h.logs.length;
    const res = await form.post({ ...(await form.fresh()), f_summary: 'Second, not remembered' });
    expect(faulted, 'the fault was injected during the create').to.equal(true);
    expect(res.status, await res.clone().text()).to.equal(303);
    const [request] = form.created('Second, not remembered');
    expect(res.headers.get('location')).to.equal(`/requests/${request!.key}?created=1`);
    const line = h.logs.slice(logFrom).find((l) => l['event'] === 'portal.recent_write_not_kept');
    expect(line, 'the warn line').to.include({
      level: 'warn',
      reason: 'FLOW_STORE_REFUSED',
      redisError: 'WRONGTYPE',
    });
    expect(reasons(h, logFrom)).to.not.include('PORTAL_INTERNAL');
    expect(form.created('Second, not remembered'), 'created once').to.have.length(1);
    // The store answers again; the new request was not remembered, so My requests waits for the index.
    // Its page does not: the gate, not listing it, asks again with it made current (ADR 0381).
    await redis.del(key);
    const page = await alice.text(res.headers.get('location')!);
    expect(page.status, 'before the index has it').to.equal(200);
    expect(page.body).to.include('Second, not remembered');
    const mine = () => alice.text('/requests?ownership=mine');
    expect((await mine()).body, 'not listed before the index has it').to.not.include(
      `/requests/${request!.key}`,
    );
    h.emulator.state.searchIndex.catchUp();
    expect((await mine()).body, 'listed once indexed').to.include(`/requests/${request!.key}`);
  });
});
