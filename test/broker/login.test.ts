import { expect } from 'chai';
import { Browser, loginThroughBroker, type Stack, startStack } from '../../testkit/broker-harness.js';

describe('broker: brokered login against oidc-provider', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => stack.close());

  it('signs a person in through the OIDC IdP and hands node-saml a valid signed Response', async () => {
    const browser = new Browser();
    const { page, fields } = await loginThroughBroker(
      { portal: stack.portal, brokerUrl: stack.broker.url },
      browser,
    );
    expect(page.status).to.equal(200);
    expect(page.headers.get('cache-control')).to.equal('no-store');
    expect(page.headers.get('content-security-policy')).to.match(/script-src 'nonce-/);
    expect(fields['RelayState']).to.equal('rs-1');
    const { profile } = await stack.portal.validatePostResponseAsync(fields);
    expect(profile?.nameID).to.equal('alice@acme.test');
    expect(profile?.['email']).to.equal('alice@acme.test');
    expect(profile?.['displayName']).to.equal('Alice Anders');
    expect(profile?.['groups']).to.deep.equal(['jsm-customers', 'jsm-admins']);
    const audit = stack.broker.logs.find((l) => l['event'] === 'broker.login');
    expect(audit).to.include({ idp: 'corporate', result: 'success' });
    expect(audit?.['subjectHash']).to.match(/^[0-9a-f]{16}$/);
    expect(JSON.stringify(stack.broker.logs)).not.to.contain('alice@acme.test');
  });
});
