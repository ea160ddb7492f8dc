import { expect } from 'chai';
import { MemoryFlowStore } from '../../common/flowstore/index.js';
import {
  Browser,
  formFields,
  loginThroughBroker,
  logoutOfUnknownSession,
  PORTAL_URL,
  pageReason,
  redirectedStatusCodes,
  type Stack,
  signedStatusCodes,
  startStack,
} from '../../testkit/broker-harness.js';

/**
 * A dedicated broker without Redis keeps each completed sign-in's session (its record and logout
 * indexes) for the session lifetime, in a memory store with a cap against floods of anonymous
 * writes (ADR 0357). A room of 60 entries stands for the 20,000: each sign-in here leaves its
 * session's record and sid index, its person's and NameID's slots (8 each, then replaced), and the
 * used `state:` marker for the flow lifetime.
 */
describe('broker: completed sign-ins on the memory flow store (ADR 0357)', () => {
  const SIGN_INS = 16;
  let stack: Stack;
  let store: MemoryFlowStore;
  /** How far the store's clock is ahead of the broker's: sessions expire when it passes their TTL. */
  let storeClockAhead: number;

  beforeEach(async () => {
    storeClockAhead = 0;
    store = new MemoryFlowStore({ maxEntries: 60, now: () => Date.now() + storeClockAhead });
    stack = await startStack(store);
  });
  afterEach(async () => {
    await stack.close();
    await store.close();
  });

  const signIn = () =>
    loginThroughBroker({ portal: stack.portal, brokerUrl: stack.broker.url }, new Browser());

  it('keeps signing people in once sessions fill the store: the oldest session makes room', async () => {
    for (let i = 0; i < SIGN_INS; i++) {
      const { page, html } = await signIn();
      expect(page.status, `sign-in ${i + 1}: ${pageReason(html)}`).to.equal(200);
    }
    expect(store.evictions.get('')).to.be.greaterThan(0);
    expect(store.size).to.be.at.most(60);
  });

  /** The broker's answer to the portal's LogoutRequest for the session `fields` (a Response) signed in. */
  async function logoutOf(fields: Record<string, string>, relayState: string) {
    const { profile } = await stack.portal.validatePostResponseAsync(fields);
    const answer = await new Browser().request(
      await stack.portal.getLogoutUrlAsync(profile!, relayState, {}),
    );
    expect(answer.status).to.equal(302);
    return answer.headers.get('location')!;
  }

  const SUCCESS = ['urn:oasis:names:tc:SAML:2.0:status:Success'];
  const PARTIAL = [...SUCCESS, 'urn:oasis:names:tc:SAML:2.0:status:PartialLogout'];

  it("answers PartialLogout, not Success, to the portal's LogoutRequest for a session evicted while it would still live: its IdP session was left (ADR 0363)", async () => {
    const first = await signIn();
    for (let i = 0; i < SIGN_INS; i++) expect((await signIn()).page.status).to.equal(200);
    expect(store.evictions.get('')).to.be.greaterThan(0);
    // The first session was evicted, the oldest: the broker finds nothing to end, nor its IdP to ask.
    const answer = await logoutOf(first.fields, 'rs-evicted');
    expect(answer.startsWith(`${PORTAL_URL}/saml/slo?`), answer).to.equal(true);
    expect(redirectedStatusCodes(answer, stack.pki.brokerCert)).to.deep.equal(PARTIAL);
    expect(stack.broker.logs.findLast((l) => l['event'] === 'broker.logout')).to.include({
      initiator: 'portal',
      result: 'partial',
      cause: 'sessions_evicted',
    });
    // A session still held goes on to its IdP's logout as ever.
    const latest = await signIn();
    expect(new URL(await logoutOf(latest.fields, 'rs-latest')).origin).to.equal(stack.idp.issuer);
  });

  it('answers Success for an unknown session again once every evicted session would have expired', async () => {
    for (let i = 0; i < SIGN_INS; i++) expect((await signIn()).page.status).to.equal(200);
    expect(store.evictions.get('')).to.be.greaterThan(0);
    const evictedMeanwhile = await logoutOfUnknownSession(stack, 'rs-1');
    expect(
      redirectedStatusCodes(evictedMeanwhile.headers.get('location')!, stack.pki.brokerCert),
    ).to.deep.equal(PARTIAL);
    // A session lives 8 h at most: one evicted then would have ended by now in any case.
    storeClockAhead = 8 * 3600 * 1000 + 1000;
    const later = await logoutOfUnknownSession(stack, 'rs-2');
    expect(redirectedStatusCodes(later.headers.get('location')!, stack.pki.brokerCert)).to.deep.equal(
      SUCCESS,
    );
  });

  it('never evicts a replay marker: the AuthnRequest and the callback replayed after sessions filled the store are refused', async () => {
    const authnRequest = await stack.portal.getAuthorizeUrlAsync('rs', undefined, {});
    expect((await new Browser().request(authnRequest)).status).to.equal(302);
    const first = await signIn();
    expect(first.page.status).to.equal(200);
    for (let i = 0; i < SIGN_INS; i++) expect((await signIn()).page.status).to.equal(200);
    expect(store.evictions.get('')).to.be.greaterThan(0);
    const replayed = await new Browser().request(first.callbackUrl);
    const body = await replayed.text();
    expect(replayed.status).to.not.equal(200);
    expect(pageReason(body)).to.equal('OIDC_STATE_REPLAYED');
    // The portal's request again: its ID is spent, answered RequestDenied (ADR 0294), never sent on.
    const again = await new Browser().request(authnRequest);
    expect(again.status).to.equal(200);
    expect(
      signedStatusCodes(formFields(await again.text())['SAMLResponse']!, stack.pki.brokerCert),
    ).to.deep.equal([
      'urn:oasis:names:tc:SAML:2.0:status:Requester',
      'urn:oasis:names:tc:SAML:2.0:status:RequestDenied',
    ]);
  });
});
