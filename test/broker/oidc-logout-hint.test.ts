import { expect } from 'chai';
import type { FlowStore } from '../../common/flowstore/index.js';
import { MemoryFlowStore } from '../../common/flowstore/index.js';
import * as harness from '../../testkit/broker-harness.js';
import { type FakeOidc, startFakeOidc } from './fake-oidc.js';

/**
 * An IdP's `login_hint` claim (Entra ID issues one: opaque to the RP, the IdP's way to name the
 * person) is kept for the RP-initiated logout's `logout_hint`, sealed: nothing of the person rests
 * in the session store in clear (ADR 0233).
 */
describe('broker: an IdP login_hint is kept for its logout only, sealed', () => {
  const HINT = 'LH-opaque-alice-0123456789';
  const written: string[] = [];
  let fake: FakeOidc;
  let broker: harness.BrokerUnderTest;
  let pki: harness.Pki;

  /** The broker's memory store, every argument it is given recorded. */
  function recordingStore(): FlowStore {
    const store = new MemoryFlowStore();
    return new Proxy(store, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          written.push(JSON.stringify(args));
          return value.apply(target, args);
        };
      },
    });
  }

  before(async () => {
    pki = harness.createPki();
    fake = await startFakeOidc('jsm-sso');
    fake.endSession = true;
    const { server, url } = await harness.listenPlaceholder();
    const tenant = harness.tenantFor(url, [
      harness.oidcIdp('alpha', fake.issuer, { emailDomains: ['acme.test'] }),
    ]);
    broker = await harness.serveBroker(server, url, tenant, pki, recordingStore());
  });
  after(async () => {
    await broker.close();
    await fake.close();
    pki.cleanup();
  });

  it('sends it back as logout_hint, and never writes it to the store in clear', async () => {
    const portal = harness.portalSp(broker.url, pki);
    const browser = new harness.Browser();
    const toIdp = await browser.request(await portal.getAuthorizeUrlAsync('rs', undefined, {}));
    const authorize = new URL(toIdp.headers.get('location')!);
    await fetch(authorize);
    fake.person = { email: 'alice@acme.test', email_verified: true, login_hint: HINT };
    const state = authorize.searchParams.get('state')!;
    const answer = await browser.request(
      `${authorize.searchParams.get('redirect_uri')}?code=c1&state=${state}&iss=${encodeURIComponent(fake.issuer)}`,
    );
    expect(answer.status).to.equal(200);
    const { profile } = await portal.validatePostResponseAsync(harness.formFields(await answer.text()));
    const logout = await browser.request(await portal.getLogoutUrlAsync(profile!, 'rs', {}));
    const endSession = new URL(logout.headers.get('location')!);
    expect(`${endSession.origin}${endSession.pathname}`).to.equal(`${fake.issuer}/logout`);
    expect(endSession.searchParams.get('logout_hint')).to.equal(HINT);
    expect(written.length).to.be.above(0);
    expect(written.filter((args) => args.includes(HINT))).to.deep.equal([]);
  });
});
