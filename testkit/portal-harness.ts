// A real portal on loopback, against the real JSM emulator and a real Redis, with a test key standing
// in for the broker's signing key so tests can send the portal any SAML Response they like.

import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import type { Browser as Chromium, Page } from 'playwright-core';
import type { Registry } from 'prom-client';
import { stringify } from 'yaml';
import { parseTenant, tenantId } from '../common/config/load.js';
import { SecretDirectory } from '../common/config/secrets.js';
import type { FlowStore } from '../common/flowstore/index.js';
import { continueWhenBodyRead } from '../common/http/continue-when-read.js';
import { createLogger } from '../common/log.js';
import { createMetricsRegistry } from '../common/metrics.js';
import { IDP_ATTRIBUTE } from '../common/portal-attributes.js';
import { canonicalText } from '../common/saml/canonical-xml.js';
import { inflateRedirectPayload } from '../common/saml/deflate.js';
import { logoutResponse, signEnveloped, signedRedirectUrl } from '../common/saml/index.js';
import {
  type RunningJsmEmulator,
  type StartJsmEmulatorOptions,
  startJsmEmulator,
} from '../dev/jsm-emulator/emulator.js';
import { accountIdFor } from '../dev/jsm-emulator/state.js';
import { SERVICE_ACCOUNT } from '../dev/tenant.js';
import { createPortalApp, type PortalApp, type PortalOptions } from '../portal/app.js';
import type { Exchange } from '../portal/atlassian/http.js';
import type { WriteSettings } from '../portal/requests.js';
import { sessionTimeoutsOf } from '../portal/session.js';
import { validateAgainstSpec } from './atlassian-spec.js';
import { capturingDestination } from './captured-logs.js';
import { type KeyPair, makeKeyPair } from './keys.js';
import { checkMetricsOf } from './metrics-scan.js';
import { harnessPool, TEST_PLACEMENT } from './pool.js';
import { connectedFlowStore, redisUrl } from './redis.js';
import { defaultParts, responseXml } from './saml-fixtures.js';

export const BROKER_URL = 'https://broker.acme.test';
export const BROKER_ENTITY_ID = `${BROKER_URL}/saml/metadata`;

/** What a portal-only tenant needs besides the portal: the broker (played by the test) and one IdP. */
export const PORTAL_ONLY_SPEC = {
  broker: { url: BROKER_URL },
  identityProviders: [
    {
      name: 'corp',
      oidc: { issuer: 'https://idp.acme.test', clientId: 'x', clientSecretRef: { name: 'oidc' } },
    },
  ],
};

export interface Harness {
  url: string;
  /** The portal's HTTP server: a test that must see a request arrive, or its connection close. */
  server: Server;
  emulator: RunningJsmEmulator;
  app: PortalApp;
  brokerKey: KeyPair;
  exchanges: Exchange[];
  /** Log lines the portal wrote (JSON objects). */
  logs: Record<string, unknown>[];
  /** The portal's metrics. */
  registry: Registry;
  /** The prefix of every key the portal keeps in Redis for this tenant. */
  keyPrefix: string;
  /**
   * How long a form can be posted (ms): its session's absolute timeout, as its CSRF token is the
   * session's. What a step without a comment, or a create without a description, is kept for (ADR 0288, 0299).
   */
  formLifeMs: number;
  /** Every value the portal keeps in Redis for this tenant. */
  storedValues(): Promise<string[]>;
  /** Every key the portal keeps in Redis for this tenant (without the tenant prefix), with its TTL in seconds. */
  storedKeys(): Promise<{ key: string; ttl: number }[]>;
  /** The emulator's request with this summary. */
  keyOf(summary: string): string;
  /** A second portal process of the same tenant, sharing the Redis flow store (own metrics). */
  startReplica(): Promise<{ url: string; close(): Promise<void> }>;
  close(): Promise<void>;
}

