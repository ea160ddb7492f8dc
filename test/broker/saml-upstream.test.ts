import type { SamlOptions } from '@node-saml/node-saml';
import { expect } from 'chai';
import { DEFAULT_MAX_MESSAGE_BYTES, MAX_POSTED_FORM_BYTES } from '../../common/saml/index.js';
import {
  type BrokerUnderTest,
  Browser,
  formFields,
  handWrittenAuthnRequest,
  type Pki,
  PORTAL_URL,
  pageReason,
  portalSp,
  sendSignedAuthnRequest,
  signedStatusCodes,
  toUpstreamIdp,
} from '../../testkit/broker-harness.js';
import { schemaErrors } from '../interop/schema.js';
import { UNLOADABLE_SIGNATURES } from '../saml/message-attacks.js';
import {
  answerAuthnRequest,
  answeredAtBrokerAcs,
  postToBrokerAcs,
  serveUpstreamSamlBroker,
  UPSTREAM_ENTITY_ID,
  type UpstreamAnswer,
  type UpstreamIdp,
  type UpstreamSamlBroker,
  type UpstreamSp,
} from './upstream-saml.js';

const PASSWORD_PROTECTED_TRANSPORT = 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport';

/** portal (node-saml) -> broker -> upstream SAML IdP (samlify) -> broker -> portal. */
describe('broker: login through an upstream SAML IdP', () => {
  let served: UpstreamSamlBroker;
  let pki: Pki;
  let idp: UpstreamIdp;
  let broker: BrokerUnderTest;
  let sp: UpstreamSp;

  before(async () => {
    served = await serveUpstreamSamlBroker({ claims: ['email', 'displayName', 'groups'] });
    ({ pki, idp, broker, sp } = served);
  });
  after(() => served?.close());

  const answer = {
    nameId: 'carol@example.test',
    attributes: {
      email: ['carol@example.test'],
      displayName: ['Carol Chen'],
      groups: ['jsm-customers', 'jsm-agents'],
    },
  };

  /**
   * The AuthnRequest of a portal set up with `portalOptions` reaches the broker, which sends the
   * browser to the upstream IdP.
   */
  async function startLogin(
    browser: Browser,
    relayState = 'rs-saml',
    portalOptions: Partial<SamlOptions> = {},
  ) {
    const portal = portalSp(broker.url, pki);
    Object.assign(portal.options, portalOptions);
    return { portal, redirectUrl: await toUpstreamIdp(browser, portal, relayState) };
  }

  const postToAcs = (browser: Browser, samlResponse: string, relayState: string) =>
    postToBrokerAcs(browser, broker.url, samlResponse, relayState);

  /**
   * A whole sign-in, the upstream IdP's answer (`answer` with `change`) posted as the IdP signed it:
   * the portal, and the broker's page after its ACS.
   */
  async function signIn(
    change: UpstreamAnswer = {},
    start: { relayState?: string; portal?: Partial<SamlOptions> } = {},
  ) {
    const browser = new Browser();
    const { portal, redirectUrl } = await startLogin(browser, start.relayState, start.portal);
    const upstream = { browser, brokerUrl: broker.url, idp };
    return { portal, page: await answeredAtBrokerAcs(upstream, redirectUrl, { ...answer, ...change }) };
  }

  it('hands node-saml a valid signed Response with the mapped attributes', async () => {
    const { portal, page } = await signIn();
    expect(page.status).to.equal(200);
    const fields = formFields(await page.text());
    expect(fields['RelayState']).to.equal('rs-saml');
    const { profile } = await portal.validatePostResponseAsync(fields);
    expect(profile?.nameID).to.equal('carol@example.test');
    expect(profile?.['displayName']).to.equal('Carol Chen');
    expect(profile?.['groups']).to.deep.equal(['jsm-customers', 'jsm-agents']);
    const audit = broker.logs.findLast((l) => l['event'] === 'broker.login');
    expect(audit).to.include({ idp: 'upstream', result: 'success' });
  });

  it('names the upstream IdP as AuthenticatingAuthority, after those its own assertion named, and node-saml accepts it (core 3.4.1.5.1, ADR 0228)', async () => {
    const { portal, page } = await signIn({
      authenticatingAuthorities: ['https://home-idp.example.test/metadata'],
    });
    const fields = formFields(await page.text());
    const xml = Buffer.from(fields['SAMLResponse']!, 'base64').toString('utf8');
    expect([...xml.matchAll(/<saml:AuthenticatingAuthority>([^<]*)</g)].map((m) => m[1])).to.deep.equal([
      'https://home-idp.example.test/metadata',
      UPSTREAM_ENTITY_ID,
    ]);
    expect(xml).to.contain('</saml:AuthnContextClassRef><saml:AuthenticatingAuthority>');
    expect((await portal.validatePostResponseAsync(fields)).profile?.nameID).to.equal('carol@example.test');
  });

  it('refuses the same upstream Response posted again (replay)', async () => {
    const browser = new Browser();
    const { redirectUrl } = await startLogin(browser);
    const upstream = await answerAuthnRequest(idp, sp, redirectUrl, broker.url, answer);
    expect((await postToAcs(browser, upstream.samlResponse, upstream.relayState)).status).to.equal(200);
    const replay = await postToAcs(browser, upstream.samlResponse, upstream.relayState);
    expect(replay.status).to.equal(400);
    expect(await replay.text()).to.contain('FLOW_UNKNOWN');
  });

  it('refuses an upstream Response posted for another flow (InResponseTo bound to the flow)', async () => {
    const browser = new Browser();
    const first = await startLogin(browser);
    const upstream = await answerAuthnRequest(idp, sp, first.redirectUrl, broker.url, answer);
    const other = await startLogin(new Browser());
    const otherFlow = new URL(other.redirectUrl).searchParams.get('RelayState')!;
    const refused = await postToAcs(browser, upstream.samlResponse, otherFlow);
    expect(refused.status).to.equal(400);
    expect(await refused.text()).to.contain('SAML_IN_RESPONSE_TO_MISMATCH');
    expect(broker.logs.findLast((l) => l['event'] === 'broker.refusal')?.['reason']).to.equal(
      'SAML_IN_RESPONSE_TO_MISMATCH',
    );
  });

  for (const shape of UNLOADABLE_SIGNATURES) {
    it(`refuses an upstream Response whose signature has ${shape.has}: 400 SAML_SIGNATURE_INVALID, no internal error (ADR 0228)`, async () => {
      const browser = new Browser();
      const { redirectUrl } = await startLogin(browser);
      const upstream = await answerAuthnRequest(idp, sp, redirectUrl, broker.url, answer);
      const xml = shape.tamper(Buffer.from(upstream.samlResponse, 'base64').toString('utf8'));
      const from = broker.logs.length;
      const refused = await postToAcs(browser, Buffer.from(xml).toString('base64'), upstream.relayState);
      expect(refused.status).to.equal(400);
      expect(await refused.text()).to.contain('SAML_SIGNATURE_INVALID');
      expect(broker.logs.slice(from).map((l) => l['event'])).to.not.include('broker.internal_error');
      expect(broker.logs.findLast((l) => l['event'] === 'broker.refusal')?.['reason']).to.equal(
        'SAML_SIGNATURE_INVALID',
      );
    });
  }

  it('refuses an assertion whose bearer SubjectConfirmationData has a NotBefore (profiles 4.1.4.2), signing nobody in', async () => {
    const { page: refused } = await signIn({ confirmationNotBefore: new Date(Date.now() - 60_000) });
    expect(refused.status).to.equal(400);
    expect(await refused.text()).to.contain('SAML_SUBJECT_CONFIRMATION_INVALID');
    expect(broker.logs.findLast((l) => l['event'] === 'broker.refusal')?.['reason']).to.equal(
      'SAML_SUBJECT_CONFIRMATION_INVALID',
    );
  });

  it('refuses a Response nested 20,000 levels deep with a 400, not a stack overflow (500)', async () => {
    const browser = new Browser();
    const { redirectUrl } = await startLogin(browser);
    const flow = new URL(redirectUrl).searchParams.get('RelayState')!;
    const deep = `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_deep" Version="2.0">${'<a>'.repeat(20_000)}${'</a>'.repeat(20_000)}</samlp:Response>`;
    const refused = await postToAcs(browser, Buffer.from(deep).toString('base64'), flow);
    expect(refused.status).to.equal(400);
    // So many elements are refused by their number, before they are parsed (ADR 0238).
    expect(await refused.text()).to.contain('SAML_MESSAGE_TOO_LARGE');
  });

  it('takes an upstream Response within the 256 KiB a SAML message may be, whatever its form is posted as (ADR 0317)', async () => {
    // A person in 1,300 groups: a Response of some 209 KB, whose base64 (and its form) is past 256 KiB.
    const groups = Array.from({ length: 1_300 }, (_, n) => `${'g'.repeat(110)}-${n}`);
    const browser = new Browser();
    const { redirectUrl } = await startLogin(browser);
    const upstream = await answerAuthnRequest(idp, sp, redirectUrl, broker.url, {
      ...answer,
      attributes: { ...answer.attributes, groups },
    });
    expect(Buffer.from(upstream.samlResponse, 'base64').length).to.be.at.most(DEFAULT_MAX_MESSAGE_BYTES);
    expect(upstream.samlResponse.length).to.be.above(256 * 1024);
    const page = await postToAcs(browser, upstream.samlResponse, upstream.relayState);
    const html = await page.text();
    expect([page.status, pageReason(html)], html.slice(0, 300)).to.deep.equal([200, undefined]);
    expect(formFields(html)['SAMLResponse']).to.be.a('string');
    // A form past the longest such a Response is posted in is still refused before it is read.
    const oversized = await postToAcs(new Browser(), 'A'.repeat(MAX_POSTED_FORM_BYTES), upstream.relayState);
    expect([oversized.status, pageReason(await oversized.text())]).to.deep.equal([
      413,
      'HTTP_BODY_TOO_LARGE',
    ]);
  });

  it('refuses an upstream Response padded with 35,000 empty elements in its Assertion before checking its signature (ADR 0238)', async () => {
    // Anyone holding a flow's RelayState may post one: under a signature that no longer verified,
    // xml-crypto walked every element five times, half a second of the broker, before refusing it.
    const browser = new Browser();
    const { redirectUrl } = await startLogin(browser);
    const upstream = await answerAuthnRequest(idp, sp, redirectUrl, broker.url, answer);
    const xml = Buffer.from(upstream.samlResponse, 'base64').toString('utf8');
    const padded = xml.replace(/(<saml:AttributeStatement>)/, `$1${'<x/>'.repeat(35_000)}`);
    expect(padded).to.not.equal(xml);
    const refused = await postToAcs(browser, Buffer.from(padded).toString('base64'), upstream.relayState);
    expect(refused.status).to.equal(400);
    expect(await refused.text()).to.contain('SAML_MESSAGE_TOO_LARGE');
  });

  it('refuses a Response that is not UTF-8 instead of reading it with replacement characters', async () => {
    const browser = new Browser();
    const { redirectUrl } = await startLogin(browser);
    const upstream = await answerAuthnRequest(idp, sp, redirectUrl, broker.url, answer);
    // A Latin-1 byte in a comment between the Response's children: outside every signature.
    const xml = Buffer.from(upstream.samlResponse, 'base64').toString('utf8');
    const at = xml.indexOf('<samlp:Status>');
    const bytes = Buffer.concat([
      Buffer.from(xml.slice(0, at)),
      Buffer.from([0x3c, 0x21, 0x2d, 0x2d, 0xe9, 0x2d, 0x2d, 0x3e]),
      Buffer.from(xml.slice(at)),
    ]);
    const refused = await postToAcs(browser, bytes.toString('base64'), upstream.relayState);
    expect(refused.status).to.equal(400);
    expect(await refused.text()).to.contain('SAML_ENCODING_INVALID');
  });

  it("asks the upstream IdP to proxy one time fewer than the portal's Scoping ProxyCount allows (core 3.4.1.5.1)", async () => {
    const upstreamRequest = async (proxyCount: number | undefined) => {
      const scoping = proxyCount === undefined ? {} : { scoping: { proxyCount } };
      const { redirectUrl } = await startLogin(new Browser(), 'rs', scoping);
      return (await answerAuthnRequest(idp, sp, redirectUrl, broker.url, answer)).requestXml;
    };
    const portalRequester = `<samlp:RequesterID>${PORTAL_URL}/saml/metadata</samlp:RequesterID>`;
    expect(await upstreamRequest(3)).to.contain(
      `<samlp:Scoping ProxyCount="2">${portalRequester}</samlp:Scoping>`,
    );
    expect(await upstreamRequest(1)).to.contain(
      `<samlp:Scoping ProxyCount="0">${portalRequester}</samlp:Scoping>`,
    );
    // Unscoped, the request has no Scoping: Entra ID and AD FS take none (ADR 0252).
    expect(await upstreamRequest(undefined)).to.not.contain('Scoping');
  });

  it('reads ProxyCount as an xs:nonNegativeInteger: " 3 " is passed on as 2, and a count past 999,999,999 as 999,999,998, by HTTP-Redirect and HTTP-POST (ADR 0376)', async () => {
    for (const binding of ['redirect', 'post'] as const) {
      for (const [sent, passedOn] of [
        ['\t3 ', '2'],
        ['+00012345678901', '999999998'],
      ]) {
        const xml = handWrittenAuthnRequest(broker.url, { body: `<samlp:Scoping ProxyCount="${sent}"/>` });
        const sso = await sendSignedAuthnRequest(new Browser(), broker.url, pki, xml, binding);
        expect(sso.status, `${binding} ${sent}`).to.equal(binding === 'post' ? 303 : 302);
        const upstream = await answerAuthnRequest(idp, sp, sso.headers.get('location')!, broker.url, answer);
        expect(upstream.requestXml, `${binding} ${sent}`).to.contain(
          `<samlp:Scoping ProxyCount="${passedOn}"><samlp:RequesterID>${PORTAL_URL}/saml/metadata</samlp:RequesterID></samlp:Scoping>`,
        );
      }
    }
  });

  it("names the portal, after the RequesterIDs the portal's request carries, as RequesterID of its AuthnRequest to the upstream IdP (core 3.4.1.2, 3.4.1.5.1; ADR 0252)", async () => {
    const browser = new Browser();
    const { redirectUrl } = await startLogin(browser, 'rs', {
      // node-saml, the portal's library, writes Scoping's RequesterID elements itself.
      scoping: { proxyCount: 2, requesterId: ['https://app.example.test/sp', 'urn:example:first-requester'] },
    });
    const upstream = await answerAuthnRequest(idp, sp, redirectUrl, broker.url, answer);
    expect(upstream.requestXml).to.contain(
      '<samlp:Scoping ProxyCount="1">' +
        '<samlp:RequesterID>https://app.example.test/sp</samlp:RequesterID>' +
        '<samlp:RequesterID>urn:example:first-requester</samlp:RequesterID>' +
        `<samlp:RequesterID>${PORTAL_URL}/saml/metadata</samlp:RequesterID>` +
        '</samlp:Scoping>',
    );
    // samlify verified the broker's signature on it; the sign-in completes as before.
    expect((await postToAcs(browser, upstream.samlResponse, upstream.relayState)).status).to.equal(200);
  });

  it("passes the portal's RequestedAuthnContext and IDPList on to the upstream IdP as they are (core 3.4.1.5.1, ADR 0228)", async () => {
    const browser = new Browser();
    const { portal, redirectUrl } = await startLogin(browser, 'rs', {
      disableRequestedAuthnContext: false,
      authnContext: [PASSWORD_PROTECTED_TRANSPORT],
      racComparison: 'minimum',
      scoping: {
        proxyCount: 2,
        idpList: [
          {
            entries: [
              { providerId: UPSTREAM_ENTITY_ID, name: 'Upstream' },
              { providerId: 'https://other-idp.example.test' },
            ],
          },
        ],
      },
    });
    const upstream = await answerAuthnRequest(idp, sp, redirectUrl, broker.url, answer);
    expect(upstream.requestXml).to.contain(
      `<samlp:RequestedAuthnContext Comparison="minimum"><saml:AuthnContextClassRef>${PASSWORD_PROTECTED_TRANSPORT}</saml:AuthnContextClassRef></samlp:RequestedAuthnContext>`,
    );
    expect(upstream.requestXml).to.contain(
      `<samlp:Scoping ProxyCount="1"><samlp:IDPList><samlp:IDPEntry ProviderID="${UPSTREAM_ENTITY_ID}" Name="Upstream"/><samlp:IDPEntry ProviderID="https://other-idp.example.test"/></samlp:IDPList><samlp:RequesterID>${PORTAL_URL}/saml/metadata</samlp:RequesterID></samlp:Scoping>`,
    );
    // samlify's IdP asserts that class: the sign-in completes as before.
    const page = await postToAcs(browser, upstream.samlResponse, upstream.relayState);
    expect(page.status).to.equal(200);
    expect((await portal.validatePostResponseAsync(formFields(await page.text()))).profile?.nameID).to.equal(
      'carol@example.test',
    );
  });

  it('passes a RequestedAuthnContext naming declarations on to the upstream IdP as it came, by HTTP-Redirect and HTTP-POST (core 3.4.1.5.1, ADR 0376)', async () => {
    const declared =
      '<samlp:RequestedAuthnContext Comparison="exact"><saml:AuthnContextDeclRef>urn:example:decl:smartcard</saml:AuthnContextDeclRef></samlp:RequestedAuthnContext>';
    for (const binding of ['redirect', 'post'] as const) {
      const browser = new Browser();
      const xml = handWrittenAuthnRequest(broker.url, { body: declared });
      const sso = await sendSignedAuthnRequest(browser, broker.url, pki, xml, binding);
      expect(sso.status, binding).to.equal(binding === 'post' ? 303 : 302);
      const upstream = await answerAuthnRequest(idp, sp, sso.headers.get('location')!, broker.url, answer);
      expect(upstream.requestXml, binding).to.contain(declared);
      expect(schemaErrors(upstream.requestXml), binding).to.deep.equal([]);
    }
  });

  it('passes ForceAuthn on to the upstream AuthnRequest', async () => {
    const browser = new Browser();
    const { redirectUrl } = await startLogin(browser, 'rs', { forceAuthn: true });
    const upstream = await answerAuthnRequest(idp, sp, redirectUrl, broker.url, answer);
    expect(upstream.requestXml).to.contain('ForceAuthn="true"');
    // Authenticated now: the login goes through.
    expect((await postToAcs(browser, upstream.samlResponse, upstream.relayState)).status).to.equal(200);
  });

  it('passes IsPassive on to the upstream AuthnRequest, without ForceAuthn', async () => {
    const browser = new Browser();
    const { redirectUrl } = await startLogin(browser, 'rs', { passive: true });
    const upstream = await answerAuthnRequest(idp, sp, redirectUrl, broker.url, answer);
    expect(upstream.requestXml).to.contain('IsPassive="true"');
    expect(upstream.requestXml).not.to.contain('ForceAuthn');
    expect((await postToAcs(browser, upstream.samlResponse, upstream.relayState)).status).to.equal(200);
  });

  it('answers the portal Responder/AuthnFailed, for a ForceAuthn login, to an upstream assertion whose AuthnInstant is an hour old (the IdP reused its session)', async () => {
    const { page: refused } = await signIn(
      { authnInstant: new Date(Date.now() - 3_600_000) },
      { relayState: 'rs', portal: { forceAuthn: true } },
    );
    expect(refused.status).to.equal(200);
    expect(
      signedStatusCodes(formFields(await refused.text())['SAMLResponse']!, pki.brokerCert),
    ).to.deep.equal([
      'urn:oasis:names:tc:SAML:2.0:status:Responder',
      'urn:oasis:names:tc:SAML:2.0:status:AuthnFailed',
    ]);
    expect(broker.logs.findLast((l) => l['event'] === 'broker.refusal')?.['reason']).to.equal(
      'SAML_AUTHENTICATION_NOT_FRESH',
    );
  });

  it('answers Responder/AuthnFailed, for a ForceAuthn login by HTTP-Redirect and HTTP-POST, to an AuthnInstant a minute before the upstream AuthnRequest left, within the SAML clock skew; 20 s before its answer signs in (ADR 0380)', async () => {
    /**
     * A signed AuthnRequest with ForceAuthn (a new one each time: its ID is spent) by `binding`, the
     * upstream IdP answering with the AuthnInstant `instantOf` makes of when the test sent the request
     * and when the broker's redirect had come back: the signed status codes of the broker's Response.
     */
    const forcedLoginStatus = async (
      binding: 'redirect' | 'post',
      instantOf: (times: { sentBefore: number; seenAfter: number }) => number,
    ) => {
      const browser = new Browser();
      const forced = handWrittenAuthnRequest(broker.url).replace(
        ' ProtocolBinding=',
        ' ForceAuthn="true" ProtocolBinding=',
      );
      const sentBefore = Date.now();
      const sso = await sendSignedAuthnRequest(browser, broker.url, pki, forced, binding);
      expect(sso.status, binding).to.equal(binding === 'post' ? 303 : 302);
      const authnInstant = new Date(instantOf({ sentBefore, seenAfter: Date.now() }));
      const upstream = { browser, brokerUrl: broker.url, idp };
      const page = await answeredAtBrokerAcs(upstream, sso.headers.get('location')!, {
        ...answer,
        authnInstant,
      });
      expect(page.status, binding).to.equal(200);
      return signedStatusCodes(formFields(await page.text())['SAMLResponse']!, pki.brokerCert);
    };
    for (const binding of ['redirect', 'post'] as const) {
      // Earlier than the request left by a minute: an upstream session 60 s old, not the fresh sign-in asked for.
      expect(
        await forcedLoginStatus(binding, ({ sentBefore }) => sentBefore - 60_000),
        binding,
      ).to.deep.equal([
        'urn:oasis:names:tc:SAML:2.0:status:Responder',
        'urn:oasis:names:tc:SAML:2.0:status:AuthnFailed',
      ]);
      expect(broker.logs.findLast((l) => l['event'] === 'broker.refusal')?.['reason'], binding).to.equal(
        'SAML_AUTHENTICATION_NOT_FRESH',
      );
      // Within the IdP clock tolerance of the moment the request left: the fresh sign-in, its clock behind.
      expect(await forcedLoginStatus(binding, ({ seenAfter }) => seenAfter - 20_000), binding).to.deep.equal([
        'urn:oasis:names:tc:SAML:2.0:status:Success',
      ]);
    }
  });

  it('refuses an upstream assertion whose AuthnInstant is 30 minutes in the future, with or without ForceAuthn: 400 SAML_NOT_YET_VALID, nothing asserted to the portal', async () => {
    for (const forceAuthn of [true, false]) {
      const { page: refused } = await signIn(
        { authnInstant: new Date(Date.now() + 30 * 60_000) },
        { relayState: 'rs', portal: { forceAuthn } },
      );
      expect(refused.status, `ForceAuthn ${forceAuthn}`).to.equal(400);
      const page = await refused.text();
      expect(page).to.contain('SAML_NOT_YET_VALID');
      expect(formFields(page)['SAMLResponse']).to.equal(undefined);
      expect(broker.logs.findLast((l) => l['event'] === 'broker.refusal')?.['reason']).to.equal(
        'SAML_NOT_YET_VALID',
      );
    }
  });

  it('accepts an old AuthnInstant when the portal did not ask for ForceAuthn (the IdP’s session is reused)', async () => {
    const { page } = await signIn({ authnInstant: new Date(Date.now() - 3_600_000) });
    expect(page.status).to.equal(200);
  });

  describe("the upstream IdP's session end (SessionNotOnOrAfter, core 2.7.2): the portal's session ends no later (ADR 0244)", () => {
    /** The broker's assertion to the portal, for an upstream assertion whose session ends at `end` (or names no end). */
    const brokerAssertionFor = async (end: Date | undefined) => {
      const browser = new Browser();
      const { portal, redirectUrl } = await startLogin(browser);
      const upstream = await answerAuthnRequest(idp, sp, redirectUrl, broker.url, {
        ...answer,
        ...(end ? { sessionNotOnOrAfter: end } : {}),
      });
      const before = Date.now();
      const page = await postToAcs(browser, upstream.samlResponse, upstream.relayState);
      expect(page.status).to.equal(200);
      const fields = formFields(await page.text());
      const xml = Buffer.from(fields['SAMLResponse']!, 'base64').toString('utf8');
      const named = /<saml:AuthnStatement [^>]*SessionNotOnOrAfter="([^"]+)"/.exec(xml)?.[1];
      return { portal, fields, before, sessionEnd: named === undefined ? undefined : new Date(named) };
    };
    /** The tenant's portal.session.absoluteTimeoutSeconds (its default): the broker's session lives as long. */
    const BROKER_SESSION_MS = 28_800_000;

    it("carries the upstream IdP's SessionNotOnOrAfter on to the portal as it was signed, and node-saml accepts the assertion", async () => {
      const end = new Date(Math.floor(Date.now() / 1000) * 1000 + 20 * 60_000);
      const { portal, fields, sessionEnd } = await brokerAssertionFor(end);
      expect(sessionEnd?.toISOString()).to.equal(end.toISOString());
      expect((await portal.validatePostResponseAsync(fields)).profile?.nameID).to.equal('carol@example.test');
    });

    for (const [upstreamEnd, end] of [
      ['an end later than the broker session', () => new Date(Date.now() + 2 * BROKER_SESSION_MS)],
      ['no end', () => undefined],
    ] as const) {
      it(`names the end of the broker's own session when the upstream IdP names ${upstreamEnd}`, async () => {
        const { sessionEnd, before } = await brokerAssertionFor(end());
        expect(sessionEnd, 'SessionNotOnOrAfter').to.not.equal(undefined);
        expect(sessionEnd!.getTime()).to.be.within(
          before + BROKER_SESSION_MS,
          Date.now() + BROKER_SESSION_MS,
        );
      });
    }
  });

  it('refuses an upstream assertion whose Conditions NotBefore is after its NotOnOrAfter, though both are within the skew (core 2.5.1.2)', async () => {
    const browser = new Browser();
    const { redirectUrl } = await startLogin(browser);
    const now = Date.now();
    const upstream = await answerAuthnRequest(idp, sp, redirectUrl, broker.url, {
      ...answer,
      conditionsWindow: { notBefore: new Date(now + 60_000), notOnOrAfter: new Date(now + 30_000) },
    });
    const page = await postToAcs(browser, upstream.samlResponse, upstream.relayState);
    expect(page.status).to.equal(400);
    expect(await page.text()).to.contain('SAML_XML_INVALID');
  });

  describe('an upstream ProxyRestriction (core 2.5.1.6): the broker is the relying party that asserts on', () => {
    const PORTAL_ENTITY = `${PORTAL_URL}/saml/metadata`;
    const withConditions = (conditionsXml: string) => signIn({ conditionsXml });

    for (const [forbids, restriction] of [
      ['Count="0"', '<saml:ProxyRestriction Count="0"/>'],
      [
        'Audiences without the portal',
        '<saml:ProxyRestriction Count="3"><saml:Audience>https://other-sp.example.test</saml:Audience></saml:ProxyRestriction>',
      ],
    ] as const) {
      it(`answers the portal a signed Responder/RequestDenied when it forbids asserting on (${forbids})`, async () => {
        const { page } = await withConditions(restriction);
        expect(page.status).to.equal(200);
        const samlResponse = formFields(await page.text())['SAMLResponse']!;
        expect(signedStatusCodes(samlResponse, pki.brokerCert)).to.deep.equal([
          'urn:oasis:names:tc:SAML:2.0:status:Responder',
          'urn:oasis:names:tc:SAML:2.0:status:RequestDenied',
        ]);
        expect(broker.logs.findLast((l) => l['event'] === 'broker.login')).to.include({
          result: 'refused',
          reason: 'SAML_PROXY_RESTRICTED',
        });
      });
    }

    it('carries it on to the portal one less, and node-saml accepts the assertion', async () => {
      const { portal, page } = await withConditions(
        `<saml:ProxyRestriction Count="2"><saml:Audience>${PORTAL_ENTITY}</saml:Audience></saml:ProxyRestriction>`,
      );
      expect(page.status).to.equal(200);
      const fields = formFields(await page.text());
      expect(Buffer.from(fields['SAMLResponse']!, 'base64').toString('utf8')).to.contain(
        `<saml:ProxyRestriction Count="1"><saml:Audience>${PORTAL_ENTITY}</saml:Audience></saml:ProxyRestriction>`,
      );
      expect((await portal.validatePostResponseAsync(fields)).profile?.nameID).to.equal('carol@example.test');
    });

    it('refuses an upstream assertion with a condition it does not understand (core 2.5.1.1: Indeterminate)', async () => {
      const { page } = await withConditions(
        '<saml:Condition xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:x="urn:example:conditions" xsi:type="x:OnlyOnTuesdays"/>',
      );
      expect(page.status).to.equal(400);
      expect(await page.text()).to.contain('SAML_CONDITION_UNSUPPORTED');
    });
  });

  for (const [second, kind] of [
    ['NoPassive', 'a passive login that needs the person'],
    ['RequestDenied', 'a refusal'],
  ] as const) {
    it(`passes the upstream IdP's Responder/${second} on to the portal as such (${kind}), not as AuthnFailed`, async () => {
      const { page } = await signIn({
        status: 'urn:oasis:names:tc:SAML:2.0:status:Responder',
        secondLevelStatus: `urn:oasis:names:tc:SAML:2.0:status:${second}`,
      });
      expect(page.status).to.equal(200);
      expect(signedStatusCodes(formFields(await page.text())['SAMLResponse']!, pki.brokerCert)).to.deep.equal(
        ['urn:oasis:names:tc:SAML:2.0:status:Responder', `urn:oasis:names:tc:SAML:2.0:status:${second}`],
      );
    });
  }

  it("passes the upstream IdP's Responder/ProxyCountExceeded, to the ProxyCount the portal allowed, on to the portal as such (core 3.4.1.5.1)", async () => {
    const browser = new Browser();
    const { redirectUrl } = await startLogin(browser, 'rs-saml', { scoping: { proxyCount: 1 } });
    const upstream = await answerAuthnRequest(idp, sp, redirectUrl, broker.url, {
      ...answer,
      status: 'urn:oasis:names:tc:SAML:2.0:status:Responder',
      secondLevelStatus: 'urn:oasis:names:tc:SAML:2.0:status:ProxyCountExceeded',
    });
    expect(upstream.requestXml, 'the broker is the one proxy allowed').to.match(
      /<samlp:Scoping ProxyCount="0"><samlp:RequesterID>/,
    );
    const page = await postToAcs(browser, upstream.samlResponse, upstream.relayState);
    expect(page.status).to.equal(200);
    expect(signedStatusCodes(formFields(await page.text())['SAMLResponse']!, pki.brokerCert)).to.deep.equal([
      'urn:oasis:names:tc:SAML:2.0:status:Responder',
      'urn:oasis:names:tc:SAML:2.0:status:ProxyCountExceeded',
    ]);
  });

  it("does not take an error Response that answers another request (or none) for the IdP's no to this login", async () => {
    const browser = new Browser();
    const first = await startLogin(browser);
    const failed = await answerAuthnRequest(idp, sp, first.redirectUrl, broker.url, {
      ...answer,
      status: 'urn:oasis:names:tc:SAML:2.0:status:Responder',
    });
    const other = await startLogin(new Browser());
    const otherFlow = new URL(other.redirectUrl).searchParams.get('RelayState')!;
    const refused = await postToAcs(browser, failed.samlResponse, otherFlow);
    expect(refused.status).to.equal(400);
    expect(await refused.text()).to.contain('SAML_IN_RESPONSE_TO_MISMATCH');
  });

  it('tells the portal with a signed Responder/AuthnFailed Response when the upstream IdP fails the login', async () => {
    const { page } = await signIn({ status: 'urn:oasis:names:tc:SAML:2.0:status:Responder' });
    expect(page.status).to.equal(200);
    const samlResponse = formFields(await page.text())['SAMLResponse']!;
    expect(signedStatusCodes(samlResponse, pki.brokerCert)).to.deep.equal([
      'urn:oasis:names:tc:SAML:2.0:status:Responder',
      'urn:oasis:names:tc:SAML:2.0:status:AuthnFailed',
    ]);
    expect(Buffer.from(samlResponse, 'base64').toString('utf8')).not.to.contain('Assertion');
  });
});
