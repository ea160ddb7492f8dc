import { expect } from 'chai';
import {
  Browser,
  brokerReplica,
  expectBrokerRefusal,
  formFields,
  pageReason,
  portalSp,
} from '../../testkit/broker-harness.js';
import { startTwoIdpBroker, type TwoIdpBroker } from './fake-oidc.js';

/**
 * RFC 9700 4.4 (mix-up): a tenant with two OIDC IdPs, neither of which sends the RFC 9207 `iss`
 * with its answers. alpha is the attacker's IdP: the person chose it, and it sent her browser on to
 * beta with the broker's client_id and her state; beta, honest, answers her with a code at the
 * redirect URI the broker registered there. Without a defence the broker takes the state for
 * alpha's and hands beta's code, with her PKCE verifier, to alpha's token endpoint.
 */
describe('broker: mix-up between two OIDC IdPs that send no iss (RFC 9700 4.4.2, ADR 0175)', () => {
  let stack: TwoIdpBroker;

  before(async () => {
    stack = await startTwoIdpBroker({}, undefined, { issParameter: false });
    // Each IdP asserts a person of its own domains (beta lists beta.test).
    stack.idpB.person = { email: 'bob@beta.test', email_verified: true };
  });
  after(async () => stack.close());

  /** Starts a login in `browser`, picks `idp` on the choice page, returns the authorization request. */
  async function authorizationAt(browser: Browser, idp: 'alpha' | 'beta'): Promise<URLSearchParams> {
    const { broker, pki } = stack;
    const choice = await browser.request(
      await portalSp(broker.url, pki).getAuthorizeUrlAsync('rs', undefined, {}),
    );
    const { csrf } = formFields(await choice.text());
    const toIdp = await browser.request(`${broker.url}/saml/choose`, { form: { csrf: csrf!, idp } });
    expect(toIdp.status).to.equal(303);
    const authorization = new URL(toIdp.headers.get('location')!);
    // The fake IdP notes the request's nonce, for the ID token it will issue for this state.
    await fetch(authorization);
    return authorization.searchParams;
  }

  it("refuses beta's code arriving for a login sent to alpha, and never hands it to alpha's token endpoint", async () => {
    const { broker, idpA } = stack;
    const victim = new Browser();
    const state = (await authorizationAt(victim, 'alpha')).get('state')!;
    // Where beta sends its answers: the redirect URI the broker names in its requests to beta.
    const betaRedirect = (await authorizationAt(new Browser(), 'beta')).get('redirect_uri')!;
    const code = 'beta-code-for-the-victim';
    const response = await victim.request(`${betaRedirect}?code=${code}&state=${state}`);
    const body = await response.text();
    expect(idpA.tokenCodes, "codes presented at alpha's token endpoint").to.not.include(code);
    expect([response.status, pageReason(body)]).to.deep.equal([400, 'FLOW_IDP_MISMATCH']);
    expect(broker.logs.findLast((l) => l['event'] === 'broker.refusal')?.['reason']).to.equal(
      'FLOW_IDP_MISMATCH',
    );
    // The flow is over (RFC 9700 4.4.2: "the client MUST abort the flow"): its state is spent.
    const again = await victim.request(`${betaRedirect}?code=${code}&state=${state}`);
    expect(pageReason(await again.text())).to.equal('OIDC_STATE_REPLAYED');
  });

  // RFC 9207 2.4: an iss the answer carries is compared whatever the IdP's metadata says of it.
  it("refuses an iss naming beta at alpha's redirect URI, though alpha advertises no iss parameter, and hands the code to no token endpoint", async () => {
    const { broker, idpA, idpB } = stack;
    const victim = new Browser();
    const request = await authorizationAt(victim, 'alpha');
    const codesSent = idpA.tokenCodes.length + idpB.tokenCodes.length;
    const response = await victim.request(
      `${request.get('redirect_uri')}?code=c&state=${request.get('state')}&iss=${encodeURIComponent(idpB.issuer)}`,
    );
    expect([response.status, pageReason(await response.text())]).to.deep.equal([400, 'OIDC_ISSUER_MISMATCH']);
    expect(idpA.tokenCodes.length + idpB.tokenCodes.length).to.equal(codesSent);
    expect(broker.logs.findLast((l) => l['event'] === 'broker.refusal')?.['reason']).to.equal(
      'OIDC_ISSUER_MISMATCH',
    );
  });

  // openid-client tests `iss` with `!iss`: an empty one would pass as none sent, and the answer be
  // taken from whichever server wrote it (ADR 0370).
  const issuersNoneCanMatch = {
    'an empty iss': () => ['iss='],
    "alpha's iss twice": (issuer: string) => [
      `iss=${encodeURIComponent(issuer)}`,
      `iss=${encodeURIComponent(issuer)}`,
    ],
  };
  for (const [what, issParameters] of Object.entries(issuersNoneCanMatch))
    it(`refuses ${what} at alpha's redirect URI, though alpha advertises no iss parameter (RFC 9207 2.4), and hands the code to no token endpoint`, async () => {
      const { broker, idpA } = stack;
      const victim = new Browser();
      const state = (await authorizationAt(victim, 'alpha')).get('state')!;
      idpA.forgery = 'valid';
      const codesSent = idpA.tokenCodes.length;
      // The code is the state: the fake IdP would answer it with this flow's ID token (fake-oidc.ts).
      const response = await victim.request(
        `${broker.url}/oidc/callback/alpha?code=${state}&state=${state}&${issParameters(idpA.issuer).join('&')}`,
      );
      await expectBrokerRefusal(broker, response, 'OIDC_ISSUER_MISMATCH');
      expect(idpA.tokenCodes).to.have.length(codesSent);
    });

  it("refuses an answer for a login sent to alpha's issuer once alpha names another (the tenant changed mid-flow), and hands its code to no token endpoint", async () => {
    const { broker, idpA, idpB } = stack;
    const victim = new Browser();
    const state = (await authorizationAt(victim, 'alpha')).get('state')!;
    // The tenant's alpha now names beta's issuer: a replica rolled out with it, sharing the flows.
    const changed = await brokerReplica(broker, (tenant) => {
      const copy = structuredClone(tenant);
      copy.spec.identityProviders[0]!.oidc!.issuer = idpB.issuer;
      return copy;
    });
    try {
      const response = await victim.request(
        `${changed.url}/oidc/callback/alpha?code=${state}&state=${state}`,
      );
      const body = await response.text();
      expect(idpB.tokenCodes, "codes presented at beta's token endpoint").to.not.include(state);
      expect(idpA.tokenCodes, "codes presented at alpha's token endpoint").to.not.include(state);
      expect([response.status, pageReason(body)]).to.deep.equal([400, 'FLOW_IDP_MISMATCH']);
    } finally {
      await changed.close();
    }
  });

  it('gives each IdP its own redirect URI, and signs in through each at its own', async () => {
    const { broker, idpA, idpB } = stack;
    for (const [idp, fake] of [
      ['alpha', idpA],
      ['beta', idpB],
    ] as const) {
      const browser = new Browser();
      const authorization = await authorizationAt(browser, idp);
      expect(authorization.get('redirect_uri')).to.equal(`${broker.url}/oidc/callback/${idp}`);
      const state = authorization.get('state')!;
      fake.forgery = 'valid';
      // The code is the state: the fake IdP answers it with the nonce of this flow (fake-oidc.ts).
      const response = await browser.request(
        `${broker.url}/oidc/callback/${idp}?code=${state}&state=${state}`,
      );
      const body = await response.text();
      expect(response.status, pageReason(body) ?? idp).to.equal(200);
      expect(formFields(body)['SAMLResponse']).to.be.a('string');
      expect(fake.tokenCodes.at(-1)).to.equal(state);
    }
  });
});