/** How often the portal refused with `reason` (its jsm_sso_portal_refusals_total counter). */
export async function refusalCount(h: Harness, reason: string): Promise<number> {
  const metric = await h.registry.getSingleMetric('jsm_sso_portal_refusals_total')?.get();
  return metric?.values.find((v) => v.labels['reason'] === reason)?.value ?? 0;
}

interface RouteLayer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
}

/**
 * `METHOD path` of every route of the portal under test, read from its Express router (wherever it
 * was mounted), so suites that must attack or visit each route notice a new one.
 */
export function portalRoutes(h: Harness): string[] {
  const { stack } = (h.app.handler as unknown as { router: { stack: RouteLayer[] } }).router;
  return stack
    .flatMap(({ route }) =>
      route
        ? Object.keys(route.methods).flatMap((m) =>
            [route.path].flat().map((path) => `${m.toUpperCase()} ${path}`),
          )
        : [],
    )
    .sort();
}

/** The `reason` codes logged since `from` (an index into h.logs). */
export function reasons(h: Harness, from = 0): string[] {
  return h.logs.slice(from).flatMap((l) => (typeof l['reason'] === 'string' ? [l['reason']] : []));
}

const GENEROUS = { perIp: 100_000, perAccount: 100_000 };
const GENEROUS_LIMITS = {
  signInStarts: { perIp: 100_000 },
  acsPosts: GENEROUS,
  requestCreations: GENEROUS,
  comments: GENEROUS,
  requestChanges: GENEROUS,
  uploads: GENEROUS,
  signedInPages: { perAccount: 100_000 },
};

export interface HarnessOptions {
  /** The flow store (default: the test Redis, under a prefix of this tenant's own). */
  store?: FlowStore;
  /** The emulator's options: its port and host are the harness's. */
  emulator?: Omit<StartJsmEmulatorOptions, 'port' | 'host'>;
  spec?: Record<string, unknown>;
  portal?: Record<string, unknown>;
  atlassian?: Record<string, unknown>;
  /** How the portal retries writes (portal/write-once.ts). */
  writes?: Partial<WriteSettings>;
  /** Overrides for the portal's Atlassian transport (timeouts, retries, the bulkhead's wait bound). */
  transport?: PortalOptions['atlassian'];
  /** How long the portal keeps what it read from Atlassian (catalogue, organizations); 60 s by default. */
  catalogueTtlMs?: number;
  /** The broker's signing pair (default: a new one; a test with a real broker passes the broker's). */
  brokerKey?: KeyPair;
  /** The broker's next pair, trusted beside `brokerKey` as during a rotation of its key (ADR 0285). */
  brokerNextKey?: KeyPair;
  /** The portal's signing pair (default: a new one; a real broker must trust its certificate). */
  portalKey?: KeyPair;
  /** Proxies in front whose X-Forwarded-For is believed (a test names its clients' addresses). */
  trustedProxyHops?: number;
}

/**
 * One harness for the enclosing describe block: started before its tests and closed after them.
 * `started` hands it to the suite (and may sign customers in) before the first test runs.
 */
