// Atlassian failing while the portal signs a customer in (its ACS looks up her account and desks):
// the broker's Response is spent (its login flow taken, its assertion marked used), so the browser's
// reload of that POST can only be refused as an expired sign-in. The page says what failed and
// offers to sign in again, back to where she was going (ADR 0314).
import { expect } from 'chai';
import type { FaultRule } from '../../dev/jsm-emulator/faults.js';
import {
  Browser,
  brokerResponse,
  type Harness,
  startHarness,
  startLogin,
} from '../../testkit/portal-harness.js';

describe('faults: Atlassian failing while a customer signs in', function () {
  this.timeout(30_000);
  let h: Harness;
  before(async () => {
    h = await startHarness({ transport: { maxRetries: 0 } });
  });
  afterEach(() => h.emulator.faults.clear());
  after(() => h.close());

  const RETURN_PATH = '/requests?status=closed';

  /** Her sign-in started at RETURN_PATH, the broker's Response posted while `fault` holds. */
  async function signInWhile(fault: FaultRule) {
    const browser = new Browser(h.url);
    const { requestId } = await startLogin(browser, RETURN_PATH);
    h.emulator.faults.set(fault);
    const answer = await browser.post('/saml/acs', {
      SAMLResponse: brokerResponse(h, { email: 'alice@acme.test', inResponseTo: requestId }),
    });
    return { status: answer.status, html: await answer.text() };
  }

  for (const { what, fault, status, reason } of [
    {
      what: 'throttled past what a page may wait (429, Retry-After 120 s)',
      fault: { status: 429, retryAfterSeconds: 120 },
      status: 503,
      reason: 'ATLASSIAN_RATE_LIMITED',
    },
    {
      what: 'answering 503',
      fault: { status: 503, retryAfterSeconds: 120 },
      status: 503,
      reason: 'ATLASSIAN_UNAVAILABLE',
    },
    { what: 'answering 500', fault: { status: 500 }, status: 502, reason: 'ATLASSIAN_ERROR' },
  ] as const) {
    it(`offers to sign in again, back to where she was going, when Atlassian is ${what}`, async () => {
      const from = h.logs.length;
      const { status: answered, html } = await signInWhile({ ...fault, method: 'GET' });
      expect(answered, html).to.equal(status);
      expect(h.logs.slice(from).map((l) => l['reason'])).to.include(reason);
      expect(html).to.contain(`href="/login?return&#61;${encodeURIComponent(RETURN_PATH)}"`);
      // Once Atlassian answers, that link signs her in and lands her there.
      h.emulator.faults.clear();
      const browser = new Browser(h.url);
      const { requestId } = await startLogin(browser, RETURN_PATH);
      const signedIn = await browser.post('/saml/acs', {
        SAMLResponse: brokerResponse(h, { email: 'alice@acme.test', inResponseTo: requestId }),
      });
      expect([signedIn.status, signedIn.headers.get('location')]).to.deep.equal([303, RETURN_PATH]);
    });
  }
});
