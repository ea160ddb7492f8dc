import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SAML, ValidateInResponseTo } from '@node-saml/node-saml';
import { expect } from 'chai';
import type { ClientMetadata } from 'oidc-provider';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';
import { parse } from 'yaml';
import { type BrokerApp, type BrokerAppOptions, createBrokerApp } from '../broker/app.js';
import { checkTenant } from '../common/config/load.js';
import { SecretDirectory } from '../common/config/secrets.js';
import type { FlowStore } from '../common/flowstore/index.js';
import { MemoryFlowStore } from '../common/flowstore/index.js';
import { continueWhenBodyRead } from '../common/http/continue-when-read.js';
import { createMetricsRegistry } from '../common/metrics.js';
import { packageRoot } from '../common/paths.js';
import { type RunningPool, type StartPoolOptions, startPool } from '../common/pool/start.js';
import type { PartContext } from '../common/runtime.js';
import {
  authnRequest,
  NS,
  parseSamlXml,
  signEnveloped,
  signedRedirectUrl,
  signRedirectQuery,
  verifyEnvelopedSignature,
  verifyRedirectSignature,
} from '../common/saml/index.js';
import { type DevIdp, startDevIdp } from '../dev/idp/provider.js';
import type { DevUser } from '../dev/idp/users.js';
import { capturedLogger } from './captured-logs.js';
import { type KeyPair, makeKeyPair } from './keys.js';
import { checkMetricsOf } from './metrics-scan.js';
import { harnessPool, TEST_PLACEMENT } from './pool.js';

/** Real parts for broker tests: keys from openssl, the dev IdP (oidc-provider), node-saml as the portal. */

export const PORTAL_URL = 'http://127.0.0.1:1';
export const CLIENT_SECRET = 'broker-test-secret';

export interface Pki {
  dir: string;
  secrets: SecretDirectory;
  brokerKey: string;
  brokerCert: string;
  portalKey: string;
  portalCert: string;
  cleanup(): void;
}

function keyPair(dir: string, name: string): { key: string; cert: string } {
  const folder = join(dir, name);
  mkdirSync(folder, { recursive: true });
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-sha256',
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      join(folder, 'tls.key'),
      '-out',
      join(folder, 'tls.crt'),
    ],
    { stdio: 'ignore' },
  );
  return {
    key: readFileSync(join(folder, 'tls.key'), 'utf8'),
    cert: readFileSync(join(folder, 'tls.crt'), 'utf8'),
  };
}

