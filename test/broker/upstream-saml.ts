// samlify plays a tenant's upstream SAML IdP: an independent SAML implementation with its own
// signing, verifying the broker's AuthnRequest and answering it with a signed Response.
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Profile, SAML } from '@node-saml/node-saml';
import { expect } from 'chai';
import * as samlify from 'samlify';
import { canonicalAttribute, canonicalText } from '../../common/saml/canonical-xml.js';
import {
  buildIdpMetadata,
  certificateBase64,
  inflateRedirectPayload,
  NAMEID_EMAIL,
  signRedirectQuery,
} from '../../common/saml/index.js';
import {
  type BrokerUnderTest,
  type Browser,
  closeServer,
  createPki,
  formFields,
  type IdpDoc,
  listenPlaceholder,
  type Pki,
  serveBroker,
  tenantFor,
  toUpstreamIdp,
} from '../../testkit/broker-harness.js';
import { type FaultProxy, startFaultProxy } from '../../testkit/fault-proxy.js';
import { type KeyPair, makeKeyPair } from '../../testkit/keys.js';
import { schemaValidator } from '../../testkit/samlify-schema-validator.js';

export const UPSTREAM_ENTITY_ID = 'https://upstream-idp.example.test/metadata';
export const UPSTREAM_SSO = 'https://upstream-idp.example.test/sso';
export const UPSTREAM_SLO = 'https://upstream-idp.example.test/slo';
export const STATUS_SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';

samlify.setSchemaValidator(schemaValidator);
// The validator is libxml2 compiled to WebAssembly: its first call compiles the module, 15 s on a
// loaded 2-core machine, which would land inside the timeout of whichever test validates first.
// A root hook pays that once, before any test, for every file that imports this one.
const schemaValidatorReady = schemaValidator.validate('<warm-up/>').catch(() => undefined);
before(function () {
  this.timeout(120_000);
  return schemaValidatorReady;
});
// The template constant is not visible through the ESM namespace of this CommonJS package.
const samlLib = (
  createRequire(import.meta.url)('samlify') as {
    SamlLib: { replaceTagsByValue(template: string, values: Record<string, string>): string };
  }
).SamlLib;

export type UpstreamIdp = ReturnType<typeof samlify.IdentityProvider>;
export type UpstreamSp = ReturnType<typeof samlify.ServiceProvider>;

/**
 * `slo: false`: an IdP whose metadata has no SingleLogoutService. `key`: the pair it signs with
 * (another pair plays the same IdP after a certificate rollover).
 */
export function upstreamIdp(options: { slo?: boolean; key?: KeyPair } = {}): UpstreamIdp {
  const key = options.key ?? makeKeyPair('upstream-idp.example.test');
  const redirect = samlify.Constants.namespace.binding.redirect;
  return samlify.IdentityProvider({
    entityID: UPSTREAM_ENTITY_ID,
    privateKey: key.keyPem,
    signingCert: key.certPem,
    wantAuthnRequestsSigned: true,
    // samlify verifies the broker's LogoutRequest signature itself.
    wantLogoutRequestSigned: true,
    isAssertionEncrypted: false,
    // The Format it asserts (answerAuthnRequest's default), written on its LogoutRequest's NameID too:
    // the same identifier, which the broker compares (core 2.2.2, ADR 0373).
    nameIDFormat: [NAMEID_EMAIL],
    singleSignOnService: [{ Binding: redirect, Location: UPSTREAM_SSO }],
    singleLogoutService: options.slo === false ? [] : [{ Binding: redirect, Location: UPSTREAM_SLO }],
  });
}

/**
 * The IdP `upstream` of a broker that signs people in at `idp` (e-mail asserted), each of `claims`
 * mapped from the asserted attribute of its name.
 */
export function upstreamSamlIdpDoc(
  idp: UpstreamIdp = upstreamIdp(),
  claims: readonly string[] = ['email'],
): IdpDoc {
  return {
    name: 'upstream',
    saml: { metadataXml: idp.getMetadata() },
    emailTrust: 'asserted',
    attributeMapping: Object.fromEntries(claims.map((claim) => [claim, `claims.${claim}`])),
  };
}

/** The IdP `upstream` of a broker that reads its metadata from `metadataUrl` (e-mail asserted). */
export function upstreamSamlIdpDocAt(metadataUrl: string): IdpDoc {
  return { name: 'upstream', saml: { metadataUrl }, emailTrust: 'asserted' };
}

