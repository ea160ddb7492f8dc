import { expect } from 'chai';
import { MemoryFlowStore } from '../../common/flowstore/index.js';
import { Browser, formFields, pageReason, portalSp } from '../../testkit/broker-harness.js';
import { startTwoIdpBroker, type TwoIdpBroker } from './fake-oidc.js';

/**
 * The choice form posted again and again with one sign-in's cookie and token (ADR 0248): anyone who
 * starts one sign-in at the portal has both. Each choice of an OIDC IdP indexes the flow by the
 * authorization request's `state`, for the flow's lifetime.
 */
describe('broker: the IdP choice posted many times for one sign-in', () => {
  let stack: TwoIdpBroker;
  const store = new MemoryFlowStore();

  before(async () => {
    stack = await startTwoIdpBroker({}, undefined, {}, store);
  });
  after(async () => stack.close());

  it('keeps one index of the flow whatever number of choices is posted, and the last choice signs in', async () => {
    const { broker, pki, idpA } = stack;
    const browser = new Browser();
    const choice = await browser.request(
      await portalSp(broker.url, pki).getAuthorizeUrlAsync('rs', undefined, {}),
    );
    const { csrf } = formFields(await choice.text());
    const sizeAtChoice = store.size;
    for (let i = 0; i < 40; i++) {
      // Both IdPs, in turns, and several at once: each choice replaces the one before.
      const answers = await Promise.all(
        (['alpha', 'beta', 'alpha', 'beta', 'alpha'] as const).map((idp) =>
          browser.request(`${broker.url}/saml/choose`, { form: { csrf: csrf!, idp } }),
        ),
      );
      // 303 See Other: the IdP is asked with GET, never the choice posted again (ADR 0347).
      for (const answer of answers) expect(answer.status).to.equal(303);
    }
    // Before, each of the 200 choices left its own `state:` key for the flow's lifetime (10 min), so
    // one sign-in filled a memory store (20,000 entries: every sign-in 503 FLOW_STORE_FULL) or Redis.
    expect(store.size - sizeAtChoice, 'entries the 200 choices added').to.be.at.most(1);
    // The person's last choice still signs in.
    const alpha = await browser.request(`${broker.url}/saml/choose`, { form: { csrf: csrf!, idp: 'alpha' } });
    const authorization = new URL(alpha.headers.get('location')!);
    // The fake IdP notes the request's nonce, for the ID token it will issue for this state.
    await fetch(authorization);
    const state = authorization.searchParams.get('state')!;
    idpA.forgery = 'valid';
    // The code is the state: the fake IdP answers it with the nonce of this flow (fake-oidc.ts).
    const signedIn = await browser.request(
      `${broker.url}/oidc/callback/alpha?${new URLSearchParams({ code: state, state, iss: idpA.issuer })}`,
    );
    const body = await signedIn.text();
    expect(signedIn.status, pageReason(body)).to.equal(200);
    expect(formFields(body)['SAMLResponse']).to.be.a('string');
  });
});
