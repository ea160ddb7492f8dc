import { expect } from 'chai';
import { MAX_CLOCK_SKEW_SECONDS, MESSAGE_REPLAY_WINDOW_SECONDS } from '../../common/saml/index.js';
import { TEST_PLACEMENT } from '../../testkit/pool.js';
import {
  brokerLogoutResponseUrl,
  type Harness,
  signIn,
  signOut,
  startHarness,
} from '../../testkit/portal-harness.js';

describe('portal: keys in Redis after signing in and out', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  /** Signs in, out, and back from the broker with its LogoutResponse, as a browser does. */
  const signInAndOut = async () => {
    const browser = await signIn(h, 'alice@acme.test');
    const { requestId, relayState } = await signOut(browser);
    const answered = await browser.fetch(brokerLogoutResponseUrl(h, { inResponseTo: requestId, relayState }));
    expect(answered.status).to.equal(303);
    expect((await browser.fetch(answered.headers.get('location')!)).status).to.equal(200);
  };
  const REPLAY_MARKER = /^saml-(assertion|message):/;
  /** Abuse-limit counters (portal/abuse-limits.ts): hashed keys that live one window at most. */
  const RATE_COUNTER = /^portal:rate:[A-Za-z]+:(ip|account):[A-Za-z0-9_-]+$/;
  /** A tenant's sign-in starts together (ADRs 0215, 0256): one counter, living one flow lifetime at most. */
  const SHARE_COUNTER = 'portal:rate:signInStarts:tenant:starts';
  /** A pool tenant's sessions on Redis (ADR 0220): one set, living one session lifetime at most. */
  const SESSION_COUNT = 'portal:pool:sessions';
  const lasting = (keys: { key: string }[]) =>
    keys
      .filter(
        (k) =>
          !REPLAY_MARKER.test(k.key) &&
          !RATE_COUNTER.test(k.key) &&
          k.key !== SHARE_COUNTER &&
          k.key !== SESSION_COUNT,
      )
      .map((k) => k.key);

  it('leaves only the replay markers behind, each expiring with its assertion or message', async () => {
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
    // The tenant's sign-in starts together (a pool's share, or its own ceiling: ADRs 0215, 0256), one key.
    const share = keys.filter((k) => k.key === SHARE_COUNTER);
    expect(share, "the tenant's sign-in starts counted").to.have.length(1);
    // spec.broker.flowTtlSeconds, its default here.
    for (const counter of share) expect(counter.ttl).to.be.within(1, 600);
    const sessions = keys.filter((k) => k.key === SESSION_COUNT);
    expect(sessions, "the pool tenant's sessions counted in a pool only").to.have.length(
      TEST_PLACEMENT === 'pool' ? 1 : 0,
    );
    // spec.portal.session.absoluteTimeoutSeconds, its default here.
    for (const count of sessions) expect(count.ttl).to.be.within(1, 28_800);
    const assertions = keys.filter((k) => k.key.startsWith('saml-assertion:'));
    expect(assertions).to.have.length(rounds + 1);
    // A marker must outlive its assertion (NotOnOrAfter, 5 min in these tests, plus clock skew) and
    // no longer: every one has a TTL, none longer than that.
    for (const marker of assertions) expect(marker.ttl).to.be.within(1, 300 + MAX_CLOCK_SKEW_SECONDS);
    // The broker's LogoutResponse IDs: remembered as long as their IssueInstant would pass, no longer.
    const messages = keys.filter((k) => k.key.startsWith('saml-message:'));
    expect(messages).to.have.length(rounds + 1);
    for (const marker of messages) expect(marker.ttl).to.be.within(1, MESSAGE_REPLAY_WINDOW_SECONDS);
  });
});