/**
 * The upstream IdP's metadata as it publishes it at a URL, listing `keys`' certificates for signing:
 * two while it rolls its certificate over, the new one alone after.
 */
export function upstreamMetadataListing(...keys: KeyPair[]): string {
  return buildIdpMetadata({
    entityId: UPSTREAM_ENTITY_ID,
    ssoUrl: UPSTREAM_SSO,
    sloUrl: UPSTREAM_SLO,
    signingCertificates: keys.map((k) => certificateBase64(k.certPem)),
    nameIdFormats: [NAMEID_EMAIL],
  });
}

/** What the IdP's metadata server answers a read with: the document, or an HTTP status and no body. */
export type MetadataAnswer = string | number;

/** The upstream IdP's metadata endpoint: `url` to name in the tenant, `port` for a proxy in front. */
export interface UpstreamMetadataServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * A plain HTTP server on loopback playing the upstream IdP's metadata endpoint; `answer` is asked at
 * each read, so that a test changes the document, counts the reads, holds or fails them.
 */
export async function serveUpstreamMetadata(
  answer: () => MetadataAnswer | Promise<MetadataAnswer>,
): Promise<UpstreamMetadataServer> {
  const server = createServer((_req, res) => {
    void Promise.resolve(answer()).then((given) => {
      if (typeof given === 'number') return void res.writeHead(given).end();
      res.writeHead(200, { 'content-type': 'application/samlmetadata+xml' }).end(given);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/metadata`, port, close: () => closeServer(server) };
}

/**
 * The upstream IdP's metadata served behind a TCP fault proxy (testkit/fault-proxy.ts), so that a test
 * resets, stalls or fails its reads: the proxy, the metadata URL through it, and a close for both.
 */
export async function upstreamMetadataBehindProxy(): Promise<{
  proxy: FaultProxy;
  url: string;
  close(): Promise<void>;
}> {
  const proxy = await startFaultProxy();
  const metadata = upstreamIdp().getMetadata();
  const server = await serveUpstreamMetadata(() => metadata);
  proxy.target = { host: '127.0.0.1', port: server.port };
  return {
    proxy,
    url: `${proxy.url}/saml-metadata`,
    close: async () => {
      await proxy.close();
      await server.close();
    },
  };
}

/**
 * The broker as samlify sees it, from the SP metadata the broker publishes; the IdP signs the
 * logout messages it sends there, and verifies the broker's LogoutResponse.
 */
export function brokerAsSp(spMetadataXml: string): UpstreamSp {
  return samlify.ServiceProvider({
    metadata: spMetadataXml,
    wantLogoutRequestSigned: true,
    wantLogoutResponseSigned: true,
  });
}

/** `brokerAsSp` of the SP metadata the broker at `brokerUrl` publishes now. */
export async function brokerSpAt(brokerUrl: string): Promise<UpstreamSp> {
  return brokerAsSp(await (await fetch(`${brokerUrl}/saml/sp-metadata`)).text());
}

/** A broker, with a PKI of its own, whose one IdP is samlify's `idp`; `close` ends the broker and removes the PKI. */
export interface UpstreamSamlBroker {
  pki: Pki;
  idp: UpstreamIdp;
  broker: BrokerUnderTest;
  /** The broker as samlify sees it. */
  sp: UpstreamSp;
  close(): Promise<void>;
}

/**
 * Serves an `UpstreamSamlBroker`: the IdP maps `claims` (upstreamSamlIdpDoc), and `extra` changes
 * the tenant's spec as tenantFor's does, given the PKI (for a key of the broker's own).
 */
export async function serveUpstreamSamlBroker(
  options: { claims?: readonly string[]; extra?: (spec: IdpDoc, pki: Pki) => void } = {},
): Promise<UpstreamSamlBroker> {
  const pki = createPki();
  const idp = upstreamIdp();
  const { server, url } = await listenPlaceholder();
  const tenant = tenantFor(url, [upstreamSamlIdpDoc(idp, options.claims)], (spec) =>
    options.extra?.(spec, pki),
  );
  const broker = await serveBroker(server, url, tenant, pki).catch((err: unknown) => {
    pki.cleanup();
    throw err;
  });
  return {
    pki,
    idp,
    broker,
    sp: await brokerSpAt(url),
    close: async () => {
      await broker.close();
      pki.cleanup();
    },
  };
}

/** The query parameters samlify's redirect parsers take, from a URL as the browser received it. */
export function redirectRequest(url: URL): { query: Record<string, string>; octetString: string } {
  return {
    query: Object.fromEntries(url.searchParams),
    octetString: url.search.slice(1).split('&Signature=')[0]!,
  };
}

/**
 * What the upstream IdP does with the broker's LogoutRequest: verifies it (samlify) and answers
 * with a signed LogoutResponse URL to the broker, with the given status and InResponseTo.
 */
export async function answerLogoutRequest(
  idp: UpstreamIdp,
  sp: UpstreamSp,
  redirectUrl: string,
  answer: { status?: string; inResponseTo?: string } = {},
): Promise<{ url: string; request: Record<string, unknown>; relayState: string }> {
  const url = new URL(redirectUrl);
  expect(`${url.origin}${url.pathname}`).to.equal(UPSTREAM_SLO);
  const info = await idp.parseLogoutRequest(sp, 'redirect', redirectRequest(url));
  const request = info.extract.request as Record<string, unknown>;
  const relayState = url.searchParams.get('RelayState') ?? '';
  const inResponseTo = answer.inResponseTo ?? (request['id'] as string);
  const response = idp.createLogoutResponse(
    sp,
    { extract: { request: { id: inResponseTo } } } as unknown as Parameters<
      UpstreamIdp['createLogoutResponse']
    >[1],
    'redirect',
    {
      relayState,
      customTagReplacement: (template: string) => {
        const id = `_lresp${Date.now()}${Math.random().toString(16).slice(2)}`;
        const values = {
          ID: id,
          Destination: brokerSloUrl(sp),
          Issuer: UPSTREAM_ENTITY_ID,
          EntityID: UPSTREAM_ENTITY_ID,
          IssueInstant: new Date().toISOString(),
          StatusCode: answer.status ?? STATUS_SUCCESS,
          InResponseTo: inResponseTo,
        };
        return { id, context: samlLib.replaceTagsByValue(template, values) };
      },
    },
  ) as { context: string };
  return { url: response.context, request: { ...request, nameId: info.extract.nameID }, relayState };
}

/** The broker's SLO endpoint as its SP metadata publishes it. */
function brokerSloUrl(sp: UpstreamSp): string {
  return sp.entityMeta.getSingleLogoutService('redirect') as string;
}

/** An IdP-initiated LogoutRequest URL (signed by samlify) to the broker's SLO endpoint. */
export function idpLogoutRequestUrl(
  idp: UpstreamIdp,
  sp: UpstreamSp,
  user: { nameId: string; sessionIndex?: string },
  relayState?: string,
): { url: string; id: string } {
  const request = idp.createLogoutRequest(
    sp,
    'redirect',
    { logoutNameID: user.nameId, ...(user.sessionIndex ? { sessionIndex: user.sessionIndex } : {}) },
    relayState === undefined ? {} : { relayState },
  ) as { context: string; id: string };
  return { url: request.context, id: request.id };
}

/**
 * A Redirect-binding message the IdP signed, changed by `mutate` and signed again with the IdP's own
 * key: what a check other than the signature must refuse.
 */
export function resignedByIdp(idp: UpstreamIdp, signedUrl: string, mutate: (xml: string) => string): string {
  const url = new URL(signedUrl);
  const param = url.searchParams.has('SAMLRequest') ? 'SAMLRequest' : 'SAMLResponse';
  const xml = mutate(inflateRedirectPayload(url.searchParams.get(param)!));
  const relayState = url.searchParams.get('RelayState');
  const query = signRedirectQuery(param, xml, {
    keyPem: (idp.entitySetting as { privateKey: string }).privateKey,
    ...(relayState === null ? {} : { relayState }),
  });
  return `${url.origin}${url.pathname}?${query}`;
}

export interface UpstreamAnswer {
  nameId?: string;
  /** The NameID's Format; emailAddress by default. */
  nameIdFormat?: string;
  /** Attribute name -> values, put in the signed Assertion. */
  attributes?: Record<string, string[]>;
  /** Raw XML put in the signed AttributeStatement after `attributes` (an EncryptedAttribute). */
  attributesXml?: string;
  status?: string;
  /** A second-level StatusCode under `status` (core 3.2.2.2). */
  secondLevelStatus?: string;
  /** When the person authenticated at the IdP (AuthnInstant); now by default. */
  authnInstant?: Date;
  /** The IdP session's SessionIndex in the AuthnStatement; `_session-9` by default. */
  sessionIndex?: string;
  /** Raw XML put in the signed Conditions after the AudienceRestriction. */
  conditionsXml?: string;
  /** Raw attributes put on the signed NameID after its Format (its qualifiers, core 2.2.2); none by default. */
  nameIdAttributes?: string;
  /** The Conditions NotBefore and NotOnOrAfter; from now to 5 min ahead by default. */
  conditionsWindow?: { notBefore: Date; notOnOrAfter: Date };
  /** A NotBefore on the bearer SubjectConfirmationData, which profiles 4.1.4.2 forbids; none by default. */
  confirmationNotBefore?: Date;
  /** The IdP's clock, when the test moves the broker's (the times in the Response); now by default. */
  now?: Date;
  /** AuthenticatingAuthority values in its AuthnContext (the IdP proxied to them); none by default. */
  authenticatingAuthorities?: string[];
  /** The AuthnStatement's SessionNotOnOrAfter (core 2.7.2: when the IdP's session ends); none by default. */
  sessionNotOnOrAfter?: Date;
}

/**
 * samlify leaves AuthnStatement empty unless the template is filled by the caller; the Web SSO
 * profile (4.1.4.2) requires one, so the template is filled here (samlify still signs it).
 */
function fillTemplate(brokerUrl: string, requestId: string, answer: UpstreamAnswer) {
  return (template: string) => {
    const now = answer.now ?? new Date();
    const later = new Date(now.getTime() + 300_000).toISOString();
    const id = `_resp${Date.now()}${Math.random().toString(16).slice(2)}`;
    const values: Record<string, string> = {
      ID: id,
      AssertionID: `_assert${Date.now()}${Math.random().toString(16).slice(2)}`,
      Destination: `${brokerUrl}/saml/acs`,
      Audience: `${brokerUrl}/saml/sp-metadata`,
      SubjectRecipient: `${brokerUrl}/saml/acs`,
      Issuer: UPSTREAM_ENTITY_ID,
      IssueInstant: now.toISOString(),
      StatusCode: answer.status ?? STATUS_SUCCESS,
      ConditionsNotBefore: (answer.conditionsWindow?.notBefore ?? now).toISOString(),
      ConditionsNotOnOrAfter: answer.conditionsWindow?.notOnOrAfter.toISOString() ?? later,
      SubjectConfirmationDataNotOnOrAfter: later,
      NameIDFormat: answer.nameIdFormat ?? 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
      NameID: answer.nameId ?? 'carol@example.test',
      InResponseTo: requestId,
    };
    // Values are XML-escaped by replaceTagsByValue, so elements go into the template itself.
    const sessionEnd = answer.sessionNotOnOrAfter
      ? ` SessionNotOnOrAfter="${answer.sessionNotOnOrAfter.toISOString()}"`
      : '';
    const authnStatement = `<saml:AuthnStatement AuthnInstant="${(answer.authnInstant ?? now).toISOString()}" SessionIndex="${answer.sessionIndex ?? '_session-9'}"${sessionEnd}><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef>${(answer.authenticatingAuthorities ?? []).map((a) => `<saml:AuthenticatingAuthority>${canonicalText(a)}</saml:AuthenticatingAuthority>`).join('')}</saml:AuthnContext></saml:AuthnStatement>`;
    const attributes =
      Object.entries(answer.attributes ?? {})
        .map(
          ([name, list]) =>
            `<saml:Attribute Name="${canonicalAttribute(name)}">${list.map((v) => `<saml:AttributeValue>${canonicalText(v)}</saml:AttributeValue>`).join('')}</saml:Attribute>`,
        )
        .join('') + (answer.attributesXml ?? '');
    values['AttributeStatement'] = '';
    const filled = template
      .replace(
        '<samlp:StatusCode Value="{StatusCode}"/>',
        answer.secondLevelStatus
          ? `<samlp:StatusCode Value="{StatusCode}"><samlp:StatusCode Value="${answer.secondLevelStatus}"/></samlp:StatusCode>`
          : '<samlp:StatusCode Value="{StatusCode}"/>',
      )
      .replace('</saml:AudienceRestriction>', `</saml:AudienceRestriction>${answer.conditionsXml ?? ''}`)
      .replace(
        '<saml:NameID Format="{NameIDFormat}">',
        `<saml:NameID Format="{NameIDFormat}"${answer.nameIdAttributes ? ` ${answer.nameIdAttributes}` : ''}>`,
      )
      .replace(
        '<saml:SubjectConfirmationData ',
        answer.confirmationNotBefore
          ? `<saml:SubjectConfirmationData NotBefore="${answer.confirmationNotBefore.toISOString()}" `
          : '<saml:SubjectConfirmationData ',
      )
      .replace('{AuthnStatement}', authnStatement)
      .replace(
        '{AttributeStatement}',
        attributes ? `<saml:AttributeStatement>${attributes}</saml:AttributeStatement>` : '',
      );
    return { id, context: samlLib.replaceTagsByValue(filled, values) };
  };
}

/**
 * What the upstream IdP does with the broker's redirect: verifies the signed AuthnRequest (samlify)
 * and answers it; returns the base64 SAMLResponse, the RelayState and the request's ID.
 */
export async function answerAuthnRequest(
  idp: UpstreamIdp,
  sp: UpstreamSp,
  redirectUrl: string,
  brokerUrl: string,
  answer: UpstreamAnswer = {},
): Promise<{ samlResponse: string; relayState: string; requestId: string; requestXml: string }> {
  const url = new URL(redirectUrl);
  expect(`${url.origin}${url.pathname}`).to.equal(UPSTREAM_SSO);
  const requestInfo = await idp.parseLoginRequest(sp, 'redirect', redirectRequest(url));
  const requestId = requestInfo.extract.request?.id as string;
  const response = (await idp.createLoginResponse(
    sp,
    requestInfo as unknown as Parameters<UpstreamIdp['createLoginResponse']>[1],
    'post',
    { email: answer.nameId ?? 'carol@example.test' },
    { customTagReplacement: fillTemplate(brokerUrl, requestId, answer) },
  )) as { context: string };
  return {
    samlResponse: response.context,
    relayState: url.searchParams.get('RelayState') ?? '',
    requestId,
    requestXml: requestInfo.samlContent,
  };
}

/** The browser posts an upstream IdP's Response (base64) and its RelayState to the broker's ACS (HTTP-POST). */
export function postToBrokerAcs(
  browser: Browser,
  brokerUrl: string,
  samlResponse: string,
  relayState: string,
): Promise<Response> {
  return browser.request(`${brokerUrl}/saml/acs`, {
    form: { SAMLResponse: samlResponse, RelayState: relayState },
  });
}

/** Who carries a brokered sign-in through the upstream IdP: the browser, the broker and samlify as its IdP. */
export interface UpstreamSignIn {
  browser: Browser;
  brokerUrl: string;
  idp: UpstreamIdp;
}

/**
 * A brokered sign-in's last legs: the IdP answers the broker's redirect (`redirectUrl`) with
 * `answer`, and the browser posts that to the broker's ACS; the broker's page (its form to the
 * portal, or its refusal).
 */
export async function answeredAtBrokerAcs(
  { browser, brokerUrl, idp }: UpstreamSignIn,
  redirectUrl: string,
  answer: UpstreamAnswer = {},
): Promise<Response> {
  const sp = await brokerSpAt(brokerUrl);
  const upstream = await answerAuthnRequest(idp, sp, redirectUrl, brokerUrl, answer);
  return postToBrokerAcs(browser, brokerUrl, upstream.samlResponse, upstream.relayState);
}

/** A whole brokered sign-in, from `portal` through the broker to the IdP answering `answer` and back; the broker's page. */
export async function signInAtUpstreamIdp(
  signIn: UpstreamSignIn & { portal: SAML; relayState?: string },
  answer: UpstreamAnswer = {},
): Promise<Response> {
  return answeredAtBrokerAcs(
    signIn,
    await toUpstreamIdp(signIn.browser, signIn.portal, signIn.relayState),
    answer,
  );
}

/**
 * Carol signs in through the upstream IdP (her e-mail its NameID and its `email` attribute, `answer`
 * changing the rest) and the portal accepts the broker's Response; the portal's profile of the session.
 */
export async function signedInAtPortal(
  signIn: UpstreamSignIn & { portal: SAML },
  answer: UpstreamAnswer = {},
): Promise<Profile> {
  const page = await signInAtUpstreamIdp(signIn, {
    nameId: 'carol@example.test',
    attributes: { email: ['carol@example.test'] },
    ...answer,
  });
  const { profile } = await signIn.portal.validatePostResponseAsync(formFields(await page.text()));
  return profile!;
}