export function useHarness(
  started: (h: Harness) => void | Promise<void>,
  options: HarnessOptions = {},
): void {
  let harness: Harness | undefined;
  before(async () => {
    harness = await startHarness(options);
    await started(harness);
  });
  after(async () => {
    await harness?.close();
  });
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const emulator = await startJsmEmulator(options.emulator ?? {});
  const server: Server = createServer();
  // As common/http/server.ts:startServer answers Expect: 100-continue (ADR 0404).
  continueWhenBodyRead(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const name = `acme-${randomUUID().slice(0, 8)}`;
  const doc = {
    apiVersion: 'jsm-sso.io/v1alpha1',
    kind: 'JsmSsoTenant',
    metadata: { name },
    spec: {
      portal: {
        url,
        title: 'Acme Help Center',
        adminGroups: ['portal-admins'],
        // Suites sign in far more often than a person would; the abuse-limit tests set their own.
        limits: GENEROUS_LIMITS,
        ...(options.portal ?? {}),
      },
      ...PORTAL_ONLY_SPEC,
      atlassian: {
        siteUrl: emulator.url,
        credentialsSecretRef: { name: 'atlassian' },
        organizationMappings: [{ organizationId: '1', emailDomain: 'acme.test' }],
        ...(options.atlassian ?? {}),
      },
      ...(options.spec ?? {}),
    },
  };
  const tenant = parseTenant(stringify(doc));
  const dir = mkdtempSync(join(tmpdir(), 'portal-secrets-'));
  const write = (secret: string, key: string, value: string) => {
    mkdirSync(join(dir, secret), { recursive: true });
    writeFileSync(join(dir, secret, key), value);
  };
  const portalKey = options.portalKey ?? makeKeyPair('portal.acme.test');
  write(`${name}-portal-signing`, 'tls.crt', portalKey.certPem);
  write(`${name}-portal-signing`, 'tls.key', portalKey.keyPem);
  write('atlassian', 'email', SERVICE_ACCOUNT.email);
  write('atlassian', 'apiToken', SERVICE_ACCOUNT.apiToken);
  const brokerKey = options.brokerKey ?? makeKeyPair('broker.acme.test');
  const store = options.store ?? (await connectedFlowStore(`test-${name}`));
  const exchanges: Exchange[] = [];
  const logs: Record<string, unknown>[] = [];
  const destination = capturingDestination(logs);
  const redis = new Redis(redisUrl());
  const registry = createMetricsRegistry();
  const context = {
    tenant,
    tenantId: tenantId(tenant),
    secrets: new SecretDirectory(dir),
    logger: createLogger({ component: 'portal', level: 'info', destination }),
    registry,
  };
  const portalOptions = {
    brokerCertificatesPem: [
      brokerKey.certPem,
      ...(options.brokerNextKey ? [options.brokerNextKey.certPem] : []),
    ],
    atlassian: { onExchange: (e: Exchange) => exchanges.push(e), baseDelayMs: 1, ...options.transport },
    ...(options.writes ? { writes: options.writes } : {}),
    ...(options.catalogueTtlMs === undefined ? {} : { catalogueTtlMs: options.catalogueTtlMs }),
    ...(options.trustedProxyHops === undefined ? {} : { trustedProxyHops: options.trustedProxyHops }),
    pseudoLocales: true,
  };
  // In pool placement the same portal is one of three tenants of a pool process (testkit/pool.ts).
  const pooled =
    TEST_PLACEMENT === 'pool'
      ? await harnessPool({
          server,
          part: 'portal',
          tenant,
          secrets: context.secrets,
          build: (built) => createPortalApp(built, portalOptions),
          store,
          registry,
          logger: context.logger,
        })
      : undefined;
  const app = pooled?.part ?? (await createPortalApp({ ...context, store }, portalOptions));
  const keyPrefix = `jsm-sso:test-${name}:`;
  if (!pooled) server.on('request', app.handler);
  return {
    url,
    server,
    emulator,
    app,
    brokerKey,
    exchanges,
    logs,
    registry,
    keyPrefix,
    formLifeMs: sessionTimeoutsOf(tenant.spec).absoluteSeconds * 1000,
    async storedValues() {
      const keys = await redis.keys(`${keyPrefix}*`);
      return keys.length === 0 ? [] : ((await redis.mget(...keys)).filter((v) => v !== null) as string[]);
    },
    async storedKeys() {
      const keys = await redis.keys(`${keyPrefix}*`);
      return Promise.all(
        keys.map(async (key) => ({ key: key.slice(keyPrefix.length), ttl: await redis.ttl(key) })),
      );
    },
    async startReplica() {
      const replicaStore = await connectedFlowStore(`test-${name}`);
      const replica = await createPortalApp(
        { ...context, registry: createMetricsRegistry(), store: replicaStore },
        portalOptions,
      );
      const replicaServer = createServer(replica.handler);
      await new Promise<void>((resolve) => replicaServer.listen(0, '127.0.0.1', resolve));
      return {
        url: `http://127.0.0.1:${(replicaServer.address() as AddressInfo).port}`,
        async close() {
          replicaServer.closeAllConnections();
          await new Promise<void>((resolve) => replicaServer.close(() => resolve()));
          await replica.close();
          await replicaStore.close();
        },
      };
    },
    keyOf(summary: string) {
      const found = [...emulator.state.requests.values()].find((r) => r.fieldValues['summary'] === summary);
      if (!found) throw new Error(`no seeded request ${summary}`);
      return found.key;
    },
    async close() {
      await checkMetricsOf(registry, 'portal');
      redis.disconnect();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await (pooled ?? app).close();
      await store.close();
      await emulator.close();
      rmSync(dir, { recursive: true, force: true });
      // Whatever a suite did, the portal and the emulator spoke as Atlassian's specs document.
      const offSpec = exchanges.flatMap((e) =>
        validateAgainstSpec(e).errors.map((err) => `${e.method} ${e.path} -> ${e.status}: ${err}`),
      );
      expect(offSpec, 'exchanges off the Atlassian specs').to.deep.equal([]);
    },
  };
}

/** Bytes of uploads the portal has spooled to disk now (its upload folder, walked). */
export function spooledBytes(h: Harness): number {
  return bytesUnder(h.app.uploads.folder);
}

/** Files of the portal's upload spool this process still holds open (deleted or not). */
export function openSpoolFiles(h: Harness): string[] {
  return readdirSync('/proc/self/fd').filter((fd) =>
    gone(() => readlinkSync(`/proc/self/fd/${fd}`).startsWith(h.app.uploads.folder), false),
  );
}

/**
 * Bytes of the files under `dir` and its folders now. The portal removes a form's folder when its
 * response ends, which may be between listing a folder and reading it: what is gone holds nothing
 * (seen once: ENOENT on a form's folder mid-walk, run62).
 */
export function bytesUnder(dir: string): number {
  let total = 0;
  for (const entry of gone(() => readdirSync(dir, { withFileTypes: true }), [])) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? bytesUnder(path) : gone(() => statSync(path).size, 0);
  }
  return total;
}

