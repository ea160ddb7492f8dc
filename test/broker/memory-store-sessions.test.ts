import { expect } from 'chai';
import { MemoryFlowStore } from '../../common/flowstore/index.js';
import {
  Browser,
  formFields,
  loginThroughBroker,
  pageReason,
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

  beforeEach(async () => {
    store = new MemoryFlowStore({ maxEntries: 60 });
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
