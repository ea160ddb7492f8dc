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

  it('leaves only the replay markers behind, each expiring with its assertion', async () => {
    // The first sign-in creates the tenant-wide activity list; that is the baseline.
    await signInAndOut();
    const baseline = (await h.storedKeys()).filter((k) => !REPLAY_MARKER.test(k.key)).map((k) => k.key);
    expect(baseline).to.deep.equal(['portal:activity']);
    const rounds = 10;
    for (let i = 0; i < rounds; i++) await signInAndOut();
    const keys = await h.storedKeys();
    expect(keys.filter((k) => !REPLAY_MARKER.test(k.key)).map((k) => k.key)).to.deep.equal(baseline);
    const markers = keys.filter((k) => REPLAY_MARKER.test(k.key));
    expect(markers).to.have.length(rounds + 1);
    // A marker must outlive its assertion (NotOnOrAfter, 5 min in these tests, plus clock skew) and
    // no longer: every one has a TTL, none longer than that.
    for (const marker of markers) expect(marker.ttl).to.be.within(1, 300 + MAX_CLOCK_SKEW_SECONDS);
  });
});