/** `read()`, or `none` when what it reads was removed meanwhile (ENOENT). */
function gone<T>(read: () => T, none: T): T {
  try {
    return read();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return none;
    throw err;
  }
}

/**
 * A minimal cookie jar and fetch without redirects, as a browser would send to one origin. Pass the
 * jar of a Browser at another port of the same host to share it, as a browser does (RFC 6265 8.5:
 * cookies keep to a host, not to a port).
 */
export class Browser {
  readonly cookies: Map<string, string>;
  readonly base: string;
  constructor(base: string, cookies = new Map<string, string>()) {
    this.base = base;
    this.cookies = cookies;
  }
  async fetch(
    path: string,
    init: RequestInit & { headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(path.startsWith('http') ? path : this.base + path, {
      ...init,
      redirect: 'manual',
      headers: { ...(cookie ? { cookie } : {}), ...(init.headers ?? {}) },
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (value === '' || /Max-Age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }
  async text(path: string): Promise<{ status: number; body: string; res: Response }> {
    const res = await this.fetch(path);
    return { status: res.status, body: await res.text(), res };
  }
  /** POSTs an url-encoded form (with the same Origin a browser would send). */
  async post(
    path: string,
    fields: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    return this.fetch(path, {
      method: 'POST',
      body: new URLSearchParams(fields).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: this.base, ...headers },
    });
  }
}

/**
 * `path` (a requests list) viewed, then every status name it left to read after answering read (ADR
 * 0293: the names past a view's 5 reads are read after it answers, one after another). The warm-up of a
 * test that then counts Atlassian calls, which would otherwise count reads the view left running.
 */
export async function viewWithStatusNamesRead(h: Harness, browser: Browser, path: string) {
  const page = await browser.text(path);
  await h.app.statusNamesRead();
  return page;
}

/**
 * A POST of `fields` as a browser sends it from `origin`: url-encoded, or multipart (with a small file
 * as `attachment` when `attach`).
 */
export function formPost(
  origin: string,
  fields: Record<string, string>,
  multipart: boolean,
  attach = multipart,
): RequestInit & { headers: Record<string, string> } {
  if (!multipart) {
    const body = new URLSearchParams(fields).toString();
    return { method: 'POST', body, headers: { origin, 'content-type': 'application/x-www-form-urlencoded' } };
  }
  const body = new FormData();
  for (const [name, value] of Object.entries(fields)) body.set(name, value);
  if (attach) body.set('attachment', new Blob(['x']), 'x.txt');
  return { method: 'POST', body, headers: { origin } };
}

/** Starts a login in `browser` and returns the AuthnRequest's ID (from the redirect to the broker). */
export async function startLogin(
  browser: Browser,
  returnPath = '/',
): Promise<{ requestId: string; location: string }> {
  const res = await browser.fetch(`/login?return=${encodeURIComponent(returnPath)}`);
  const location = res.headers.get('location') ?? '';
  const samlRequest = new URL(location).searchParams.get('SAMLRequest') ?? '';
  const xml = inflateRedirectPayload(samlRequest);
  const requestId = /ID="([^"]+)"/.exec(xml)?.[1] ?? '';
  return { requestId, location };
}

export interface BrokerResponseOptions {
  email: string;
  displayName?: string;
  groups?: string[];
  inResponseTo: string;
  audience?: string;
  key?: KeyPair;
  assertionId?: string;
  /** The broker's signed IdP attribute; the harness tenant's `corp` by default, null for none. */
  idp?: string | null;
  /** The AuthnStatement's SessionIndex (the fixture's `_session-1` by default). */
  sessionIndex?: string;
  /** The Conditions NotBefore and NotOnOrAfter; from 1 min ago to 5 min ahead by default. */
  conditionsWindow?: { notBefore: Date; notOnOrAfter: Date };
  /** The AuthnStatement's SessionNotOnOrAfter (core 2.7.2: when the session ends); none by default. */
  sessionNotOnOrAfter?: Date;
}

/** A Response as the broker would send it to this portal, signed with `key` (the broker's by default). */
export function brokerResponse(h: Harness, o: BrokerResponseOptions): string {
  return signedBrokerResponse(h.url, o.key ?? h.brokerKey, o);
}

/** A base64 SAMLResponse for the portal at `portalUrl`, signed with `key`. */
export function signedBrokerResponse(portalUrl: string, key: KeyPair, o: BrokerResponseOptions): string {
  const now = Date.now();
  const attr = (name: string, values: string[]) =>
    `<saml:Attribute Name="${name}">${values.map((v) => `<saml:AttributeValue>${canonicalText(v)}</saml:AttributeValue>`).join('')}</saml:Attribute>`;
  const parts = defaultParts({
    issuer: BROKER_ENTITY_ID,
    assertionIssuer: BROKER_ENTITY_ID,
    destination: `${portalUrl}/saml/acs`,
    recipient: `${portalUrl}/saml/acs`,
    inResponseTo: o.inResponseTo,
    confirmationInResponseTo: o.inResponseTo,
    audience: o.audience ?? `${portalUrl}/saml/metadata`,
    nameId: o.email,
    notBefore: new Date(now - 60_000),
    notOnOrAfter: new Date(now + 300_000),
    ...o.conditionsWindow,
    confirmationNotOnOrAfter: new Date(now + 300_000),
    ...(o.assertionId ? { assertionId: o.assertionId } : {}),
    attributesXml:
      attr('email', [o.email]) +
      attr('displayName', [o.displayName ?? o.email.split('@')[0]!]) +
      (o.groups && o.groups.length > 0 ? attr('groups', o.groups) : '') +
      (o.idp === null ? '' : attr(IDP_ATTRIBUTE, [o.idp ?? 'corp'])),
  });
  // The fixture stamps a fixed IssueInstant and AuthnInstant; ours must be now (one ahead is refused).
  const xml = responseXml(parts)
    .replace(
      /(IssueInstant|AuthnInstant)="[^"]+"/g,
      (_, name) => `${name}="${new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z')}"`,
    )
    .replace(
      'SessionIndex="_session-1"',
      `SessionIndex="${canonicalText(o.sessionIndex ?? '_session-1')}"${o.sessionNotOnOrAfter ? ` SessionNotOnOrAfter="${o.sessionNotOnOrAfter.toISOString()}"` : ''}`,
    );
  return Buffer.from(signEnveloped(xml, { id: parts.assertionId, ...key })).toString('base64');
}

