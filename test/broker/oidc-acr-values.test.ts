import { expect } from 'chai';
import { DEV_ACR } from '../../dev/idp/provider.js';
import {
  Browser,
  loginAtDevIdp,
  pageReason,
  type Stack,
  signedStatusCodes,
  startStack,
} from '../../testkit/broker-harness.js';

/** A class the dev IdP (oidc-provider, `acrValues: [DEV_ACR]`) never authenticates with. */
const MULTI_FACTOR = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';

/**
 * A tenant's own `acr_values` (extraAuthorizationParams) is a requirement, not a wish (OIDC Core
 * 3.1.3.7 (12), ADR 0268): the authorization request crosses the person's browser, which can drop or
 * change the parameter, and an IdP may ignore a voluntary request, so the ID token's `acr` must be one
 * of the listed classes. The IdP is the real oidc-provider, which asserts the password class it has.
 */
describe("broker: an OIDC IdP is held to the tenant's acr_values (OIDC Core 3.1.3.7 (12))", () => {
  const stacks: Stack[] = [];
  after(async () => {
    for (const stack of stacks) await stack.close();
  });

  async function stackAsking(acrValues: string): Promise<Stack> {
    const stack = await startStack(undefined, (spec) => {
      spec['identityProviders'][0].oidc.extraAuthorizationParams = { acr_values: acrValues };
    });
    stacks.push(stack);
    return stack;
  }

  /** A login whose authorization request `edit` changes on its way through the browser. */
  async function login(stack: Stack, edit: (authorize: URL) => void = () => {}) {
    const browser = new Browser();
    const sso = await browser.request(await stack.portal.getAuthorizeUrlAsync('rs', undefined, {}));
    const authorize = new URL(sso.headers.get('location')!);
    const sent = authorize.searchParams.get('acr_values');
    edit(authorize);
    const { page, html, fields } = await loginAtDevIdp(browser, authorize.href, {
      brokerUrl: stack.broker.url,
    });
    expect(page.status, pageReason(html) ?? html.slice(0, 300)).to.equal(200);
    return { sent, statuses: signedStatusCodes(fields['SAMLResponse']!, stack.pki.brokerCert), fields };
  }

  function expectRefusedAcr(stack: Stack, statuses: Array<string | null>): void {
    expect(statuses).to.deep.equal([
      'urn:oasis:names:tc:SAML:2.0:status:Responder',
      'urn:oasis:names:tc:SAML:2.0:status:AuthnFailed',
    ]);
    expect(stack.broker.logs.findLast((l) => l['event'] === 'broker.refusal')).to.include({
      reason: 'OIDC_ACR_NOT_MET',
      idp: 'corporate',
    });
    expect(stack.broker.logs.findLast((l) => l['event'] === 'broker.login')).to.include({
      result: 'refused',
      reason: 'OIDC_ACR_NOT_MET',
    });
  }

  it('answers Responder/AuthnFailed when the IdP asserts a class the tenant did not list (it ignored the voluntary request)', async () => {
    const stack = await stackAsking(MULTI_FACTOR);
    const { sent, statuses } = await login(stack);
    expect(sent).to.equal(MULTI_FACTOR);
    expectRefusedAcr(stack, statuses);
    const metric = await stack.broker.context.registry.getSingleMetricAsString(
      'jsm_sso_broker_refusals_total',
    );
    expect(metric).to.include('reason="OIDC_ACR_NOT_MET"');
  });

  it('answers Responder/AuthnFailed when the person drops acr_values from the authorization request on its way to the IdP', async () => {
    const stack = await stackAsking(MULTI_FACTOR);
    const { sent, statuses } = await login(stack, (authorize) => authorize.searchParams.delete('acr_values'));
    expect(sent).to.equal(MULTI_FACTOR);
    // Not asked for a class, oidc-provider states none: an ID token without acr.
    expectRefusedAcr(stack, statuses);
  });

  it('signs in when the IdP asserts one of the listed classes, and asserts it as AuthnContextClassRef', async () => {
    const stack = await stackAsking(`${MULTI_FACTOR} ${DEV_ACR}`);
    const { sent, statuses, fields } = await login(stack);
    expect(sent).to.equal(`${MULTI_FACTOR} ${DEV_ACR}`);
    expect(statuses).to.deep.equal(['urn:oasis:names:tc:SAML:2.0:status:Success']);
    const profile = (await stack.portal.validatePostResponseAsync(fields)).profile;
    expect(profile?.nameID).to.equal('alice@acme.test');
    expect(Buffer.from(fields['SAMLResponse']!, 'base64').toString('utf8')).to.include(
      `<saml:AuthnContextClassRef>${DEV_ACR}</saml:AuthnContextClassRef>`,
    );
  });
});
