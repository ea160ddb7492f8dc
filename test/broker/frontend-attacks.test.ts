import { createSign } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { expect } from 'chai';
import {
  NAMEID_EMAIL,
  NAMEID_TRANSIENT,
  NAMEID_UNSPECIFIED,
  signEnveloped,
  signRedirectQuery,
} from '../../common/saml/index.js';
import { DEV_ACR } from '../../dev/idp/provider.js';
import {
  handWrittenAuthnRequest as authnRequest,
  Browser,
  formFields,
  loginAtDevIdp,
  PORTAL_URL,
  pageReason,
  type Stack,
  signedStatusCodes,
  startStack,
} from '../../testkit/broker-harness.js';

const NAMEID_PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';

import { HEADER_ATTACKS, UNLOADABLE_SIGNATURES } from '../saml/message-attacks.js';

/** Each attack on the SAML frontend is sent for real and must be refused with its reason code. */

describe('broker: SAML frontend refuses attacks', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => stack.close());

  const redirect = (xml: string, relayState = 'rs') =>
    fetch(
      `${stack.broker.url}/saml/sso?${signRedirectQuery('SAMLRequest', xml, { keyPem: stack.pki.portalKey, relayState })}`,
      {
        redirect: 'manual',
      },
    );
  const post = (form: Record<string, string>) =>
    fetch(`${stack.broker.url}/saml/sso`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
      redirect: 'manual',
    });
  const signedPost = (xml: string) =>
    post({
      SAMLRequest: Buffer.from(
        signEnveloped(xml, {
          id: /ID="([^"]+)"/.exec(xml)![1]!,
          keyPem: stack.pki.portalKey,
          certPem: stack.pki.portalCert,
        }),
      ).toString('base64'),
    });

  async function expectRefusal(response: Response, status: number, reason: string) {
    const body = await response.text();
    expect(response.status, body).to.equal(status);
    expect(body).to.contain(reason);
    expect(response.headers.get('content-type')).to.match(/text\/html/);
    const line = stack.broker.logs.findLast((l) => l['event'] === 'broker.refusal');
    expect(line?.['reason']).to.equal(reason);
    const metrics = await stack.broker.context.registry.getSingleMetricAsString(
      'jsm_sso_broker_refusals_total',
    );
    expect(metrics).to.contain(`reason="${reason}"`);
  }

  it('accepts a correctly signed AuthnRequest over HTTP-Redirect (302) and over HTTP-POST (303 See Other: the IdP is asked with GET, never the POST repeated; ADR 0347)', async () => {
    const authorizationEndpoint = (answer: Response) => {
      const location = new URL(answer.headers.get('location')!);
      return `${location.origin}${location.pathname}`;
    };
    const byRedirect = await redirect(authnRequest(stack.broker.url));
    expect(byRedirect.status).to.equal(302);
    const byPost = await signedPost(authnRequest(stack.broker.url));
    expect(byPost.status).to.equal(303);
    expect(authorizationEndpoint(byPost)).to.equal(authorizationEndpoint(byRedirect));
    expect(authorizationEndpoint(byPost).startsWith(stack.idp.issuer)).to.equal(true);
  });

  it('refuses an unsigned AuthnRequest (Redirect)', async () => {
    const query = `SAMLRequest=${encodeURIComponent(deflateRawSync(authnRequest(stack.broker.url)).toString('base64'))}`;
    await expectRefusal(await fetch(`${stack.broker.url}/saml/sso?${query}`), 400, 'SAML_SIGNATURE_MISSING');
  });

  it('refuses an unsigned AuthnRequest (POST)', async () => {
    await expectRefusal(
      await post({ SAMLRequest: Buffer.from(authnRequest(stack.broker.url)).toString('base64') }),
      400,
      'SAML_SIGNATURE_MISSING',
    );
  });

  it('refuses a tampered AuthnRequest whose signature no longer matches', async () => {
    const query = signRedirectQuery('SAMLRequest', authnRequest(stack.broker.url), {
      keyPem: stack.pki.portalKey,
      relayState: 'a',
    });
    await expectRefusal(
      await fetch(`${stack.broker.url}/saml/sso?${query.replace('RelayState=a', 'RelayState=b')}`),
      400,
      'SAML_SIGNATURE_INVALID',
    );
  });

  it("refuses an AuthnRequest signed by a key other than the portal's", async () => {
    const query = signRedirectQuery('SAMLRequest', authnRequest(stack.broker.url), {
      keyPem: stack.pki.brokerKey,
    });
    await expectRefusal(await fetch(`${stack.broker.url}/saml/sso?${query}`), 400, 'SAML_SIGNATURE_INVALID');
  });

  it('refuses an AuthnRequest asking for an unregistered ACS URL', async () => {
    await expectRefusal(
      await redirect(
        authnRequest(stack.broker.url, { acs: ' AssertionConsumerServiceURL="https://evil.example/acs"' }),
      ),
      400,
      'SAML_ACS_UNREGISTERED',
    );
  });

  /**
   * The broker's signed Response in the auto-post page `response`: its status codes, checked to go to
   * the registered ACS with the request's RelayState, answering the request `xml`.
   */
  async function statusAnswer(
    response: Response,
    xml: string,
    relayState: string | undefined,
  ): Promise<string[]> {
    const body = await response.text();
    expect(response.status, body).to.equal(200);
    const fields = formFields(body);
    expect(body).to.include(`action="${PORTAL_URL}/saml/acs"`);
    expect(fields['RelayState']).to.equal(relayState);
    const codes = signedStatusCodes(fields['SAMLResponse']!, stack.pki.brokerCert);
    const answer = Buffer.from(fields['SAMLResponse']!, 'base64').toString();
    expect(answer).to.include(`InResponseTo="${/ID="([^"]+)"/.exec(xml)![1]}"`);
    expect(answer).to.include(`Destination="${PORTAL_URL}/saml/acs"`);
    return codes.map((code) => code ?? '');
  }

  const ARTIFACT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact';
  /** The ECP profile's binding (profiles 4.2): the answer would go back through the client, not to the ACS. */
  const PAOS = 'urn:oasis:names:tc:SAML:2.0:bindings:PAOS';

  /**
   * A request the portal signed that a later check refuses is answered, not left at a page the portal
   * never sees (ADR 0294): a signed Requester/RequestDenied to the registered ACS, logged with `reason`.
   */
  async function expectDenied(
    response: Response,
    xml: string,
    relayState: string | undefined,
    reason: string,
  ) {
    expect(await statusAnswer(response, xml, relayState)).to.deep.equal([
      'urn:oasis:names:tc:SAML:2.0:status:Requester',
      'urn:oasis:names:tc:SAML:2.0:status:RequestDenied',
    ]);
    expect(lastRefusal()).to.equal(reason);
  }

  it('answers an AuthnRequest asking for a binding other than HTTP-POST (HTTP-Artifact, PAOS) by a signed Requester/UnsupportedBinding Response to the registered ACS (ADR 0204)', async () => {
    for (const binding of [ARTIFACT, PAOS]) {
      const xml = authnRequest(stack.broker.url, { binding });
      expect(await statusAnswer(await redirect(xml, 'rs-b'), xml, 'rs-b'), binding).to.deep.equal([
        'urn:oasis:names:tc:SAML:2.0:status:Requester',
        'urn:oasis:names:tc:SAML:2.0:status:UnsupportedBinding',
      ]);
      expect(lastRefusal()).to.equal('SAML_BINDING_UNSUPPORTED');
    }
  });

  it('answers an AuthnRequest of Version 3.0 by a signed VersionMismatch/RequestVersionTooHigh Response to the registered ACS, over Redirect and POST (ADR 0204)', async () => {
    const xml = authnRequest(stack.broker.url).replace('Version="2.0"', 'Version="3.0"');
    expect(await statusAnswer(await redirect(xml, 'rs-v'), xml, 'rs-v')).to.deep.equal([
      'urn:oasis:names:tc:SAML:2.0:status:VersionMismatch',
      'urn:oasis:names:tc:SAML:2.0:status:RequestVersionTooHigh',
    ]);
    expect(lastRefusal()).to.equal('SAML_VERSION_UNSUPPORTED');
    const posted = authnRequest(stack.broker.url).replace('Version="2.0"', 'Version="3.0"');
    const codes = signedStatusCodes(
      formFields(await (await signedPost(posted)).text())['SAMLResponse']!,
      stack.pki.brokerCert,
    );
    expect(codes).to.deep.equal([
      'urn:oasis:names:tc:SAML:2.0:status:VersionMismatch',
      'urn:oasis:names:tc:SAML:2.0:status:RequestVersionTooHigh',
    ]);
  });

  it('answers an AuthnRequest of Version 1.1 by RequestVersionTooLow, and of Version "2.5" by VersionMismatch alone', async () => {
    const low = authnRequest(stack.broker.url).replace('Version="2.0"', 'Version="1.1"');
    expect(await statusAnswer(await redirect(low), low, 'rs')).to.deep.equal([
      'urn:oasis:names:tc:SAML:2.0:status:VersionMismatch',
      'urn:oasis:names:tc:SAML:2.0:status:RequestVersionTooLow',
    ]);
    const minor = authnRequest(stack.broker.url).replace('Version="2.0"', 'Version="2.5"');
    expect(await statusAnswer(await redirect(minor), minor, 'rs')).to.deep.equal([
      'urn:oasis:names:tc:SAML:2.0:status:VersionMismatch',
    ]);
  });

  it("answers nothing signed to an AuthnRequest of another Version or binding that is not shown to be the portal's: a page, as before", async () => {
    const version = authnRequest(stack.broker.url).replace('Version="2.0"', 'Version="3.0"');
    const unsigned = `SAMLRequest=${encodeURIComponent(deflateRawSync(version).toString('base64'))}`;
    await expectRefusal(
      await fetch(`${stack.broker.url}/saml/sso?${unsigned}`),
      400,
      'SAML_SIGNATURE_MISSING',
    );
    const byBroker = signRedirectQuery('SAMLRequest', version, { keyPem: stack.pki.brokerKey });
    await expectRefusal(
      await fetch(`${stack.broker.url}/saml/sso?${byBroker}`),
      400,
      'SAML_SIGNATURE_INVALID',
    );
    const otherIssuer = version.replace(`${PORTAL_URL}/saml/metadata`, 'https://evil.example/metadata');
    await expectRefusal(await redirect(otherIssuer), 400, 'SAML_ISSUER_MISMATCH');
    // An Artifact or PAOS request naming its own ACS: the answer would go where the request says; it goes nowhere.
    for (const binding of [ARTIFACT, PAOS]) {
      const elsewhere = authnRequest(stack.broker.url, {
        binding,
        acs: ' AssertionConsumerServiceURL="https://evil.example/acs"',
      });
      await expectRefusal(await redirect(elsewhere), 400, 'SAML_ACS_UNREGISTERED');
    }
  });

  it('answers a NameIDPolicy format the IdP is not asserted with by a signed Requester/InvalidNameIDPolicy Response to the registered ACS', async () => {
    const xml = authnRequest(stack.broker.url, { nameIdFormat: NAMEID_PERSISTENT });
    const response = await redirect(xml, 'rs-n');
    expect(response.status).to.equal(200);
    const fields = formFields(await response.text());
    expect(fields['RelayState']).to.equal('rs-n');
    expect(signedStatusCodes(fields['SAMLResponse']!, stack.pki.brokerCert)).to.deep.equal([
      'urn:oasis:names:tc:SAML:2.0:status:Requester',
      'urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy',
    ]);
    const answer = Buffer.from(fields['SAMLResponse']!, 'base64').toString();
    expect(answer).to.include(`InResponseTo="${/ID="([^"]+)"/.exec(xml)![1]}"`);
    expect(answer).to.include(`Destination="${PORTAL_URL}/saml/acs"`);
    expect(stack.broker.logs.findLast((l) => l['event'] === 'broker.refusal')?.['reason']).to.equal(
      'SAML_NAMEID_POLICY_UNSUPPORTED',
    );
  });

  it('answers IsPassive with ForceAuthn by a signed Responder/NoPassive Response at once (a fresh login cannot be passive)', async () => {
    const { codes, authorize } = await answerTo(
      authnRequest(stack.broker.url).replace(
        '<samlp:AuthnRequest ',
        '<samlp:AuthnRequest IsPassive="true" ForceAuthn="1" ',
      ),
    );
    expect(authorize).to.equal(undefined);
    expect(codes).to.deep.equal([
      'urn:oasis:names:tc:SAML:2.0:status:Responder',
      'urn:oasis:names:tc:SAML:2.0:status:NoPassive',
    ]);
    expect(lastRefusal()).to.equal('SAML_PASSIVE_NOT_POSSIBLE');
  });

  it('answers a NameIDPolicy asking for the NameID of another SP (SPNameQualifier) with a signed Requester/InvalidNameIDPolicy Response, and takes its own entityID', async () => {
    const withQualifier = (qualifier: string) =>
      authnRequest(stack.broker.url, { body: `<samlp:NameIDPolicy SPNameQualifier="${qualifier}"/>` });
    const refused = await redirect(withQualifier('https://other-sp.example/metadata'));
    expect(refused.status).to.equal(200);
    expect(
      signedStatusCodes(formFields(await refused.text())['SAMLResponse']!, stack.pki.brokerCert),
    ).to.deep.equal([
      'urn:oasis:names:tc:SAML:2.0:status:Requester',
      'urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy',
    ]);
    expect(lastRefusal()).to.equal('SAML_NAMEID_POLICY_UNSUPPORTED');
    expect((await redirect(withQualifier(`${PORTAL_URL}/saml/metadata`))).status).to.equal(302);
  });

  it('reads IsPassive and ForceAuthn as xs:boolean: " true " is true, and "TRUE" or "yes" is a malformed request, not false, answered Requester/RequestDenied', async () => {
    const withAttributes = (attributes: string) =>
      authnRequest(stack.broker.url).replace('<samlp:AuthnRequest ', `<samlp:AuthnRequest ${attributes} `);
    // XML Schema 3.3.2: xs:boolean collapses whitespace; its values are true, false, 1, 0.
    const passive = await redirect(withAttributes('IsPassive=" true\t"'));
    expect(passive.status).to.equal(302);
    expect(new URL(passive.headers.get('location')!).searchParams.get('prompt')).to.equal('none');
    const forced = await redirect(withAttributes('ForceAuthn="\n1 "'));
    expect(new URL(forced.headers.get('location')!).searchParams.get('prompt')).to.equal('login');
    for (const attributes of ['IsPassive="TRUE"', 'IsPassive="yes"', 'ForceAuthn="True"', 'ForceAuthn=""']) {
      const malformed = withAttributes(attributes);
      await expectDenied(await redirect(malformed, 'rs-x'), malformed, 'rs-x', 'SAML_XML_INVALID');
    }
  });

  it('gives a hostile RelayState back only as an escaped form value', async () => {
    const hostile = '"><script>alert(1)</script><input name="x';
    const response = await redirect(
      authnRequest(stack.broker.url, { nameIdFormat: NAMEID_PERSISTENT }),
      hostile,
    );
    const page = await response.text();
    expect(page).to.not.include('<script>alert(1)').and.not.include('name="x"');
    expect(page).to.include(
      '<input type="hidden" name="RelayState" value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;input name&#61;&quot;x">',
    );
  });

  it('accepts a NameIDPolicy asking for the format the IdP is asserted with, or for unspecified', async () => {
    for (const format of [NAMEID_EMAIL, NAMEID_UNSPECIFIED]) {
      const response = await redirect(authnRequest(stack.broker.url, { nameIdFormat: format }));
      expect(response.status, format).to.equal(302);
    }
  });

  /** A RequestedAuthnContext element (core 3.3.2.2.1). */
  const requestedContext = (comparison: string | undefined, classRefs: string[]) =>
    `<samlp:RequestedAuthnContext${comparison ? ` Comparison="${comparison}"` : ''}>${classRefs
      .map((c) => `<saml:AuthnContextClassRef>${c}</saml:AuthnContextClassRef>`)
      .join('')}</samlp:RequestedAuthnContext>`;
  const MULTI_FACTOR = 'urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract';

  /**
   * Sends `xml` to `target`'s broker, signs the person in at the dev IdP when the broker sends them
   * there; the Response's status codes and its AuthnContextClassRef.
   */
  async function answerTo(
    xml: string,
    target: Stack = stack,
  ): Promise<{ codes: Array<string | null>; authorize?: URL; classRef?: string; xml?: string }> {
    const browser = new Browser();
    const sso = await browser.request(
      `${target.broker.url}/saml/sso?${signRedirectQuery('SAMLRequest', xml, { keyPem: target.pki.portalKey, relayState: 'rs' })}`,
    );
    if (sso.status === 200) {
      return {
        codes: signedStatusCodes(formFields(await sso.text())['SAMLResponse']!, target.pki.brokerCert),
      };
    }
    expect(sso.status).to.equal(302);
    const authorize = new URL(sso.headers.get('location')!);
    const { fields } = await loginAtDevIdp(browser, authorize.href, { brokerUrl: target.broker.url });
    const response = fields['SAMLResponse']!;
    const responseXml = Buffer.from(response, 'base64').toString('utf8');
    const classRef = /AuthnContextClassRef>([^<]+)</.exec(responseXml)?.[1];
    return {
      codes: signedStatusCodes(response, target.pki.brokerCert),
      authorize,
      xml: responseXml,
      ...(classRef === undefined ? {} : { classRef }),
    };
  }
  it('asserts a new random transient NameID when the SP asks for one, and still says who in the attributes', async () => {
    const nameIds = new Set<string>();
    for (let i = 0; i < 2; i++) {
      const { codes, xml } = await answerTo(
        authnRequest(stack.broker.url, { nameIdFormat: NAMEID_TRANSIENT }),
      );
      expect(codes).to.deep.equal(['urn:oasis:names:tc:SAML:2.0:status:Success']);
      const nameId = /<saml:NameID Format="([^"]+)"[^>]*>([^<]+)</.exec(xml!);
      expect(nameId?.[1]).to.equal(NAMEID_TRANSIENT);
      expect(nameId?.[2]).to.match(/^_[0-9a-f]{40}$/);
      expect(xml).to.contain('alice@acme.test');
      nameIds.add(nameId![2]!);
    }
    expect(nameIds.size).to.equal(2);
  });

  const lastRefusal = () => stack.broker.logs.findLast((l) => l['event'] === 'broker.refusal')?.['reason'];
  const PASSWORD_PROTECTED = 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport';

  it('by default forwards a RequestedAuthnContext as acr_values and asserts the class the IdP used, listed or not (node-saml asks PasswordProtectedTransport by default)', async () => {
    for (const comparison of [undefined, 'exact', 'minimum', 'maximum', 'better']) {
      const { codes, authorize, classRef } = await answerTo(
        authnRequest(stack.broker.url, { body: requestedContext(comparison, [PASSWORD_PROTECTED]) }),
      );
      expect(codes, comparison).to.deep.equal(['urn:oasis:names:tc:SAML:2.0:status:Success']);
      // The dev IdP states its acr only when acr_values asked for one; without, the class is unspecified.
      expect(classRef, comparison).to.equal(
        comparison === 'better' ? 'urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified' : DEV_ACR,
      );
      expect(authorize?.searchParams.get('acr_values') ?? undefined, comparison).to.equal(
        comparison === 'better' ? undefined : PASSWORD_PROTECTED,
      );
    }
  });

  describe('with spec.broker.requestedAuthnContext: Enforce (ADR 0140)', () => {
    let enforcing: Stack;
    before(async () => {
      enforcing = await startStack(undefined, (spec) => {
        spec.broker.requestedAuthnContext = 'Enforce';
      });
    });
    after(async () => enforcing.close());
    const lastEnforcedRefusal = () =>
      enforcing.broker.logs.findLast((l) => l['event'] === 'broker.refusal')?.['reason'];

    it('passes a RequestedAuthnContext on as acr_values and asserts the login when the IdP’s acr is a class listed', async () => {
      const { codes, authorize } = await answerTo(
        authnRequest(enforcing.broker.url, { body: requestedContext('exact', [MULTI_FACTOR, DEV_ACR]) }),
        enforcing,
      );
      expect(authorize?.searchParams.get('acr_values')).to.equal(`${MULTI_FACTOR} ${DEV_ACR}`);
      expect(codes).to.deep.equal(['urn:oasis:names:tc:SAML:2.0:status:Success']);
    });

    it('answers a signed Responder/NoAuthnContext Response when the IdP signed the person in with a class the SP did not list', async () => {
      for (const comparison of [undefined, 'exact', 'minimum', 'maximum']) {
        const { codes } = await answerTo(
          authnRequest(enforcing.broker.url, { body: requestedContext(comparison, [MULTI_FACTOR]) }),
          enforcing,
        );
        expect(codes, comparison).to.deep.equal([
          'urn:oasis:names:tc:SAML:2.0:status:Responder',
          'urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext',
        ]);
        expect(enforcing.broker.logs.findLast((l) => l['event'] === 'broker.login')).to.include({
          result: 'refused',
          reason: 'SAML_AUTHN_CONTEXT_NOT_MET',
        });
      }
    });

    it('answers NoAuthnContext at once to Comparison="better" and to a request naming only declarations', async () => {
      for (const body of [
        requestedContext('better', [DEV_ACR]),
        '<samlp:RequestedAuthnContext><saml:AuthnContextDeclRef>urn:example:decl</saml:AuthnContextDeclRef></samlp:RequestedAuthnContext>',
      ]) {
        const { codes, authorize } = await answerTo(authnRequest(enforcing.broker.url, { body }), enforcing);
        expect(authorize, body).to.equal(undefined);
        expect(codes).to.deep.equal([
          'urn:oasis:names:tc:SAML:2.0:status:Responder',
          'urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext',
        ]);
        expect(lastEnforcedRefusal()).to.equal('SAML_AUTHN_CONTEXT_NOT_MET');
      }
    });
  });

  it('answers a RequestedAuthnContext with an unknown Comparison by a signed Requester/RequestDenied Response', async () => {
    const xml = authnRequest(stack.broker.url, { body: requestedContext('roughly', [DEV_ACR]) });
    await expectDenied(await redirect(xml), xml, 'rs', 'SAML_XML_INVALID');
  });

  it('answers a RequestedAuthnContext naming no class and no declaration, or both, by a signed Requester/RequestDenied Response, over Redirect and POST (ADR 0376)', async () => {
    for (const body of [
      '<samlp:RequestedAuthnContext Comparison="exact"/>',
      `<samlp:RequestedAuthnContext><saml:AuthnContextClassRef>${DEV_ACR}</saml:AuthnContextClassRef><saml:AuthnContextDeclRef>urn:example:decl</saml:AuthnContextDeclRef></samlp:RequestedAuthnContext>`,
    ]) {
      const xml = authnRequest(stack.broker.url, { body });
      await expectDenied(await redirect(xml), xml, 'rs', 'SAML_XML_INVALID');
      const posted = authnRequest(stack.broker.url, { body });
      await expectDenied(await signedPost(posted), posted, undefined, 'SAML_XML_INVALID');
    }
  });

  it('answers a signed Requester/RequestUnsupported Response to an AuthnRequest naming the Subject to authenticate', async () => {
    const { codes, authorize } = await answerTo(
      authnRequest(stack.broker.url, {
        body: '<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">bob@acme.test</saml:NameID></saml:Subject>',
      }),
    );
    expect(authorize).to.equal(undefined);
    expect(codes).to.deep.equal([
      'urn:oasis:names:tc:SAML:2.0:status:Requester',
      'urn:oasis:names:tc:SAML:2.0:status:RequestUnsupported',
    ]);
    expect(lastRefusal()).to.equal('SAML_SUBJECT_UNSUPPORTED');
  });

  it('answers a signed Responder/ProxyCountExceeded Response to ProxyCount="0" (the broker always proxies), and proxies a count of 1', async () => {
    const scoped = (count: string) =>
      authnRequest(stack.broker.url, { body: `<samlp:Scoping ProxyCount="${count}"/>` });
    const { codes, authorize } = await answerTo(scoped('0'));
    expect(authorize).to.equal(undefined);
    expect(codes).to.deep.equal([
      'urn:oasis:names:tc:SAML:2.0:status:Responder',
      'urn:oasis:names:tc:SAML:2.0:status:ProxyCountExceeded',
    ]);
    expect(lastRefusal()).to.equal('SAML_PROXY_COUNT_EXCEEDED');
    expect((await redirect(scoped('1'))).status).to.equal(302);
    const negative = scoped('-1');
    await expectDenied(await redirect(negative), negative, 'rs', 'SAML_XML_INVALID');
  });

  it('reads ProxyCount as an xs:nonNegativeInteger: " 0 ", "-0" and "+000" are 0 (ProxyCountExceeded), " 1 " and 10,000,000,000 are proxied, "1.0", "" and "0x1" are malformed (ADR 0376)', async () => {
    const scoped = (count: string) =>
      authnRequest(stack.broker.url, { body: `<samlp:Scoping ProxyCount="${count}"/>` });
    for (const zero of [' 0\n', '-0', '+000']) {
      const { codes } = await answerTo(scoped(zero));
      expect(codes, zero).to.deep.equal([
        'urn:oasis:names:tc:SAML:2.0:status:Responder',
        'urn:oasis:names:tc:SAML:2.0:status:ProxyCountExceeded',
      ]);
    }
    for (const count of ['\t1 ', '10000000000'])
      expect((await redirect(scoped(count))).status, count).to.equal(302);
    for (const malformed of ['1.0', '', '0x1', '- 0']) {
      const xml = scoped(malformed);
      await expectDenied(await redirect(xml), xml, 'rs', 'SAML_XML_INVALID');
    }
  });

  /** A request whose NameIDPolicy (emailAddress, the format the dev IdP is asserted with) writes AllowCreate as `value`. */
  const allowingCreate = (value: string, format = NAMEID_EMAIL) =>
    authnRequest(stack.broker.url, {
      body: `<samlp:NameIDPolicy Format="${format}" AllowCreate="${value}"/>`,
    });

  it('reads NameIDPolicy AllowCreate as an xs:boolean, over Redirect and POST: "TRUE", "yes", "" and "01" are a malformed request, answered Requester/RequestDenied; " 1 ", "0", "true" and "false" with a tab after it are taken (ADR 0380)', async () => {
    for (const malformed of ['TRUE', 'yes', '', '01']) {
      const byRedirect = allowingCreate(malformed);
      await expectDenied(await redirect(byRedirect, 'rs-a'), byRedirect, 'rs-a', 'SAML_XML_INVALID');
      const byPost = allowingCreate(malformed);
      await expectDenied(await signedPost(byPost), byPost, undefined, 'SAML_XML_INVALID');
    }
    for (const value of [' 1 ', '0', 'true', 'false\t']) {
      expect((await redirect(allowingCreate(value))).status, value).to.equal(302);
      expect((await signedPost(allowingCreate(value))).status, value).to.equal(303);
    }
  });

  it('signs in with AllowCreate="false" as with "true": the NameID is the IdP\'s e-mail, no identifier the broker creates, and a transient one is made for the assertion alone (core 3.4.1.1, ADR 0380)', async () => {
    const nameIdOf = (xml: string | undefined) =>
      /<saml:NameID Format="([^"]+)"[^>]*>([^<]+)</.exec(xml!)?.slice(1);
    for (const value of ['false', 'true']) {
      const { codes, xml } = await answerTo(allowingCreate(value));
      expect(codes, value).to.deep.equal(['urn:oasis:names:tc:SAML:2.0:status:Success']);
      expect(nameIdOf(xml), value).to.deep.equal([NAMEID_EMAIL, 'alice@acme.test']);
    }
    const { codes, xml } = await answerTo(allowingCreate('false', NAMEID_TRANSIENT));
    expect(codes).to.deep.equal(['urn:oasis:names:tc:SAML:2.0:status:Success']);
    expect(nameIdOf(xml)?.[0]).to.equal(NAMEID_TRANSIENT);
  });

  it('refuses an AuthnRequest asking for an ACS by an index other than the registered one', async () => {
    await expectRefusal(
      await redirect(
        authnRequest(stack.broker.url, { acs: ' AssertionConsumerServiceIndex="1"' }).replace(
          / ProtocolBinding="[^"]+"/,
          '',
        ),
      ),
      400,
      'SAML_ACS_UNREGISTERED',
    );
  });

  it('accepts the registered ACS by its index 0 alone, and refuses an index together with a URL or binding (core 3.4.1)', async () => {
    const byIndex = (xml: string) =>
      xml.replace(/ AssertionConsumerServiceURL="[^"]+"/, ' AssertionConsumerServiceIndex="0"');
    expect(
      (await redirect(byIndex(authnRequest(stack.broker.url)).replace(/ ProtocolBinding="[^"]+"/, '')))
        .status,
    ).to.equal(302);
    await expectRefusal(
      await redirect(byIndex(authnRequest(stack.broker.url))),
      400,
      'SAML_ACS_UNREGISTERED',
    );
    await expectRefusal(
      await redirect(
        authnRequest(stack.broker.url).replace(
          '<samlp:AuthnRequest ',
          '<samlp:AuthnRequest AssertionConsumerServiceIndex="0" ',
        ),
      ),
      400,
      'SAML_ACS_UNREGISTERED',
    );
  });

  it('refuses a POST AuthnRequest signed by a key other than the portal’s', async () => {
    const xml = authnRequest(stack.broker.url);
    const signed = signEnveloped(xml, {
      id: /ID="([^"]+)"/.exec(xml)![1]!,
      keyPem: stack.pki.brokerKey,
      certPem: stack.pki.brokerCert,
    });
    await expectRefusal(
      await post({ SAMLRequest: Buffer.from(signed).toString('base64') }),
      400,
      'SAML_SIGNATURE_INVALID',
    );
  });

  for (const shape of UNLOADABLE_SIGNATURES) {
    it(`refuses a POST AuthnRequest whose signature has ${shape.has}: 400 SAML_SIGNATURE_INVALID, no internal error (ADR 0228)`, async () => {
      const xml = authnRequest(stack.broker.url);
      const signed = signEnveloped(xml, {
        id: /ID="([^"]+)"/.exec(xml)![1]!,
        keyPem: stack.pki.portalKey,
        certPem: stack.pki.portalCert,
      });
      const from = stack.broker.logs.length;
      await expectRefusal(
        await post({ SAMLRequest: Buffer.from(shape.tamper(signed)).toString('base64') }),
        400,
        'SAML_SIGNATURE_INVALID',
      );
      expect(stack.broker.logs.slice(from).map((l) => l['event'])).to.not.include('broker.internal_error');
    });
  }

  it('answers an AuthnRequest whose Scoping IDPList names an IdP without its ProviderID, by whitespace alone, or none, by Requester/RequestDenied: SAML_XML_INVALID (it is passed on, ADR 0228, 0420)', async () => {
    for (const idpList of [
      '<samlp:IDPList><samlp:IDPEntry Name="nameless"/></samlp:IDPList>',
      '<samlp:IDPList><samlp:IDPEntry ProviderID=" &#9;&#10; "/></samlp:IDPList>',
      '<samlp:IDPList></samlp:IDPList>',
    ]) {
      const xml = authnRequest(stack.broker.url, { body: `<samlp:Scoping>${idpList}</samlp:Scoping>` });
      await expectDenied(await redirect(xml), xml, 'rs', 'SAML_XML_INVALID');
    }
  });

  it('answers an AuthnRequest whose Scoping RequesterID names nobody by Requester/RequestDenied: SAML_XML_INVALID (it is passed on, ADR 0252)', async () => {
    for (const requester of ['<samlp:RequesterID/>', '<samlp:RequesterID> </samlp:RequesterID>']) {
      const xml = authnRequest(stack.broker.url, { body: `<samlp:Scoping>${requester}</samlp:Scoping>` });
      await expectDenied(await redirect(xml), xml, 'rs', 'SAML_XML_INVALID');
    }
  });

  it('refuses a Redirect AuthnRequest signed with rsa-sha1', async () => {
    const query = signRedirectQuery('SAMLRequest', authnRequest(stack.broker.url), {
      keyPem: stack.pki.portalKey,
    });
    const sha1 = query.replace(
      encodeURIComponent('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256'),
      encodeURIComponent('http://www.w3.org/2000/09/xmldsig#rsa-sha1'),
    );
    expect(sha1).to.not.equal(query);
    await expectRefusal(
      await fetch(`${stack.broker.url}/saml/sso?${sha1}`),
      400,
      'SAML_SIGNATURE_ALGORITHM_FORBIDDEN',
    );
  });

  it('verifies the Redirect signature over the parameters in the binding’s order, not in the order they arrive', async () => {
    const xml = authnRequest(stack.broker.url);
    const query = signRedirectQuery('SAMLRequest', xml, { keyPem: stack.pki.portalKey, relayState: 'rs' });
    const [message, relayState, sigAlg, signature] = query.split('&');
    // The same signed parameters in another order: still the portal's signature (bindings 3.4.4.1).
    const shuffled = await fetch(
      `${stack.broker.url}/saml/sso?${[sigAlg, signature, relayState, message].join('&')}`,
      {
        redirect: 'manual',
      },
    );
    expect(shuffled.status, pageReason(await shuffled.text())).to.equal(302);
    // A signature the portal's key made over the octets in another order is not.
    const fresh = signRedirectQuery('SAMLRequest', authnRequest(stack.broker.url), {
      keyPem: stack.pki.portalKey,
      relayState: 'rs',
    }).split('&');
    const octets = [fresh[2], fresh[1], fresh[0]].join('&');
    const forged = createSign('sha256').update(octets).sign(stack.pki.portalKey).toString('base64');
    await expectRefusal(
      await fetch(
        `${stack.broker.url}/saml/sso?${fresh.slice(0, 3).join('&')}&Signature=${encodeURIComponent(forged)}`,
      ),
      400,
      'SAML_SIGNATURE_INVALID',
    );
  });

  it('refuses an oversize Redirect query with 431 before the broker reads it (16 KiB header limit)', async () => {
    const response = await fetch(`${stack.broker.url}/saml/sso?SAMLRequest=${'A'.repeat(70 * 1024)}`);
    expect(response.status).to.equal(431);
  });

  it("refuses a fresh code of another person's flow injected into this one (PKCE binds a code to its flow)", async () => {
    const callback = `${stack.broker.url}/oidc/callback`;
    const attacker = new Browser();
    const sso = await attacker.request(await stack.portal.getAuthorizeUrlAsync('rs-a', undefined, {}));
    const loginPage = (await attacker.follow(sso.headers.get('location')!, callback)).response!;
    const action = /action="([^"]+)"/.exec(await loginPage.text())![1]!;
    const back = await attacker.follow(new URL(action, loginPage.url).href, callback, {
      form: { email: 'alice@acme.test', password: 'demo' },
    });
    const code = new URL(back.location!).searchParams.get('code')!;
    const victim = new Browser();
    const victimSso = await victim.request(await stack.portal.getAuthorizeUrlAsync('rs-v', undefined, {}));
    const state = new URL(victimSso.headers.get('location')!).searchParams.get('state')!;
    await expectRefusal(
      await victim.request(
        `${callback}?code=${code}&state=${state}&iss=${encodeURIComponent(stack.idp.issuer)}`,
      ),
      400,
      'OIDC_CODE_INVALID',
    );
  });

  // Another Version is answered with a status (above). Another Issuer is not shown to be the
  // portal's: a page. Any other check failing on the portal's signed request: Requester/RequestDenied.
  for (const attack of HEADER_ATTACKS.filter((a) => a.reason !== 'SAML_VERSION_UNSUPPORTED')) {
    const fromPortal = attack.reason !== 'SAML_ISSUER_MISMATCH';
    it(`${fromPortal ? 'answers Requester/RequestDenied to' : 'refuses'} an AuthnRequest ${attack.sends}: ${attack.reason}`, async () => {
      const xml = attack.mutate(authnRequest(stack.broker.url));
      if (fromPortal) await expectDenied(await redirect(xml, 'rs-h'), xml, 'rs-h', attack.reason);
      else await expectRefusal(await redirect(xml), 400, attack.reason);
    });
  }

  it('keeps the page for a stale AuthnRequest naming an unregistered ACS: its answer would go where it did not ask (ADR 0204, 0294)', async () => {
    const stale = authnRequest(stack.broker.url, {
      acs: ' AssertionConsumerServiceURL="https://evil.example/acs"',
    }).replace(/IssueInstant="[^"]+"/, `IssueInstant="${new Date(Date.now() - 20 * 60_000).toISOString()}"`);
    await expectRefusal(await redirect(stale), 400, 'SAML_ACS_UNREGISTERED');
  });

  it('refuses a wrapped AuthnRequest (the portal-signed one moved into Extensions, its signature onto a forged root)', async () => {
    const genuine = authnRequest(stack.broker.url);
    const genuineId = /ID="([^"]+)"/.exec(genuine)![1]!;
    const signed = signEnveloped(genuine, {
      id: genuineId,
      keyPem: stack.pki.portalKey,
      certPem: stack.pki.portalCert,
    });
    const signature = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(signed)![0];
    const forged = authnRequest(stack.broker.url, {
      acs: ' AssertionConsumerServiceURL="https://evil.example/acs"',
    })
      .replace(/ID="[^"]+"/, 'ID="_forged"')
      .replace(
        '</saml:Issuer>',
        `</saml:Issuer>${signature}<samlp:Extensions>${signed.replace(signature, '')}</samlp:Extensions>`,
      );
    await expectRefusal(
      await post({ SAMLRequest: Buffer.from(forged).toString('base64') }),
      400,
      'SAML_SIGNATURE_REFERENCE_INVALID',
    );
  });

  it('answers a replayed AuthnRequest by a signed Requester/RequestDenied Response, starting no second sign-in', async () => {
    const xml = authnRequest(stack.broker.url);
    expect((await redirect(xml, 'rs-r')).status).to.equal(302);
    const again = await redirect(xml, 'rs-r');
    expect(again.headers.get('location')).to.equal(null);
    await expectDenied(again, xml, 'rs-r', 'SAML_REPLAY');
  });

  it("lets the portal's library read the answer to its request opened again (the back button) as a refused sign-in", async () => {
    const browser = new Browser();
    const url = await stack.portal.getAuthorizeUrlAsync('rs-back', undefined, {});
    expect((await browser.request(url)).status).to.equal(302);
    const again = await browser.request(url);
    expect(again.status).to.equal(200);
    const fields = formFields(await again.text());
    expect(fields['RelayState']).to.equal('rs-back');
    let refused: unknown;
    await stack.portal.validatePostResponseAsync(fields).catch((err: unknown) => {
      refused = err;
    });
    expect(String(refused))
      .to.match(/Requester/)
      .and.to.match(/RequestDenied/);
  });

  it('refuses an AuthnRequest with a DOCTYPE', async () => {
    const xml = authnRequest(stack.broker.url, { prefix: '<!DOCTYPE x [<!ENTITY a "aaaa">]>' });
    await expectRefusal(await redirect(xml), 400, 'SAML_DOCTYPE_FORBIDDEN');
  });

  it('refuses a deflate bomb', async () => {
    const bomb = authnRequest(stack.broker.url).replace(
      '</samlp:AuthnRequest>',
      `<!--${' '.repeat(2_000_000)}--></samlp:AuthnRequest>`,
    );
    await expectRefusal(await redirect(bomb), 400, 'SAML_DEFLATE_LIMIT');
  });

  it('refuses an AuthnRequest nested thousands of levels deep with a 400, not a stack overflow (500)', async () => {
    // 9,000 levels fit the 64 KiB a request may have; walking them recursively overflowed the stack.
    // So many elements are refused by their number now (ADR 0238), 1,000 levels by their depth.
    const nested = (levels: number) =>
      authnRequest(stack.broker.url).replace(
        '</samlp:AuthnRequest>',
        `<samlp:Extensions>${'<a>'.repeat(levels)}${'</a>'.repeat(levels)}</samlp:Extensions></samlp:AuthnRequest>`,
      );
    await expectRefusal(
      await post({ SAMLRequest: Buffer.from(nested(9_000)).toString('base64') }),
      400,
      'SAML_MESSAGE_TOO_LARGE',
    );
    await expectRefusal(
      await post({ SAMLRequest: Buffer.from(nested(1_000)).toString('base64') }),
      400,
      'SAML_XML_INVALID',
    );
  });

  it('refuses a POST AuthnRequest padded with 15,000 empty elements before checking its signature (ADR 0238)', async () => {
    // Anyone may post one: under a signature that no longer verifies, xml-crypto walked every
    // element five times, a third of a second of the broker per request, before SAML_SIGNATURE_INVALID.
    const xml = authnRequest(stack.broker.url);
    const signed = signEnveloped(xml, {
      id: /ID="([^"]+)"/.exec(xml)![1]!,
      keyPem: stack.pki.portalKey,
      certPem: stack.pki.portalCert,
    });
    const padded = signed.replace(
      '</samlp:AuthnRequest>',
      `<samlp:Extensions>${'<x/>'.repeat(15_000)}</samlp:Extensions></samlp:AuthnRequest>`,
    );
    expect(Buffer.byteLength(padded)).to.be.below(64 * 1024);
    await expectRefusal(
      await post({ SAMLRequest: Buffer.from(padded).toString('base64') }),
      400,
      'SAML_MESSAGE_TOO_LARGE',
    );
  });

  it('refuses an oversized POST', async () => {
    await expectRefusal(await post({ SAMLRequest: 'A'.repeat(300 * 1024) }), 413, 'HTTP_BODY_TOO_LARGE');
  });

  it('refuses a POST that is not a form', async () => {
    const response = await fetch(`${stack.broker.url}/saml/sso`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    await expectRefusal(response, 415, 'HTTP_FORM_EXPECTED');
  });

  it('refuses a method the endpoint does not accept, naming the ones it does', async () => {
    const response = await fetch(`${stack.broker.url}/saml/sso`, { method: 'DELETE' });
    await expectRefusal(response, 405, 'METHOD_NOT_ALLOWED');
    expect(response.headers.get('allow')).to.contain('GET');
  });

  it('answers an unknown address with a 404', async () => {
    await expectRefusal(await fetch(`${stack.broker.url}/nothing-here`), 404, 'NOT_FOUND');
  });

  it('refuses a repeated callback parameter instead of picking one', async () => {
    await expectRefusal(
      await fetch(`${stack.broker.url}/oidc/callback?code=x&state=a&state=b`),
      400,
      'HTTP_PARAMETER_REPEATED',
    );
  });

  it('refuses a RelayState longer than 80 bytes', async () => {
    await expectRefusal(
      await redirect(authnRequest(stack.broker.url), 'x'.repeat(81)),
      400,
      'SAML_RELAY_STATE_TOO_LONG',
    );
  });

  it('refuses an OIDC callback without a state', async () => {
    await expectRefusal(await fetch(`${stack.broker.url}/oidc/callback?code=x`), 400, 'OIDC_STATE_MISSING');
  });

  it('refuses an OIDC callback with an unknown state', async () => {
    await expectRefusal(
      await fetch(`${stack.broker.url}/oidc/callback?code=x&state=nope`),
      400,
      'OIDC_STATE_UNKNOWN',
    );
  });
});