/** Signs `email` in through a full SP-initiated flow (the broker's part played by the test). */
export function signIn(
  h: Harness,
  email: string,
  extra: Partial<BrokerResponseOptions> = {},
): Promise<Browser> {
  return signInAt(h.url, h.brokerKey, email, extra);
}

/** A Chromium tab of its own context, `email` signed in (the session's cookies set for the portal). */
export async function signedInTab(h: Harness, chromium: Chromium, email: string): Promise<Page> {
  const context = await chromium.newContext();
  const browser = await signIn(h, email);
  await context.addCookies([...browser.cookies].map(([name, value]) => ({ name, value, url: h.url })));
  return context.newPage();
}

export function signInAt(
  portalUrl: string,
  brokerKey: KeyPair,
  email: string,
  extra: Partial<BrokerResponseOptions> = {},
): Promise<Browser> {
  return signInWith(new Browser(portalUrl), brokerKey, email, extra);
}

/** Signs `email` in through a full SP-initiated flow in `browser`, at the portal it browses. */
export async function signInWith(
  browser: Browser,
  brokerKey: KeyPair,
  email: string,
  extra: Partial<BrokerResponseOptions> = {},
): Promise<Browser> {
  const { requestId } = await startLogin(browser);
  const res = await postBrokerResponse(browser, brokerKey, { email, inResponseTo: requestId, ...extra });
  if (res.status !== 303) throw new Error(`sign-in of ${email} failed: ${res.status} ${await res.text()}`);
  return browser;
}

