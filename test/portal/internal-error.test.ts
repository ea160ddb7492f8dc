import { expect } from 'chai';
import { MemoryFlowStore } from '../../common/flowstore/index.js';
import {
  type Browser,
  type Harness,
  reasons,
  shownReference,
  signIn,
  startHarness,
} from '../../testkit/portal-harness.js';

/** Fault injection only: a store with a programming error on demand, which no real Redis can be made to show. */
class BuggyFlowStore extends MemoryFlowStore {
  broken = false;
  override async get(key: string): Promise<string | undefined> {
    if (this.broken) throw new TypeError('secret detail of a bug');
    return super.get(key);
  }
}

describe('portal: an unexpected error in a handler', () => {
  const store = new BuggyFlowStore();
  let h: Harness;
  let alice: Browser;
  before(async () => {
    h = await startHarness({ store });
    alice = await signIn(h, 'alice@acme.test');
  });
  after(() => h.close());

  it('answers 500 with the friendly page and PORTAL_INTERNAL in the log, no detail on the page, and the process keeps serving', async () => {
    const from = h.logs.length;
    store.broken = true;
    const failed = await alice.text('/requests');
    store.broken = false;
    expect(failed.status).to.equal(500);
    expect(failed.body).to.contain('Something went wrong').and.not.contain('secret detail');
    expect(reasons(h, from)).to.deep.equal(['PORTAL_INTERNAL']);
    const line = h.logs.slice(from).find((l) => l['reason'] === 'PORTAL_INTERNAL');
    expect([line?.['level'], line?.['errorType']]).to.deep.equal(['error', 'TypeError']);
    expect(line?.['frames']).to.match(/^at /);
    // What the customer can tell the help desk finds this line (ADR 0316).
    expect(shownReference(failed.body)).to.deep.equal({ reason: 'PORTAL_INTERNAL', id: line?.['reference'] });
    // The message may quote the data that broke it: never logged.
    expect(JSON.stringify(h.logs.slice(from))).to.not.contain('secret detail');
    // The next request is served as before.
    expect((await alice.text('/requests')).status).to.equal(200);
  });
});
