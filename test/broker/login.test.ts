import { createHash } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { expect } from 'chai';
import { MemoryFlowStore } from '../../common/flowstore/index.js';
import {
  Browser,
  loginThroughBroker,
  portalSp,
  type Stack,
  startStack,
} from '../../testkit/broker-harness.js';

/** A memory store that remembers the keys written (a pool's tenant view adds its prefix in front). */
class WriteCountingStore extends MemoryFlowStore {
  readonly written: string[] = [];
  override async put(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.written.push(key);
    return super.put(key, value, ttlSeconds);
  }
}

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

  it('names the OIDC issuer that authenticated her as AuthenticatingAuthority, after the AuthnContextClassRef, and node-saml accepts it (core 3.4.1.5.1, ADR 0228)', async () => {
    const { fields } = await loginThroughBroker(
      { portal: stack.portal, brokerUrl: stack.broker.url },
      new Browser(),
    );
    const xml = Buffer.from(fields['SAMLResponse']!, 'base64').toString('utf8');
    const authnContext = /<saml:AuthnContext>(.*?)<\/saml:AuthnContext>/.exec(xml)?.[1];
    expect(authnContext).to.match(
      new RegExp(
        `^<saml:AuthnContextClassRef>[^<]+</saml:AuthnContextClassRef><saml:AuthenticatingAuthority>${stack.idp.issuer}</saml:AuthenticatingAuthority>$`,
      ),
    );
    expect((await stack.portal.validatePostResponseAsync(fields)).profile?.nameID).to.equal(
      'alice@acme.test',
    );
  });

  it("names the person in the audit line by a keyed hash: the same at each login, not one anyone can compute from alice's subject", async () => {
    const hashes: unknown[] = [];
    for (let i = 0; i < 2; i++) {
      const from = stack.broker.logs.length;
      await loginThroughBroker({ portal: stack.portal, brokerUrl: stack.broker.url }, new Browser());
      hashes.push(stack.broker.logs.slice(from).find((l) => l['event'] === 'broker.login')?.['subjectHash']);
    }
    expect(hashes[0]).to.match(/^[0-9a-f]{16}$/);
    expect(hashes[1]).to.equal(hashes[0]);
    // The dev IdP's subject for alice is `alice`: an unkeyed hash of it is confirmed from a staff list.
    const unkeyed = createHash('sha256').update('corporate\0alice').digest('hex').slice(0, 16);
    expect(hashes[0]).to.not.equal(unkeyed);
  });

  it('signs in for a node-saml SP left at its request defaults (NameIDPolicy emailAddress, RequestedAuthnContext PasswordProtectedTransport exact)', async () => {
    const portal = portalSp(stack.broker.url, stack.pki, { defaults: true });
    const authorizeUrl = await portal.getAuthorizeUrlAsync('rs-defaults', undefined, {});
    const request = inflateRawSync(
      Buffer.from(new URL(authorizeUrl).searchParams.get('SAMLRequest')!, 'base64'),
    ).toString('utf8');
    expect(request).to.contain('PasswordProtectedTransport').and.contain('nameid-format:emailAddress');
    const { fields } = await loginThroughBroker({ portal, brokerUrl: stack.broker.url }, new Browser(), {
      relayState: 'rs-defaults',
    });
    const { profile } = await portal.validatePostResponseAsync(fields);
    expect(profile?.nameID).to.equal('alice@acme.test');
  });

  // Each write is a Redis round trip in a deployment. With one IdP the broker goes straight on to
  // it, so the flow is written once, already holding the IdP's name and its backend's state.
  it('writes the login flow once when the tenant has one IdP', async () => {
    const store = new WriteCountingStore();
    const counted = await startStack(store);
    try {
      const { fields } = await loginThroughBroker(
        { portal: counted.portal, brokerUrl: counted.broker.url },
        new Browser(),
      );
      expect((await counted.portal.validatePostResponseAsync(fields)).profile?.nameID).to.equal(
        'alice@acme.test',
      );
      const flowWrites = store.written.filter((key) => /(^|:)flow:/.test(key));
      expect(flowWrites).to.have.length(1);
      expect(store.written.filter((key) => /(^|:)state:/.test(key))).to.have.length(1);
    } finally {
      await counted.close();
    }
  });
});