/** Posts to the portal `browser` browses a Response as its broker would send it, signed with `brokerKey`. */
export function postBrokerResponse(
  browser: Browser,
  brokerKey: KeyPair,
  o: BrokerResponseOptions,
): Promise<Response> {
  return browser.post(
    '/saml/acs',
    { SAMLResponse: signedBrokerResponse(browser.base, brokerKey, o) },
    { origin: 'null' },
  );
}

/**
 * A sign-in of `email` that may be refused: the portal's answer to the broker's Response, from a
 * fresh browser sending `headers` (an Accept-Language, say).
 */
export async function attemptSignIn(
  h: Harness,
  email: string,
  extra: Partial<BrokerResponseOptions> = {},
  headers: Record<string, string> = {},
): Promise<Response> {
  const browser = new Browser(h.url);
  const { requestId } = await startLogin(browser);
  return browser.post(
    '/saml/acs',
    { SAMLResponse: brokerResponse(h, { email, inResponseTo: requestId, ...extra }) },
    { origin: 'null', ...headers },
  );
}

/**
 * The raise-request form of the request type `typeName` on desk 1, as `browser` sends it: `fresh()`
 * renders it and gives its CSRF token and write key, `post(fields)` sends fields as the page does
 * (multipart), `created(summary)` the requests the emulator holds with that summary.
 */
