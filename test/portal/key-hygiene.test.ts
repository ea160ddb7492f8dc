import { expect } from 'chai';
import { MAX_CLOCK_SKEW_SECONDS } from '../../common/saml/response.js';
import { csrfOf, type Harness, signIn, startHarness } from '../../testkit/portal-harness.js';

describe('portal: keys in Redis after signing in and out', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  const signInAndOut = async () => {
    const browser = await signIn(h, 'alice@acme.test');
    const res = await browser.post('/logout', { _csrf: csrfOf((await browser.text('/profile')).body) });
    expect(res.status).to.equal(200);
  };
  const REPLAY_MARKER = /^saml-assertion:/;
  /** Abuse-limit counters (portal/abuse-limits.ts): hashed keys that live one window at most. */
  const RATE_COUNTER = /^portal:rate:[A-Za-z]+:(ip|account):[A-Za-z0-9_-]+$/;
  const lasting = (keys: { key: string }[]) =>
    keys.filter((k) => !REPLAY_MARKER.test(k.key) && !RATE_COUNTER.test(k.key)).map((k) => k.key);

  it('leaves only the replay markers behind, each expiring with its assertion', async () => {
    // The first sign-in creates the tenant-wide activity list; that is the baseline.
    await signInAndOut();
    const baseline = lasting(await h.storedKeys());
    expect(baseline).to.deep.equal(['portal:activity']);
    const rounds = 10;
    for (let i = 0; i < rounds; i++) await signInAndOut();
    const keys = await h.storedKeys();
    expect(lasting(keys)).to.deep.equal(baseline);
    const counters = keys.filter((k) => RATE_COUNTER.test(k.key));
    expect(counters.length, 'sign-ins are counted').to.be.greaterThan(0);
    for (const counter of counters) expect(counter.ttl).to.be.within(1, 60);
    const markers = keys.filter((k) => REPLAY_MARKER.test(k.key));
    expect(markers).to.have.length(rounds + 1);
    // A marker must outlive its assertion (NotOnOrAfter, 5 min in these tests, plus clock skew) and
    // no longer: every one has a TTL, none longer than that.
    for (const marker of markers) expect(marker.ttl).to.be.within(1, 300 + MAX_CLOCK_SKEW_SECONDS);
  });
});