export function createPki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'jsm-sso-broker-'));
  const broker = keyPair(dir, 'broker-signing');
  const portal = keyPair(dir, 'portal-saml');
  mkdirSync(join(dir, 'idp-client'));
  writeFileSync(join(dir, 'idp-client', 'clientSecret'), CLIENT_SECRET);
  return {
    dir,
    secrets: new SecretDirectory(dir),
    brokerKey: broker.key,
    brokerCert: broker.cert,
    portalKey: portal.key,
    portalCert: portal.cert,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Replaces the broker's or the portal's signing pair of `pki` (files and fields), e.g. with a P-256
 * pair from testkit/keys.ts for ecdsa-sha256.
 */
export function useSigningKey(pki: Pki, part: 'broker' | 'portal', pair: KeyPair): void {
  const folder = join(pki.dir, part === 'broker' ? 'broker-signing' : 'portal-saml');
  writeFileSync(join(folder, 'tls.key'), pair.keyPem);
  writeFileSync(join(folder, 'tls.crt'), pair.certPem);
  if (part === 'broker') Object.assign(pki, { brokerKey: pair.keyPem, brokerCert: pair.certPem });
  else Object.assign(pki, { portalKey: pair.keyPem, portalCert: pair.certPem });
}

/**
 * Gives `pki` the broker's own decryption pair (spec.broker.encryptionSecretRef, ADR 0338) as the
 * Secret `broker-encryption`: a tenant naming it publishes the certificate in its SP metadata.
 */
export function useEncryptionKey(pki: Pki): { secretName: string; pair: KeyPair } {
  const secretName = 'broker-encryption';
  const pair = makeKeyPair('broker-decryption');
  mkdirSync(join(pki.dir, secretName), { recursive: true });
  writeFileSync(join(pki.dir, secretName, 'tls.key'), pair.keyPem);
  writeFileSync(join(pki.dir, secretName, 'tls.crt'), pair.certPem);
  return { secretName, pair };
}

export async function listenPlaceholder(): Promise<{ server: Server; url: string }> {
  // Test steps can pause for seconds (samlify's schema validator loads lazily); a browser's pooled
  // connection must not be closed under it meanwhile.
  const server = createServer({ keepAliveTimeout: 60_000 });
  // As common/http/server.ts:startServer answers Expect: 100-continue (ADR 0404).
  continueWhenBodyRead(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

// biome-ignore lint/suspicious/noExplicitAny: tests build tenant documents freely.
export type IdpDoc = Record<string, any>;

export function tenantFor(
  brokerUrl: string,
  identityProviders: IdpDoc[],
  extra: (spec: IdpDoc) => void = () => {},
) {
  const doc = parse(
    readFileSync(join(packageRoot(), 'test', 'fixtures', 'tenant-valid.yaml'), 'utf8'),
  ) as IdpDoc;
  doc.spec.portal.url = PORTAL_URL;
  doc.spec.portal.samlSigningSecretRef = { name: 'portal-saml' };
  doc.spec.broker.url = brokerUrl;
  doc.spec.broker.signingSecretRef = { name: 'broker-signing' };
  doc.spec.identityProviders = identityProviders;
  extra(doc.spec);
  return checkTenant(doc);
}

export function oidcIdp(name: string, issuer: string, more: IdpDoc = {}): IdpDoc {
  return {
    name,
    displayName: `${name} login`,
    oidc: {
      issuer,
      clientId: 'jsm-sso',
      clientSecretRef: { name: 'idp-client' },
      scopes: ['openid', 'email', 'profile', 'groups'],
    },
    attributeMapping: { email: 'claims.email', displayName: 'claims.name', groups: 'claims.groups' },
    ...more,
  };
}

/**
 * A plain OAuth 2.0 IdP of the tenant served by the dev IdP at `idpUrl` (oidc-provider serves its
 * userinfo only to tokens with the openid scope; the broker still treats the IdP as plain OAuth 2.0:
 * no nonce, claims only from the userinfo endpoint), as its client `clientId` (a devClient's
 * `client_id`). No `issuer`: the authorization endpoint's origin, `idpUrl`, stands in for it.
 */
export function devOAuth2Idp(idpUrl: string, clientId: string, more: IdpDoc = {}): IdpDoc {
  return {
    name: 'plain',
    oauth2: {
      authorizationEndpoint: `${idpUrl}/auth`,
      tokenEndpoint: `${idpUrl}/token`,
      userinfoEndpoint: `${idpUrl}/me`,
      clientId,
      clientSecretRef: { name: 'idp-client' },
      scopes: ['openid', 'email', 'profile', 'groups'],
    },
    attributeMapping: { email: 'claims.email', displayName: 'claims.name', groups: 'claims.groups' },
    emailTrust: 'verifiedClaim',
    ...more,
  };
}

export function devClient(brokerUrl: string, more: Partial<ClientMetadata> = {}): ClientMetadata {
  return {
    client_id: 'jsm-sso',
    client_secret: CLIENT_SECRET,
    redirect_uris: [`${brokerUrl}/oidc/callback`],
    post_logout_redirect_uris: [`${brokerUrl}/oidc/logout-callback`],
    token_endpoint_auth_method: 'client_secret_basic',
    ...more,
  };
}

/** A broker pool serving `options.source`'s tenants, as `jsm-sso broker --pool` does. */
export function startBrokerPool(options: Omit<StartPoolOptions, 'part' | 'build'>): Promise<RunningPool> {
  return startPool({ part: 'broker', build: (context) => createBrokerApp(context), ...options });
}

export interface BrokerUnderTest {
  app: BrokerApp;
  url: string;
  server: Server;
  context: PartContext;
  logs: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

/** Serves a broker app on an already-listening server. */
export async function serveBroker(
  server: Server,
  url: string,
  tenant: ReturnType<typeof tenantFor>,
  pki: Pki,
  store: FlowStore = new MemoryFlowStore(),
  options: BrokerAppOptions = {},
): Promise<BrokerUnderTest> {
  const { logger, logs } = capturedLogger({ component: 'broker', tenant: 'acme' });
  const registry = createMetricsRegistry();
  if (TEST_PLACEMENT === 'pool') {
    // The same broker, one of three tenants of a pool process (testkit/pool.ts).
    const pooled = await harnessPool({
      server,
      part: 'broker',
      tenant,
      secrets: pki.secrets,
      build: (context) => createBrokerApp(context, options),
      store,
      registry,
      logger,
    });
    return {
      app: pooled.part,
      url,
      server,
      context: pooled.context,
      logs,
      close: async () => {
        await checkMetricsOf(registry, 'broker');
        await pooled.close();
        await closeServer(server);
      },
    };
  }
  const context: PartContext = { tenant, tenantId: 'acme', secrets: pki.secrets, logger, registry, store };
  const app = await createBrokerApp(context, options);
  server.removeAllListeners('request');
  server.on('request', app.handler);
  return {
    app,
    url,
    server,
    context,
    logs,
    close: async () => {
      await checkMetricsOf(registry, 'broker');
      await app.close();
      await closeServer(server);
    },
  };
}

/** Serves, at a new loopback address, a broker whose tenant has `identityProviders` (tenantFor). */
export async function serveBrokerFor(
  identityProviders: IdpDoc[],
  pki: Pki,
  store?: FlowStore,
  options?: BrokerAppOptions,
): Promise<BrokerUnderTest> {
  const { server, url } = await listenPlaceholder();
  return serveBroker(server, url, tenantFor(url, identityProviders), pki, store, options).catch(
    async (err: unknown) => {
      // No caller holds the server yet: left open, it would outlive the test.
      await closeServer(server);
      throw err;
    },
  );
}

/**
 * Another broker of the tenant `broker` serves (its store, unless `store` is given) at a new loopback
 * address, its tenant changed by `change`: a replica that reaches another portal, or a copy of the
 * tenant under another name with a store of its own.
 */
export async function brokerReplica(
  broker: BrokerUnderTest,
  change: (tenant: PartContext['tenant']) => PartContext['tenant'],
  store: FlowStore = broker.context.store,
  options: BrokerAppOptions = {},
): Promise<{ url: string; close(): Promise<void> }> {
  const { server, url } = await listenPlaceholder();
  try {
    const app = await createBrokerApp(
      { ...broker.context, tenant: change(broker.context.tenant), store },
      options,
    );
    server.on('request', app.handler);
    return {
      url,
      close: async () => {
        await app.close();
        await closeServer(server);
      },
    };
  } catch (err) {
    // No caller holds the server yet: left open, it would outlive the test.
    await closeServer(server);
    throw err;
  }
}

/**
 * One dev IdP holding `users`, served to two brokers: one as an OIDC IdP (`corporate`), one as a
 * plain OAuth 2.0 server (`plain`); `more` goes into both IdP entries.
 */
export async function startOidcAndOAuth2Brokers(
  users: readonly DevUser[],
  pki: Pki,
  more: IdpDoc = {},
): Promise<{ idp: DevIdp; brokers: Record<'oidc' | 'oauth2', BrokerUnderTest> }> {
  const oidc = await listenPlaceholder();
  const oauth2 = await listenPlaceholder();
  const idp = await startDevIdp({
    users,
    clients: [
      devClient(oidc.url),
      devClient(oauth2.url, { client_id: 'jsm-sso-plain', redirect_uris: [`${oauth2.url}/oidc/callback`] }),
    ],
  });
  const plain = devOAuth2Idp(idp.issuer, 'jsm-sso-plain', more);
  return {
    idp,
    brokers: {
      oidc: await serveBroker(
        oidc.server,
        oidc.url,
        tenantFor(oidc.url, [oidcIdp('corporate', idp.issuer, more)]),
        pki,
      ),
      oauth2: await serveBroker(oauth2.server, oauth2.url, tenantFor(oauth2.url, [plain]), pki),
    },
  };
}

export interface Stack {
  pki: Pki;
  idp: DevIdp;
  broker: BrokerUnderTest;
  portal: SAML;
  close(): Promise<void>;
}

/** Broker + dev IdP (one OIDC IdP) + node-saml portal, all on loopback. */
/** A broker with one OIDC IdP (the dev IdP); `extra` changes the tenant's spec before it is checked. */
export async function startStack(store?: FlowStore, extra?: (spec: IdpDoc) => void): Promise<Stack> {
  const pki = createPki();
  const { server, url } = await listenPlaceholder();
  const idp = await startDevIdp({ clients: [devClient(url)] });
  const broker = await serveBroker(
    server,
    url,
    tenantFor(url, [oidcIdp('corporate', idp.issuer)], extra),
    pki,
    store,
  );
  return {
    pki,
    idp,
    broker,
    portal: portalSp(url, pki),
    close: async () => {
      await broker.close();
      await idp.close();
      pki.cleanup();
    },
  };
}

/**
 * node-saml as the portal's stand-in. `defaults` leaves node-saml's request defaults on, as an SP
 * configured with nothing more sends them: NameIDPolicy emailAddress and a RequestedAuthnContext of
 * PasswordProtectedTransport, exact. `nameIdFormat`: the NameIDPolicy Format it asks for.
 */
export function portalSp(
  brokerUrl: string,
  pki: Pki,
  { defaults = false, nameIdFormat }: { defaults?: boolean; nameIdFormat?: string } = {},
): SAML {
  return new SAML({
    entryPoint: `${brokerUrl}/saml/sso`,
    issuer: `${PORTAL_URL}/saml/metadata`,
    audience: `${PORTAL_URL}/saml/metadata`,
    callbackUrl: `${PORTAL_URL}/saml/acs`,
    idpCert: pki.brokerCert,
    idpIssuer: `${brokerUrl}/saml/metadata`,
    privateKey: pki.portalKey,
    signatureAlgorithm: 'sha256',
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: true,
    validateInResponseTo: ValidateInResponseTo.always,
    ...(defaults ? {} : { identifierFormat: null, disableRequestedAuthnContext: true }),
    ...(nameIdFormat === undefined ? {} : { identifierFormat: nameIdFormat }),
    logoutUrl: `${brokerUrl}/saml/slo`,
  });
}

/**
 * Another replica behind the same public URL, as a load balancer reaches it: the connection goes to
 * `via` while the URL and Host stay the public ones (a pool process routes by Host).
 */
const replicas = new Map<string, Agent>();
function replicaAt(via: string): Agent {
  let agent = replicas.get(via);
  if (!agent) {
    const { hostname, port } = new URL(via);
    const connect = buildConnector({});
    agent = new Agent({ connect: (options, callback) => connect({ ...options, hostname, port }, callback) });
    replicas.set(via, agent);
  }
  return agent;
}

/**
 * The portal's signed AuthnRequest over HTTP-Redirect, written by common/saml as the portal writes
 * it, with what node-saml cannot send (the portal's language hint, ADR 0097).
 */
export function portalAuthnRequestUrl(
  brokerUrl: string,
  pki: Pki,
  /** `now`: the portal's clock, when a test moves the broker's (default: now). */
  options: { uiLocales?: string[]; isPassive?: boolean; now?: Date } = {},
): string {
  const destination = `${brokerUrl}/saml/sso`;
  const message = authnRequest({
    issuer: `${PORTAL_URL}/saml/metadata`,
    destination,
    acsUrl: `${PORTAL_URL}/saml/acs`,
    now: new Date(),
    ...options,
  });
  return signedRedirectUrl('SAMLRequest', destination, message, { keyPem: pki.portalKey });
}

/** What a hand-written portal AuthnRequest carries beyond the portal's usual one. */
export interface AuthnRequestShape {
  id?: string;
  /** The attributes naming the ACS, written as they are (default: the portal's registered URL). */
  acs?: string;
  binding?: string;
  /** Text before the root element (a DOCTYPE, a comment). */
  prefix?: string;
  /** NameIDPolicy's Format, when the request carries one. */
  nameIdFormat?: string;
  /** Elements placed after the Issuer (a Subject, a RequestedAuthnContext, a Scoping). */
  body?: string;
}

/**
 * The portal's AuthnRequest written by hand, unsigned: for what neither node-saml nor common/saml
 * writes (an attack, or an element the broker is to carry on), so that the request a test sends
 * never depends on the code under test.
 */
export function handWrittenAuthnRequest(brokerUrl: string, shape: AuthnRequestShape = {}): string {
  const id = shape.id ?? `_${randomBytes(16).toString('hex')}`;
  const acs = shape.acs === undefined ? ` AssertionConsumerServiceURL="${PORTAL_URL}/saml/acs"` : shape.acs;
  return (
    `${shape.prefix ?? ''}<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${id}" Version="2.0" ` +
    `IssueInstant="${new Date().toISOString()}" Destination="${brokerUrl}/saml/sso"${acs} ` +
    `ProtocolBinding="${shape.binding ?? 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST'}">` +
    `<saml:Issuer>${PORTAL_URL}/saml/metadata</saml:Issuer>` +
    (shape.body ?? '') +
    (shape.nameIdFormat === undefined ? '' : `<samlp:NameIDPolicy Format="${shape.nameIdFormat}"/>`) +
    '</samlp:AuthnRequest>'
  );
}

/**
 * `xml` signed with the portal's key and sent by `browser` to the broker's SSO endpoint: over
 * HTTP-Redirect (the query signed) or HTTP-POST (an enveloped signature), as the portal would.
 */
export function sendSignedAuthnRequest(
  browser: Browser,
  brokerUrl: string,
  pki: Pki,
  xml: string,
  binding: 'redirect' | 'post',
  relayState = 'rs',
): Promise<Response> {
  if (binding === 'redirect') {
    const query = signRedirectQuery('SAMLRequest', xml, { keyPem: pki.portalKey, relayState });
    return browser.request(`${brokerUrl}/saml/sso?${query}`);
  }
  const id = /ID="([^"]+)"/.exec(xml)![1]!;
  const signed = signEnveloped(xml, { id, keyPem: pki.portalKey, certPem: pki.portalCert });
  return browser.request(`${brokerUrl}/saml/sso`, {
    form: { SAMLRequest: Buffer.from(signed).toString('base64'), RelayState: relayState },
  });
}

/** A browser stand-in: fetch without following redirects, with a cookie jar per host. */
export class Browser {
  readonly cookies = new Map<string, Map<string, string>>();
  /** Sent with every request, as a browser sends its Accept-Language. */
  readonly #headers: Record<string, string>;

  constructor(headers: Record<string, string> = {}) {
    this.#headers = headers;
  }

  async request(
    url: string,
    init: { method?: string; form?: Record<string, string>; via?: string } = {},
  ): Promise<Response> {
    const target = new URL(url);
    const jar = this.cookies.get(target.hostname) ?? new Map<string, string>();
    this.cookies.set(target.hostname, jar);
    const headers: Record<string, string> = { ...this.#headers };
    if (jar.size > 0) headers['cookie'] = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const response = (await undiciFetch(target, {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      headers,
      body,
      redirect: 'manual',
      ...(init.via ? { dispatcher: replicaAt(init.via) } : {}),
    })) as unknown as Response;
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/max-age=0/i.test(cookie) || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    return response;
  }

  /** Follows redirects until one leaves for `stopAt` (returned, not fetched) or a page is shown. */
  async follow(
    url: string,
    stopAt: string,
    init: { method?: string; form?: Record<string, string> } = {},
  ): Promise<{ response?: Response; location?: string }> {
    let next = url;
    let request = init;
    for (let hops = 0; hops < 20; hops++) {
      if (hops > 0 && next.startsWith(stopAt)) return { location: next };
      const response = await this.request(next, request);
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) return { response };
      next = new URL(location, next).href;
      request = {};
    }
    throw new Error('too many redirects');
  }
}

export function formFields(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
    fields[match[1]!] = decodeHtml(match[2]!);
  }
  return fields;
}

function decodeHtml(value: string): string {
  return value.replace(/&#(\d+);/g, (_m, code) => String.fromCharCode(Number(code))).replace(/&amp;/g, '&');
}

/**
 * Drives a whole login: the portal's AuthnRequest to the broker, the dev IdP's login form, the
 * callback, up to the auto-post page; returns the SAMLResponse and RelayState it carries.
 */
/**
 * A brokered sign-in's first leg: the browser takes `portal`'s AuthnRequest (node-saml) to the
 * broker, which sends it on to the tenant's one IdP; where the broker sends the browser.
 */
export async function toUpstreamIdp(browser: Browser, portal: SAML, relayState = 'rs'): Promise<string> {
  const sso = await browser.request(await portal.getAuthorizeUrlAsync(relayState, undefined, {}));
  if (sso.status !== 302) throw new Error(`broker answered ${sso.status}: ${await sso.text()}`);
  return sso.headers.get('location')!;
}

export async function loginThroughBroker(
  stack: { portal: SAML; brokerUrl: string; callbackVia?: string },
  browser: Browser,
  options: { email?: string; relayState?: string; startVia?: string } = {},
): Promise<{ page: Response; fields: Record<string, string>; html: string; callbackUrl: string }> {
  const authorizeUrl = await stack.portal.getAuthorizeUrlAsync(options.relayState ?? 'rs-1', undefined, {});
  const sso = await browser.request(authorizeUrl, options.startVia ? { via: options.startVia } : {});
  if (sso.status !== 302) throw new Error(`broker answered ${sso.status}: ${await sso.text()}`);
  return loginAtDevIdp(browser, new URL(sso.headers.get('location')!, authorizeUrl).href, {
    brokerUrl: stack.brokerUrl,
    ...(stack.callbackVia ? { callbackVia: stack.callbackVia } : {}),
    ...(options.email ? { email: options.email } : {}),
  });
}

/**
 * The rest of a login once the broker has sent the browser to the dev IdP (`idpUrl`): its login
 * form, the callback, up to the broker's auto-post page to the portal.
 */
export async function loginAtDevIdp(
  browser: Browser,
  idpUrl: string,
  options: {
    brokerUrl: string;
    email?: string;
    callbackVia?: string;
    /** Sends the callback, with the cookies of `brokerUrl`, to another broker's URL instead (an attack). */
    callbackAt?: string;
  },
): Promise<{ page: Response; fields: Record<string, string>; html: string; callbackUrl: string }> {
  const callback = `${options.brokerUrl}/oidc/callback`;
  const loginPage = (await browser.follow(idpUrl, callback)).response!;
  const loginUrl = loginPage.url;
  const action = /action="([^"]+)"/.exec(await loginPage.text())![1]!;
  const afterLogin = await browser.follow(new URL(action, loginUrl).href, callback, {
    form: { email: options.email ?? 'alice@acme.test', password: 'demo' },
  });
  if (!afterLogin.location)
    throw new Error(
      `IdP did not redirect back: ${afterLogin.response?.status} ${await afterLogin.response?.text()}`,
    );
  let callbackUrl = afterLogin.location;
  if (options.callbackAt) {
    const jar = browser.cookies.get(new URL(options.brokerUrl).hostname);
    browser.cookies.set(new URL(options.callbackAt).hostname, new Map(jar));
    callbackUrl = callbackUrl.replace(options.brokerUrl, options.callbackAt);
  }
  const page = await browser.request(callbackUrl, options.callbackVia ? { via: options.callbackVia } : {});
  const html = await page.text();
  return { page, fields: formFields(html), html, callbackUrl: afterLogin.location };
}

