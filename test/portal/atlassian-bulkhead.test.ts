import { expect } from 'chai';
import { AtlassianBulkhead, BUSY_RETRY_AFTER_MS } from '../../portal/atlassian/bulkhead.js';
import { AtlassianError } from '../../portal/atlassian/errors.js';

/** An attempt that runs until the test lets it go. */
function heldAttempt(): { started: boolean; release: () => void; attempt: () => Promise<string> } {
  const held = { started: false, release: () => {}, attempt: async () => '' };
  const released = new Promise<void>((resolve) => {
    held.release = resolve;
  });
  held.attempt = async () => {
    held.started = true;
    await released;
    return 'answered';
  };
  return held;
}

const outcome = (p: Promise<unknown>) =>
  p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );

describe('portal Atlassian bulkhead', () => {
  it('runs at most maxConcurrent attempts at once; the next starts when one ends', async () => {
    const bulkhead = new AtlassianBulkhead({ maxConcurrent: 2, perSecond: 1000, maxWaitMs: 5_000 });
    const held = [heldAttempt(), heldAttempt(), heldAttempt()];
    const results = held.map((h) => bulkhead.run(h.attempt));
    await new Promise((resolve) => setImmediate(resolve));
    expect(held.map((h) => h.started)).to.deep.equal([true, true, false]);
    expect(bulkhead.stats()).to.deep.equal({ running: 2, waiting: 1 });
    held[0]!.release();
    await results[0];
    await new Promise((resolve) => setImmediate(resolve));
    expect(held[2]!.started).to.equal(true);
    held[1]!.release();
    held[2]!.release();
    expect(await Promise.all(results)).to.deep.equal(['answered', 'answered', 'answered']);
  });

  it('refuses a call that waits longer than maxWaitMs with ATLASSIAN_BUSY (503), never starting it', async () => {
    const bulkhead = new AtlassianBulkhead({ maxConcurrent: 1, perSecond: 1000, maxWaitMs: 100 });
    const stalled = heldAttempt();
    const first = bulkhead.run(stalled.attempt);
    const second = heldAttempt();
    const started = performance.now();
    const refused = await outcome(bulkhead.run(second.attempt));
    const waited = performance.now() - started;
    expect(refused).to.have.property('error').that.is.instanceOf(AtlassianError);
    const err = (refused as { error: AtlassianError }).error;
    expect([err.code, err.status, err.upstreamStatus, err.retryAfterMs]).to.deep.equal([
      'ATLASSIAN_BUSY',
      503,
      0,
      BUSY_RETRY_AFTER_MS,
    ]);
    expect(waited).to.be.at.least(95);
    expect(second.started, 'the refused attempt never ran').to.equal(false);
    expect(bulkhead.stats()).to.deep.equal({ running: 1, waiting: 0 });
    stalled.release();
    expect(await first).to.equal('answered');
    expect(second.started).to.equal(false);
  });

  it('does not cut a started attempt that outlasts the wait bound', async () => {
    const bulkhead = new AtlassianBulkhead({ maxConcurrent: 1, perSecond: 1000, maxWaitMs: 20 });
    const slow = bulkhead.run(() => new Promise<string>((resolve) => setTimeout(() => resolve('late'), 150)));
    expect(await slow).to.equal('late');
  });

  it('starts at most perSecond attempts in any one-second window', async () => {
    const bulkhead = new AtlassianBulkhead({ maxConcurrent: 100, perSecond: 3, maxWaitMs: 5_000 });
    const starts: number[] = [];
    const begin = performance.now();
    const all = Promise.all(
      Array.from({ length: 5 }, () =>
        bulkhead.run(async () => {
          starts.push(performance.now() - begin);
        }),
      ),
    );
    // The first three start at once, in the turn they were asked in; the other two wait. (A turn of
    // the event loop, not a bound in ms that a loaded machine could overrun.)
    await new Promise((resolve) => setImmediate(resolve));
    expect(starts).to.have.length(3);
    expect(bulkhead.stats().waiting).to.equal(2);
    await all;
    // The fourth and fifth waited for the first three to leave the window.
    expect(starts[3]).to.be.at.least(990);
    expect(starts[4]).to.be.at.least(990);
  });

  it('refuses a call the rate limit would hold past the wait bound with ATLASSIAN_BUSY', async () => {
    const bulkhead = new AtlassianBulkhead({ maxConcurrent: 100, perSecond: 1, maxWaitMs: 100 });
    expect(await bulkhead.run(async () => 'first')).to.equal('first');
    const refused = await outcome(bulkhead.run(async () => 'second'));
    expect((refused as { error: AtlassianError }).error.code).to.equal('ATLASSIAN_BUSY');
  });

  it('rejects limits that are not positive integers', () => {
    expect(() => new AtlassianBulkhead({ maxConcurrent: 0, perSecond: 1, maxWaitMs: 1 })).to.throw(
      RangeError,
      /maxConcurrent/,
    );
    expect(() => new AtlassianBulkhead({ maxConcurrent: 1, perSecond: 1.5, maxWaitMs: 1 })).to.throw(
      RangeError,
      /perSecond/,
    );
  });
});