export function raiseRequestForm(h: Pick<Harness, 'emulator' | 'url'>, browser: Browser, typeName: string) {
  const typeId = [...h.emulator.state.requestTypes.values()].find((t) => t.name === typeName)?.id;
  if (typeId === undefined) throw new Error(`no request type ${typeName}`);
  const action = `/desk/1/create/${typeId}`;
  const rendered = async () => {
    const page = (await browser.text(action)).body;
    const writeKey = /name="_write" value="(jsmsso[0-9a-f]{24})"/.exec(page)?.[1];
    if (!writeKey) throw new Error('no write key on the raise-request form');
    return { page, form: { _csrf: csrfOf(page), _write: writeKey } };
  };
  return {
    action,
    async fresh(): Promise<{ _csrf: string; _write: string }> {
      return (await rendered()).form;
    },
    /**
     * A fresh form filled in beyond its text (`text`): the last choice of each group of radio buttons
     * and checkboxes (a field's, the people and organizations to share with), as fields to post; `chosen`
     * what a page keeping the answers shows checked.
     */
    async filled<Text extends Record<string, string>>(
      text: Text,
    ): Promise<{ fields: Text & { _csrf: string; _write: string }; chosen: string[] }> {
      const { page, form } = await rendered();
      const choices = new Map<string, string>();
      for (const [, name, value] of page.matchAll(
        /<input type="(?:radio|checkbox)" id="[^"]*" name="([^"]+)" value="([^"]*)">/g,
      ))
        choices.set(name!, value!);
      return {
        fields: { ...Object.fromEntries(choices), ...form, ...text },
        chosen: [...choices].map(([name, value]) => `name="${name}" value="${value}" checked`),
      };
    },
    post(fields: Record<string, string>): Promise<Response> {
      const body = new FormData();
      for (const [k, v] of Object.entries(fields)) body.append(k, v);
      return browser.fetch(action, { method: 'POST', body, headers: { origin: h.url } });
    },
    created(summary: string) {
      return [...h.emulator.state.requests.values()].filter((r) => r.fieldValues['summary'] === summary);
    },
  };
}

/** A customer of no organization added to the emulator (`email`, `displayName`): her account id. */
export function addCustomer(h: Pick<Harness, 'emulator'>, email: string, displayName: string): string {
  const accountId = accountIdFor('customer', email);
  h.emulator.state.users.set(accountId, {
    accountId,
    kind: 'customer',
    email,
    displayName,
    active: true,
    timeZone: 'UTC',
  });
  return accountId;
}

/**
 * `count` customers of no organization added to the emulator (`<prefix><i>@guests.test`, "Guest
 * <i>"): people to put before the one a test follows in a long list. Their account ids, in order.
 */
export function addGuests(h: Harness, count: number, prefix: string): string[] {
  return Array.from({ length: count }, (_, i) => addCustomer(h, `${prefix}${i}@guests.test`, `Guest ${i}`));
}

/** The CSRF token embedded in a page's forms. */
export function csrfOf(html: string): string {
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!token) throw new Error('no CSRF token on the page');
  return token;
}

/** What the file a form of `keyedFileForm` sends holds. */
export const KEYED_FILE_CONTENT = 'minutes of the meeting\n';

/** The name of the file a form of `keyedFileForm` sends: its write key's, so each test counts its own. */
export function keyedFileName(writeKey: string): string {
  return `minutes-${writeKey}.txt`;
}

/**
 * The page's form posting to `action`, as multipart: its CSRF token and write key, `fields`, and a
 * text file named by the key (`keyedFileName`).
 */
export function keyedFileForm(page: string, action: string, fields: Record<string, string> = {}): FormData {
  const form = new FormData();
  const writeKey = writeKeyOf(page, action)!;
  form.set('_csrf', csrfOf(page));
  form.set('_write', writeKey);
  for (const [name, value] of Object.entries(fields)) form.set(name, value);
  form.set('attachment', new Blob([KEYED_FILE_CONTENT], { type: 'text/plain' }), keyedFileName(writeKey));
  return form;
}

/**
 * Holds the next POST at the emulator to a path under `pathPrefix` until `release()` (called again, it does
 * nothing): a post of the same form is sent while the first is still being written at Atlassian.
 */