/**
 * The status codes (top level first) of a Response the broker sent, read from the element as
 * signed after common/saml verified its signature with the broker's certificate.
 */
export function signedStatusCodes(samlResponseBase64: string, brokerCertPem: string): Array<string | null> {
  const doc = parseSamlXml(Buffer.from(samlResponseBase64, 'base64').toString('utf8'));
  const signed = verifyEnvelopedSignature(doc, doc.documentElement!, [brokerCertPem]);
  return [...signed.getElementsByTagNameNS(NS.protocol, 'StatusCode')].map((e) => e.getAttribute('Value'));
}

/** The status codes of the broker's LogoutResponse at `location` (Redirect binding), its signature verified. */
export function redirectedStatusCodes(location: string, brokerCertPem: string): Array<string | null> {
  const message = verifyRedirectSignature(new URL(location).search.slice(1), 'SAMLResponse', [brokerCertPem]);
  const root = parseSamlXml(message.xml).documentElement!;
  return [...root.getElementsByTagNameNS(NS.protocol, 'StatusCode')].map((e) => e.getAttribute('Value'));
}

/** The portal (node-saml) signs out of a session the broker does not know; the broker's answer. */
export async function logoutOfUnknownSession(stack: Stack, relayState: string): Promise<Response> {
  const logoutUrl = await stack.portal.getLogoutUrlAsync(
    {
      issuer: 'x',
      nameID: 'nobody@acme.test',
      nameIDFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
      sessionIndex: '_unknown',
    },
    relayState,
    {},
  );
  return new Browser().request(logoutUrl);
}

/** The reason code a broker message page shows as its reference. */
export function pageReason(html: string): string | undefined {
  return /<code>([A-Z0-9_]+)<\/code>/.exec(html)?.[1];
}

/**
 * `answer` (a response, or one whose page was read) is the broker's 400 refusal for `reason`, told
 * as every refusal is: the page's reference, the broker.refusal and broker.login log lines, the
 * refusals metric.
 */
export async function expectBrokerRefusal(
  broker: BrokerUnderTest,
  answer: Response | { status: number; html: string },
  reason: string,
): Promise<void> {
  const { status, html } = 'html' in answer ? answer : { status: answer.status, html: await answer.text() };
  expect(status, pageReason(html) ?? html.slice(0, 300)).to.equal(400);
  expect(pageReason(html)).to.equal(reason);
  expect(broker.logs.findLast((l) => l['event'] === 'broker.refusal')?.['reason']).to.equal(reason);
  expect(broker.logs.findLast((l) => l['event'] === 'broker.login')).to.include({
    result: 'refused',
    reason,
  });
  const metric = await broker.context.registry.getSingleMetricAsString('jsm_sso_broker_refusals_total');
  expect(metric).to.include(`reason="${reason}"`);
}
