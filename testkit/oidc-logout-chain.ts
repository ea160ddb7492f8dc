import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { decodeJwt, importJWK, type JWK, type JWTPayload, SignJWT } from 'jose';
import type { ClientMetadata } from 'oidc-provider';
import type { FlowStore } from '../common/flowstore/index.js';
import { type DevIdp, type DevIdpOptions, startDevIdp } from '../dev/idp/provider.js';
import {
  type BrokerUnderTest,
  Browser,
  devClient,
  listenPlaceholder,
  loginAtDevIdp,
  oidcIdp,
  type Pki,
} from './broker-harness.js';
import type { KeyPair } from './keys.js';
import { portalBehindBroker } from './portal-behind-broker.js';
import type { Harness } from './portal-harness.js';

/** The broker's page at the end of a sign-in: its auto-posting Response form, or a refusal. */
export interface BrokerAnswer {
  status: number;
  html: string;
}

/**
 * The whole chain an OIDC IdP's logout crosses (ADR 0150, 0159): the real portal, signing in through
 * the broker at oidc-provider (IdP `corporate`), whose ID tokens carry the IdP session's `sid`.
 */
export interface OidcLogoutChain {
  pki: Pki;
  idp: DevIdp;
  portal: Harness;
  broker: BrokerUnderTest;
  /** The `sid` of each ID token the IdP issued, latest last. */
  sids: string[];
  /**
   * The person signs in at the portal, through the broker and the IdP: her browser and IdP session.
   * `beforePortal` runs once the broker has answered, before her browser posts its Response to the portal.
   */
  signedIn(email?: string, beforePortal?: () => Promise<void>): Promise<{ browser: Browser; sid: string }>;
  /**
   * The same steps, judged by the caller: the broker's answer to the IdP's callback, and the
   * portal's to the Response it carried (none when the broker sent no Response).
   */
  signIn(
    email?: string,
    beforePortal?: () => Promise<void>,
  ): Promise<{ browser: Browser; sid: string; brokerAnswer: BrokerAnswer; portalAnswer?: Response }>;
  /** A signed-in page of the portal: 200 while the session lives, 303 to sign-in once it is gone. */
  portalPage(browser: Browser): Promise<number>;
  close(): Promise<void>;
}

export async function startOidcLogoutChain(options: {
  /** The client's logout registration at the IdP, given the broker's URL. */
  logoutRegistration: (brokerUrl: string) => Partial<ClientMetadata>;
  /** More of the IdP's options (its clients are the broker's). */
  idp?: Omit<DevIdpOptions, 'clients'>;
  /** The broker's flow store (default: in memory). */
  store?: FlowStore;
  /** The portal's flow store (default: the test Redis, under a prefix of its own). */
  portalStore?: FlowStore;
  /** A pair the portal trusts beside the broker's, as during a rotation of the broker's key. */
  brokerNextKey?: KeyPair;
}): Promise<OidcLogoutChain> {
  const placeholder = await listenPlaceholder();
  const { url } = placeholder;
  const idp = await startDevIdp({
    ...options.idp,
    clients: [devClient(url, options.logoutRegistration(url))],
  });
  const sids: string[] = [];
  idp.provider.on('grant.success', (ctx) => {
    const { id_token: idToken } = ctx.body as { id_token: string };
    sids.push(String(decodeJwt(idToken)['sid']));
  });
  const { pki, portal, broker, portalPage } = await portalBehindBroker(
    placeholder,
    [oidcIdp('corporate', idp.issuer)],
    options,
  );
  async function signIn(email = 'alice@acme.test', beforePortal?: () => Promise<void>) {
    const browser = new Browser();
    const toBroker = await browser.request(`${portal.url}/login`);
    expect(toBroker.status).to.equal(303);
    const toIdp = await browser.request(toBroker.headers.get('location')!);
    expect(toIdp.status, 'the broker sends the browser to the IdP').to.equal(302);
    const before = sids.length;
    const { page, fields, html } = await loginAtDevIdp(
      browser,
      new URL(toIdp.headers.get('location')!, broker.url).href,
      {
        brokerUrl: broker.url,
        email,
      },
    );
    expect(sids.length, 'one ID token').to.equal(before + 1);
    const sid = sids.at(-1)!;
    expect(sid, 'the ID token names the IdP session').to.match(/^[\w-]{10,}$/);
    const brokerAnswer = { status: page.status, html };
    if (fields['SAMLResponse'] === undefined) return { browser, sid, brokerAnswer };
    await beforePortal?.();
    const portalAnswer = await browser.request(`${portal.url}/saml/acs`, { form: fields });
    return { browser, sid, brokerAnswer, portalAnswer };
  }
  return {
    pki,
    idp,
    portal,
    broker,
    sids,
    portalPage,
    signIn,
    async signedIn(email, beforePortal) {
      const { browser, sid, brokerAnswer, portalAnswer } = await signIn(email, beforePortal);
      expect(brokerAnswer.status, 'the broker sends a Response').to.equal(200);
      expect(portalAnswer?.status, 'the portal takes the broker Response').to.equal(303);
      expect(await portalPage(browser)).to.equal(200);
      return { browser, sid };
    },
    async close() {
      await broker.close();
      await portal.close();
      await idp.close();
      pki.cleanup();
    },
  };
}

/** A back-channel logout token `issuer` signs with `signingKey` (RS256), naming alice and whatever `claims` add. */
export async function signedLogoutToken(
  issuer: string,
  signingKey: JWK,
  claims: JWTPayload = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    iss: issuer,
    aud: 'jsm-sso',
    iat: now,
    exp: now + 120,
    jti: randomBytes(12).toString('hex'),
    sub: 'alice',
    events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
    ...claims,
  })
    .setProtectedHeader({ alg: 'RS256', kid: signingKey.kid!, typ: 'logout+jwt' })
    .sign(await importJWK(signingKey, 'RS256'));
}