export function holdNextWrite(h: Pick<Harness, 'emulator'>, pathPrefix: string): () => void {
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  h.emulator.faults.set({ heldUntil: held, pathPrefix, method: 'POST', times: 1 });
  return release;
}

/** The write key (`_write`) of the page's form posting to `action`, if it has one. */
export function writeKeyOf(html: string, action: string): string | undefined {
  return new RegExp(`action="${action}"[^>]*>.*?name="_write" value="(jsmsso[0-9a-f]{24})"`, 's').exec(
    html,
  )?.[1];
}

/** Attaches a small text file to request `key` from its page (token `csrf`); the portal's status. */
export async function attachNote(h: Harness, browser: Browser, key: string, csrf: string): Promise<number> {
  const form = new FormData();
  form.set('_csrf', csrf);
  form.set('attachment', new Blob(['a page'], { type: 'text/plain' }), 'note.txt');
  const res = await browser.fetch(`/requests/${key}/attachment`, {
    method: 'POST',
    body: form,
    headers: { origin: h.url },
  });
  await res.arrayBuffer();
  return res.status;
}

/** Signs `browser` out (POST /logout): the broker URL it is sent on to, its LogoutRequest's ID and RelayState. */
export async function signOut(
  browser: Browser,
): Promise<{ url: string; requestId: string; relayState: string }> {
  const res = await browser.post('/logout', { _csrf: csrfOf((await browser.text('/profile')).body) });
  if (res.status !== 200) throw new Error(`sign-out failed: ${res.status}`);
  const href = /<a id="continue" href="([^"]+)"/.exec(await res.text())?.[1] ?? '';
  const url = href.replace(/&#(\d+);/g, (_, c) => String.fromCharCode(Number(c))).replace(/&amp;/g, '&');
  const params = new URL(url).searchParams;
  const requestId = /ID="([^"]+)"/.exec(inflateRedirectPayload(params.get('SAMLRequest') ?? ''))?.[1] ?? '';
  return { url, requestId, relayState: params.get('RelayState') ?? '' };
}

export interface BrokerLogoutResponseOptions {
  inResponseTo: string;
  relayState?: string;
  partial?: boolean;
  /** The broker's key by default. */
  key?: KeyPair;
  /** Changes the XML before it is signed (an attack the signature does not catch). */
  mutate?: (xml: string) => string;
}

/** The broker's LogoutResponse to the portal's LogoutRequest, over HTTP-Redirect, signed with `key`. */
export function brokerLogoutResponseUrl(h: Harness, o: BrokerLogoutResponseOptions): string {
  const destination = `${h.url}/saml/slo`;
  const message = logoutResponse({
    issuer: BROKER_ENTITY_ID,
    destination,
    inResponseTo: o.inResponseTo,
    outcome: o.partial ? 'partial' : 'success',
    now: new Date(),
  });
  return signedRedirectUrl(
    'SAMLResponse',
    destination,
    { id: message.id, xml: o.mutate ? o.mutate(message.xml) : message.xml },
    { keyPem: (o.key ?? h.brokerKey).keyPem, relayState: o.relayState },
  );
}

/**
 * The reference a portal error page shows (ADR 0316): its reason code and this answer's own id, the
 * two a customer reads out to the help desk.
 */
export function shownReference(page: string): { reason: string; id: string } | undefined {
  const m = /<code data-reason>([A-Z0-9_]+)<\/code> <code data-reference>([0-9a-f]+)<\/code>/.exec(page);
  return m ? { reason: m[1]!, id: m[2]! } : undefined;
}

/**
 * A page as every answer of its kind shows it: without this answer's own reference id, which is
 * random (ADR 0316), so that two refusals can be compared byte for byte.
 */
export function withoutAnswerReference(page: string): string {
  return page.replace(/<code data-reference>[0-9a-f]+<\/code>/g, '<code data-reference></code>');
}
