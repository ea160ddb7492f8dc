import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Element } from '@xmldom/xmldom';
import { expect } from 'chai';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import type { Browser as Chromium, Page } from 'playwright-core';
import { brokerEndpoints } from '../../common/config/broker-endpoints.js';
import { certificateBase64, NS, parseSamlXml } from '../../common/saml/index.js';
import { isElement } from '../../common/saml/xml.js';
import {
  type BrokerUnderTest,
  Browser,
  CLIENT_SECRET,
  createPki,
  formFields,
  listenPlaceholder,
  oidcIdp,
  type Pki,
  pageReason,
  portalSp,
  serveBroker,
  tenantFor,
  useEncryptionKey,
  useSigningKey,
} from '../../testkit/broker-harness.js';
import { launchChromium } from '../../testkit/chromium.js';
import { makeKeyPair } from '../../testkit/keys.js';
import { type Harness, startHarness } from '../../testkit/portal-harness.js';
import { KEYCLOAK_START_DEADLINE_MS, type Keycloak, startKeycloak } from './keycloak.js';
import { autoPostForm } from './peers.js';

const PASSWORD = 'keycloak-interop-password';
const ISSUER_PATH = '/realms/acme';

/**
 * portal -> broker -> Keycloak (the tenant's own OIDC IdP: discovery from its issuer, PKCE S256, its
 * own login form) -> broker -> portal. Keycloak is the IdP a tenant most often runs itself; nothing
 * of it is written by this project. Two brokers share the realm as an OIDC IdP: one toward node-saml
 * as the portal (private_key_jwt), which shows what the portal receives; one toward the real portal
 * (client_secret_basic), whose session Keycloak's back-channel and front-channel logouts must end.
 * Three more have the realm as their upstream SAML IdP: one toward node-saml, one toward node-saml
 * with a decryption key of its own that Keycloak encrypts its assertions to (ADR 0338), one toward a
 * real portal whose session Keycloak's SAML Single Logout (Redirect and SOAP) and the portal's own
 * sign-out through the broker to Keycloak must end (ADR 0184, 0189).
 */
describe('interop: Keycloak as the tenant OIDC IdP toward the broker OIDC backend', function () {
  this.timeout(KEYCLOAK_START_DEADLINE_MS + 60_000);
  let pki: Pki;
  let keycloak: Keycloak;
  let broker: BrokerUnderTest;
  let portal: Harness;
  let portalBroker: BrokerUnderTest;
  let samlBroker: BrokerUnderTest;
  let encryptingSamlBroker: BrokerUnderTest;
  /** The certificate of that broker's decryption pair, as its SP metadata publishes it. */
  let encryptionCertificate: string;
  let samlPortal: Harness;
  let samlPortalBroker: BrokerUnderTest;

  before(async () => {
    pki = createPki();
    const brokerPair = makeKeyPair('broker.acme.test');
    const portalPair = makeKeyPair('portal.acme.test');
    useSigningKey(pki, 'broker', brokerPair);
    useSigningKey(pki, 'portal', portalPair);
    const placeholder = await listenPlaceholder();
    const portalPlaceholder = await listenPlaceholder();
    const samlPlaceholder = await listenPlaceholder();
    const encryptingSamlPlaceholder = await listenPlaceholder();
    const samlPortalPlaceholder = await listenPlaceholder();
    keycloak = await startKeycloak();
    await keycloak.createRealm({
      realm: 'acme',
      enabled: true,
      clients: [
        await privateKeyJwtClient(placeholder.url),
        withFrontchannelLogout(
          {
            ...client('jsm-sso-portal', portalPlaceholder.url),
            clientAuthenticatorType: 'client-secret',
            secret: CLIENT_SECRET,
          },
          portalPlaceholder.url,
        ),
      ],
      users: [
        person('alice', 'Alice', 'Archer', true),
        // Keycloak has not verified bob's address (email_verified: false in his ID token).
        person('bob', 'Bob', 'Baker', false),
      ],
    });
    const jwtIdp = keycloakIdp('jsm-sso');
    jwtIdp['oidc'].clientAuthMethod = 'private_key_jwt';
    jwtIdp['oidc'].privateKeySecretRef = { name: 'idp-key' };
    delete jwtIdp['oidc'].clientSecretRef;
    broker = await serveBroker(
      placeholder.server,
      placeholder.url,
      tenantFor(placeholder.url, [jwtIdp]),
      pki,
    );

    const secretIdp = keycloakIdp('jsm-sso-portal');
    portal = await startHarness({
      brokerKey: brokerPair,
      portalKey: portalPair,
      spec: { broker: { url: portalPlaceholder.url }, identityProviders: [secretIdp] },
    });
    const tenant = tenantFor(portalPlaceholder.url, [secretIdp], (spec) => {
      spec.portal.url = portal.url;
    });
    portalBroker = await serveBroker(portalPlaceholder.server, portalPlaceholder.url, tenant, pki);
    const descriptor = await (await fetch(`${keycloak.url}${ISSUER_PATH}/protocol/saml/descriptor`)).text();
    samlBroker = await serveKeycloakSamlBroker(samlPlaceholder, descriptor);
    const encryption = useEncryptionKey(pki);
    encryptionCertificate = certificateBase64(encryption.pair.certPem);
    encryptingSamlBroker = await serveKeycloakSamlBroker(encryptingSamlPlaceholder, descriptor, {
      encryptionSecret: encryption.secretName,
    });
    samlPortal = await startHarness({
      brokerKey: brokerPair,
      portalKey: portalPair,
      spec: { broker: { url: samlPortalPlaceholder.url }, identityProviders: [keycloakSamlIdp(descriptor)] },
    });
    samlPortalBroker = await serveKeycloakSamlBroker(samlPortalPlaceholder, descriptor, {
      portalUrl: samlPortal.url,
    });
  });
  after(async () => {
    await broker?.close();
    await portalBroker?.close();
    await samlBroker?.close();
    await encryptingSamlBroker?.close();
    await samlPortalBroker?.close();
    await portal?.close();
    await samlPortal?.close();
    await keycloak?.close();
    pki?.cleanup();
  });

  /** A confidential client of the realm for the broker at `brokerUrl`, requiring PKCE S256. */
  function client(clientId: string, brokerUrl: string) {
    return {
      clientId,
      protocol: 'openid-connect',
      publicClient: false,
      standardFlowEnabled: true,
      directAccessGrantsEnabled: false,
      redirectUris: [`${brokerUrl}/oidc/callback`],
      attributes: {
        'pkce.code.challenge.method': 'S256',
        // OpenID Connect Back-Channel Logout 1.0, with the sid in the logout token.
        'backchannel.logout.url': `${brokerUrl}/oidc/backchannel-logout/keycloak`,
        'backchannel.logout.session.required': 'true',
      },
    };
  }

  /**
   * OpenID Connect Front-Channel Logout 1.0 registered as well (ADR 0159): with the client's "Front
   * channel logout" switch on (`useLogoutChannel`), Keycloak's logout page frames the URI with `iss`
   * and `sid`.
   */
  function withFrontchannelLogout<T extends ReturnType<typeof client>>(oidcClient: T, brokerUrl: string): T {
    return {
      ...oidcClient,
      attributes: {
        ...oidcClient.attributes,
        'frontchannel.logout.url': brokerEndpoints(brokerUrl).frontchannelLogoutUrl('keycloak'),
        'frontchannel.logout.session.required': 'true',
      },
    };
  }

  /**
   * private_key_jwt (RFC 7523): the broker signs with the PEM key in its Secret; Keycloak holds the
   * public JWK, under its RFC 7638 thumbprint as kid, as a JWKS the realm's admin pasted in.
   */
  async function privateKeyJwtClient(brokerUrl: string) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    mkdirSync(join(pki.dir, 'idp-key'));
    writeFileSync(
      join(pki.dir, 'idp-key', 'private.pem'),
      privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    );
    const jwk = await exportJWK(publicKey);
    const jwks = { keys: [{ ...jwk, kid: await calculateJwkThumbprint(jwk), use: 'sig', alg: 'RS256' }] };
    const base = client('jsm-sso', brokerUrl);
    return {
      ...base,
      clientAuthenticatorType: 'client-jwt',
      attributes: {
        ...base.attributes,
        'use.jwks.string': 'true',
        'jwks.string': JSON.stringify(jwks),
        'token.endpoint.auth.signing.alg': 'RS256',
      },
    };
  }

  /** The tenant's IdP: Keycloak's realm by its issuer URL, authoritative for acme.test. */
  function keycloakIdp(clientId: string) {
    const idp = oidcIdp('keycloak', `${keycloak.url}${ISSUER_PATH}`, {
      emailDomains: ['acme.test'],
      attributeMapping: { email: 'claims.email', displayName: 'claims.name' },
    });
    idp['oidc'].clientId = clientId;
    // The realm has no `groups` client scope, and the mapping reads no groups.
    idp['oidc'].scopes = ['openid', 'email', 'profile'];
    return idp;
  }

  /** The realm as an upstream SAML IdP, by its SAML descriptor. */
  function keycloakSamlIdp(descriptor: string) {
    return {
      name: 'keycloak-saml',
      emailDomains: ['acme.test'],
      saml: { metadataXml: descriptor },
      emailTrust: 'asserted',
      attributeMapping: { email: 'claims.email' },
    };
  }

  /**
   * A broker with the realm as its upstream SAML IdP (the realm's SAML `descriptor` as metadata), and
   * the broker as the realm's SAML client the way an admin adds one: Keycloak reads the broker's SP
   * metadata (its client description converter), then sends the e-mail as NameID and attribute.
   * Toward the real portal at `portalUrl`, the admin registers the metadata the broker made for this
   * IdP, which adds its SOAP SingleLogoutService (ADR 0160); otherwise the shared one. With
   * `encryptionSecret` the broker publishes that decryption pair's certificate in its SP metadata.
   */
  async function serveKeycloakSamlBroker(
    placeholder: Awaited<ReturnType<typeof listenPlaceholder>>,
    descriptor: string,
    options: { portalUrl?: string; encryptionSecret?: string } = {},
  ) {
    const { portalUrl, encryptionSecret } = options;
    const idp = keycloakSamlIdp(descriptor);
    const samlBroker = await serveBroker(
      placeholder.server,
      placeholder.url,
      tenantFor(placeholder.url, [idp], (spec) => {
        if (portalUrl) spec.portal.url = portalUrl;
        if (encryptionSecret) spec.broker.encryptionSecretRef = { name: encryptionSecret };
      }),
      pki,
    );
    const metadataUrl = portalUrl
      ? brokerEndpoints(placeholder.url).samlSpMetadataUrl(idp.name)
      : `${placeholder.url}/saml/sp-metadata`;
    const converted = await realmAdmin('/client-description-converter', {
      text: await (await fetch(metadataUrl)).text(),
    });
    expect(converted.status, await converted.clone().text()).to.equal(200);
    const samlClient = (await converted.json()) as { attributes?: Record<string, string> };
    const created = await realmAdmin('/clients', {
      json: {
        ...samlClient,
        attributes: { ...samlClient.attributes, saml_name_id_format: 'email' },
        protocolMappers: [
          {
            name: 'email',
            protocol: 'saml',
            protocolMapper: 'saml-user-property-mapper',
            config: { 'user.attribute': 'email', 'attribute.name': 'email', 'attribute.nameformat': 'Basic' },
          },
        ],
      },
    });
    expect(created.status, await created.clone().text()).to.equal(201);
    return samlBroker;
  }

  /** The realm's admin REST API at `path` (under /admin/realms/acme), as its admin. */
  async function realmAdmin(
    path: string,
    init: { method?: string; json?: unknown; text?: string } = {},
  ): Promise<Response> {
    const body =
      init.json !== undefined
        ? { body: JSON.stringify(init.json), type: 'application/json' }
        : init.text !== undefined
          ? { body: init.text, type: 'text/plain' }
          : undefined;
    return fetch(`${keycloak.url}/admin${ISSUER_PATH}${path}`, {
      method: init.method ?? (body ? 'POST' : 'GET'),
      headers: {
        authorization: `Bearer ${await keycloak.adminToken()}`,
        ...(body ? { 'content-type': body.type } : {}),
      },
      ...(body ? { body: body.body } : {}),
    });
  }

  /**
   * The realm admin's "Sign out" of alice: Keycloak ends her sessions and, before it answers, tells
   * every client she used on its back channel (a logout token, a SOAP LogoutRequest).
   */
  async function adminSignsOutAlice(): Promise<void> {
    const users = await realmAdmin('/users?username=alice&exact=true');
    const [user] = (await users.json()) as Array<{ id: string }>;
    const signOut = await realmAdmin(`/users/${user!.id}/logout`, { method: 'POST' });
    expect(signOut.status, await signOut.clone().text()).to.equal(204);
  }

  /**
   * The client's "Front channel logout" switch, as the realm admin sets it. Keycloak tells a client
   * of a sign-out on one channel only: on, in the browser (its logout page), and the admin's sign-out
   * sends that client nothing; off, back-channel, also when the person signs out in the browser.
   */
  async function useLogoutChannel(clientId: string, channel: 'front' | 'back'): Promise<void> {
    await updateClient(clientId, (representation) => ({
      ...representation,
      frontchannelLogout: channel === 'front',
    }));
  }

  /** The realm's client `clientId`, as the admin reads it. */
  async function realmClient(clientId: string): Promise<ClientRepresentation> {
    const found = await realmAdmin(`/clients?clientId=${encodeURIComponent(clientId)}`);
    const [representation] = (await found.json()) as ClientRepresentation[];
    return representation!;
  }

  /** The realm's client `clientId` changed by `change`, as the admin saves it. */
  async function updateClient(
    clientId: string,
    change: (representation: ClientRepresentation) => ClientRepresentation,
  ): Promise<void> {
    const representation = await realmClient(clientId);
    const updated = await realmAdmin(`/clients/${representation.id}`, {
      method: 'PUT',
      json: change(representation),
    });
    expect(updated.status, await updated.clone().text()).to.equal(204);
  }

  function person(username: string, firstName: string, lastName: string, emailVerified: boolean) {
    return {
      username,
      email: `${username}@acme.test`,
      emailVerified,
      // Keycloak's user profile requires both names; without them it asks for them at sign-in.
      firstName,
      lastName,
      enabled: true,
      credentials: [{ type: 'password', value: PASSWORD, temporary: false }],
    };
  }

  /** Keycloak's login page at `url`, its form posted as `username`; Keycloak's answer. */
  async function submitLoginForm(browser: Browser, url: string, username: string) {
    const loginPage = await browser.request(url);
    const loginHtml = await loginPage.text();
    expect(loginPage.status, loginHtml).to.equal(200);
    const action = /<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"/.exec(loginHtml)?.[1];
    expect(action, loginHtml).to.be.a('string');
    return browser.request(action!.replaceAll('&amp;', '&'), {
      form: { username, password: PASSWORD, credentialId: '' },
    });
  }

  /**
   * From the broker's redirect to Keycloak (`toIdp`): Keycloak's login form posted as `username`,
   * its redirect to `brokerUrl`'s callback followed; the broker's page.
   */
  async function loginAtKeycloak(browser: Browser, toIdp: string, brokerUrl: string, username: string) {
    const authorize = new URL(toIdp);
    expect(
      authorize.href.startsWith(`${keycloak.url}${ISSUER_PATH}/protocol/openid-connect/auth?`),
      authorize.href,
    ).to.equal(true);
    expect(authorize.searchParams.get('code_challenge_method')).to.equal('S256');
    const afterLogin = await submitLoginForm(browser, authorize.href, username);
    const callback = afterLogin.headers.get('location') ?? '';
    expect(callback.startsWith(`${brokerUrl}/oidc/callback?`), `${afterLogin.status} ${callback}`).to.equal(
      true,
    );
    // RFC 9207: Keycloak names itself in the authorization response; the broker checks it.
    expect(new URL(callback).searchParams.get('iss')).to.equal(`${keycloak.url}${ISSUER_PATH}`);
    const page = await browser.request(callback);
    return { page, html: await page.text() };
  }

  /** node-saml's AuthnRequest to the broker, then Keycloak; the broker's page and node-saml. */
  async function signIn(username: string) {
    const browser = new Browser();
    const sp = portalSp(broker.url, pki);
    const sso = await browser.request(await sp.getAuthorizeUrlAsync('rs-kc', undefined, {}));
    expect(sso.status, await sso.clone().text()).to.equal(302);
    return { sp, ...(await loginAtKeycloak(browser, sso.headers.get('location')!, broker.url, username)) };
  }

  it('signs in a person whose e-mail Keycloak has verified: the portal receives that address', async () => {
    const { sp, page, html } = await signIn('alice');
    expect(page.status, html).to.equal(200);
    const { profile } = await sp.validatePostResponseAsync(formFields(html));
    expect(profile?.nameID).to.equal('alice@acme.test');
    expect(profile?.['email']).to.equal('alice@acme.test');
    expect(profile?.['displayName']).to.equal('Alice Archer');
    expect(broker.logs.findLast((l) => l['event'] === 'broker.login')).to.include({
      idp: 'keycloak',
      result: 'success',
    });
  });

  it('refuses a person whose e-mail Keycloak has not verified (IDP_EMAIL_UNVERIFIED)', async () => {
    const { page, html } = await signIn('bob');
    expect(page.status, html).to.equal(403);
    expect(pageReason(html)).to.equal('IDP_EMAIL_UNVERIFIED');
    expect(broker.logs.findLast((l) => l['event'] === 'broker.login')).to.include({
      idp: 'keycloak',
      result: 'refused',
      reason: 'IDP_EMAIL_UNVERIFIED',
    });
    expect(broker.logs.findLast((l) => l['event'] === 'broker.refusal')).to.include({
      reason: 'IDP_EMAIL_UNVERIFIED',
      status: 403,
    });
    expect(JSON.stringify(broker.logs)).not.to.include('bob@acme.test');
  });

  /** A signed-in page of the real portal: 200 while the session lives, 303 to sign-in once it is gone. */
  async function portalPage(browser: Browser): Promise<number> {
    const res = await browser.request(`${portal.url}/requests`);
    await res.arrayBuffer();
    return res.status;
  }

  it('ends the portal session when Keycloak signs her out and posts its back-channel logout token', async () => {
    await useLogoutChannel('jsm-sso-portal', 'back');
    const browser = new Browser();
    const toBroker = await browser.request(`${portal.url}/login`);
    expect(toBroker.status).to.equal(303);
    const toIdp = await browser.request(toBroker.headers.get('location')!);
    expect(toIdp.status, await toIdp.clone().text()).to.equal(302);
    const { page, html } = await loginAtKeycloak(
      browser,
      toIdp.headers.get('location')!,
      portalBroker.url,
      'alice',
    );
    expect(page.status, html).to.equal(200);
    const atPortal = await browser.request(`${portal.url}/saml/acs`, { form: formFields(html) });
    expect(atPortal.status, await atPortal.clone().text()).to.equal(303);
    expect(await portalPage(browser)).to.equal(200);

    const linesBefore = portalBroker.logs.length;
    // Keycloak posts a logout token naming her sid to the client's backchannel.logout.url.
    await adminSignsOutAlice();
    const lines = portalBroker.logs.slice(linesBefore);
    expect(
      lines.find((l) => l['event'] === 'broker.backchannel_logout'),
      JSON.stringify(lines),
    ).to.include({ idp: 'keycloak', result: 'ended' });
    expect(await portalPage(browser), 'the portal session is gone').to.equal(303);
  });

  /**
   * node-saml's AuthnRequest to `samlBroker`, then Keycloak's login form as alice, and the Response
   * Keycloak posts through the browser to the broker's ACS: that Response, and the broker's answer.
   */
  async function throughSamlRealm(samlBroker: BrokerUnderTest) {
    const browser = new Browser();
    const sp = portalSp(samlBroker.url, pki);
    const sso = await browser.request(await sp.getAuthorizeUrlAsync('rs-kc-saml', undefined, {}));
    expect(sso.status, await sso.clone().text()).to.equal(302);
    const toIdp = sso.headers.get('location')!;
    expect(toIdp.startsWith(`${keycloak.url}${ISSUER_PATH}/protocol/saml?`), toIdp).to.equal(true);
    const afterLogin = await submitLoginForm(browser, toIdp, 'alice');
    const upstream = autoPostForm(await afterLogin.text());
    expect(upstream.action).to.equal(`${samlBroker.url}/saml/acs`);
    const page = await browser.request(upstream.action, { form: upstream.fields });
    return {
      sp,
      page,
      html: await page.text(),
      posted: Buffer.from(upstream.fields['SAMLResponse']!, 'base64').toString('utf8'),
    };
  }

  /** The broker answered node-saml with alice signed in, and logged a successful login. */
  async function expectSignedIn(
    samlBroker: BrokerUnderTest,
    { sp, page, html }: Awaited<ReturnType<typeof throughSamlRealm>>,
  ): Promise<void> {
    expect(page.status, `${html}\n${JSON.stringify(samlBroker.logs.at(-1))}`).to.equal(200);
    const { profile } = await sp.validatePostResponseAsync(formFields(html));
    expect(profile?.nameID).to.equal('alice@acme.test');
    expect(profile?.['email']).to.equal('alice@acme.test');
    expect(samlBroker.logs.findLast((l) => l['event'] === 'broker.login')).to.include({
      idp: 'keycloak-saml',
      result: 'success',
    });
  }

  it('signs in through the realm as an upstream SAML IdP: Keycloak reads the broker SP metadata, the broker its descriptor', async () => {
    const answer = await throughSamlRealm(samlBroker);
    await expectSignedIn(samlBroker, answer);
    expect(answer.posted).not.to.include('EncryptedAssertion');
  });

  describe("Keycloak encrypting its assertions to the broker's decryption key (ADR 0338)", () => {
    /** The realm's SAML client of the broker with a decryption key: its entityID. */
    const encryptingClientId = () => `${encryptingSamlBroker.url}/saml/sp-metadata`;

    /**
     * The client's "Encryption keys config" as the realm admin sets it in Keycloak's admin console
     * (client attributes); a setting not given is Keycloak's default.
     */
    async function useKeycloakEncryption(settings: Partial<Record<EncryptionSetting, string>>) {
      const cleared = Object.fromEntries(ENCRYPTION_SETTINGS.map((name) => [name, '']));
      await updateClient(encryptingClientId(), (representation) => ({
        ...representation,
        attributes: { ...representation.attributes, ...cleared, ...settings },
      }));
    }

    it("turns Keycloak's encryption on from the broker SP metadata, and signs in from its defaults: AES-256-GCM under RSA-OAEP (SHA-256, MGF1-SHA-256) in a signed Response", async () => {
      const { attributes = {} } = await realmClient(encryptingClientId());
      // Keycloak's client description converter took the encryption KeyDescriptor, and no algorithm.
      expect(attributes['saml.encrypt']).to.equal('true');
      expect(attributes['saml.encryption.certificate']).to.equal(encryptionCertificate);
      for (const name of ENCRYPTION_SETTINGS) expect(attributes[name], name).to.equal(undefined);
      const answer = await throughSamlRealm(encryptingSamlBroker);
      expect(answer.posted).not.to.include('alice@acme.test');
      expect(encryptionOf(answer.posted)).to.deep.equal({
        responseSigned: true,
        content: `${NS.xmlenc11}aes256-gcm`,
        keyTransport: `${NS.xmlenc11}rsa-oaep`,
        digest: `${NS.xmlenc}sha256`,
        mgf: `${NS.xmlenc11}mgf1sha256`,
      });
      await expectSignedIn(encryptingSamlBroker, answer);
    });

    it('signs in from AES-128-CBC under RSA-OAEP-MGF1P with SHA-1 inside the Response Keycloak signs', async () => {
      await useKeycloakEncryption({
        'saml.encryption.algorithm': `${NS.xmlenc}aes128-cbc`,
        'saml.encryption.keyAlgorithm': `${NS.xmlenc}rsa-oaep-mgf1p`,
        'saml.encryption.digestMethod': `${NS.dsig}sha1`,
      });
      const answer = await throughSamlRealm(encryptingSamlBroker);
      expect(encryptionOf(answer.posted)).to.deep.equal({
        responseSigned: true,
        content: `${NS.xmlenc}aes128-cbc`,
        keyTransport: `${NS.xmlenc}rsa-oaep-mgf1p`,
        // SHA-1, the default, is left out.
        digest: undefined,
        mgf: undefined,
      });
      await expectSignedIn(encryptingSamlBroker, answer);
    });

    for (const [what, settings, keyTransport, digest, detail] of [
      [
        // Keycloak keeps its SHA-256 default beside rsa-oaep-mgf1p, whose MGF1 is SHA-1.
        'RSA-OAEP-MGF1P with its default digest, SHA-256 (MGF1 stays SHA-1)',
        { 'saml.encryption.keyAlgorithm': `${NS.xmlenc}rsa-oaep-mgf1p` },
        `${NS.xmlenc}rsa-oaep-mgf1p`,
        `${NS.xmlenc}sha256`,
        'oaep_digest_mgf_mismatch',
      ],
      [
        'RSA1_5 key transport',
        { 'saml.encryption.keyAlgorithm': `${NS.xmlenc}rsa-1_5` },
        `${NS.xmlenc}rsa-1_5`,
        undefined,
        'key_transport_unsupported',
      ],
    ] as const) {
      it(`refuses ${what} as SAML_ASSERTION_DECRYPTION_FAILED, the log line naming it (${detail}): nothing reaches the portal`, async () => {
        await useKeycloakEncryption(settings);
        const { page, html, posted } = await throughSamlRealm(encryptingSamlBroker);
        expect(encryptionOf(posted)).to.include({ keyTransport, digest });
        expect(page.status, html).to.equal(400);
        expect(pageReason(html), html).to.equal('SAML_ASSERTION_DECRYPTION_FAILED');
        expect(html).to.not.include('SAMLResponse');
        expect(encryptingSamlBroker.logs.findLast((l) => l['event'] === 'broker.login')).to.include({
          idp: 'keycloak-saml',
          result: 'refused',
          reason: 'SAML_ASSERTION_DECRYPTION_FAILED',
          detail,
        });
      });
    }
  });

  describe('Keycloak signs the person out, and the portal session ends with it (ADR 0189)', () => {
    let chromium: Chromium;
    before(async () => {
      chromium = await launchChromium();
    });
    after(async () => chromium?.close());

    /** Alice signed in at the portal at `portalUrl`, through its broker and Keycloak's login form. */
    async function signedInPage(portalUrl: string): Promise<Page> {
      const page = await (await chromium.newContext()).newPage();
      await page.goto(`${portalUrl}/login`);
      await page.waitForURL(`${keycloak.url}${ISSUER_PATH}/**`);
      await page.fill('#username', 'alice');
      await page.fill('#password', PASSWORD);
      await page.click('#kc-login');
      await page.waitForURL(`${portalUrl}/**`);
      expect(await portalStatus(page, portalUrl)).to.equal(200);
      return page;
    }

    /** The portal's signed-in page with the profile's cookie: 200, or 303 to sign-in once the session is gone. */
    async function portalStatus(page: Page, portalUrl: string): Promise<number> {
      const res = await page.request.get(`${portalUrl}/requests`, { maxRedirects: 0 });
      return res.status();
    }

    /** The realm's SAML client of the broker in front of the real portal: its entityID. */
    const samlClientId = () => `${samlPortalBroker.url}/saml/sp-metadata`;

    /** The clients of alice's live Keycloak sessions, by clientId. */
    async function aliceSessionClients(): Promise<string[]> {
      const users = await realmAdmin('/users?username=alice&exact=true');
      const [user] = (await users.json()) as Array<{ id: string }>;
      const sessions = (await (await realmAdmin(`/users/${user!.id}/sessions`)).json()) as Array<{
        clients: Record<string, string>;
      }>;
      return sessions.flatMap((session) => Object.values(session.clients));
    }

    /** Since log line `from`, the SAML broker took Keycloak's LogoutRequest over `binding`: both sessions ended. */
    function expectIdpLogoutEnded(from: number, binding: 'redirect' | 'soap'): void {
      const lines = samlPortalBroker.logs.slice(from);
      expect(
        lines.find((l) => l['event'] === 'broker.logout'),
        JSON.stringify(lines),
      ).to.include({ idp: 'keycloak-saml', initiator: 'idp', binding, result: 'success' });
    }

    /** Keycloak's own logout page (the realm's end_session_endpoint), confirmed as the person does. */
    async function signOutAtKeycloak(page: Page): Promise<void> {
      const discovery = await fetch(`${keycloak.url}${ISSUER_PATH}/.well-known/openid-configuration`);
      const { end_session_endpoint: endSession } = (await discovery.json()) as {
        end_session_endpoint: string;
      };
      await page.goto(endSession);
      await page.click('#kc-logout');
    }

    it('ends the portal session when she signs out on Keycloak logout page, which frames the broker (front-channel)', async () => {
      await useLogoutChannel('jsm-sso-portal', 'front');
      const page = await signedInPage(portal.url);
      const logoutUri = brokerEndpoints(portalBroker.url).frontchannelLogoutUrl('keycloak');
      const framed = page.waitForResponse((r) => r.url().startsWith(`${logoutUri}?`));
      const linesBefore = portalBroker.logs.length;
      await signOutAtKeycloak(page);
      const answer = await framed;
      expect(answer.status()).to.equal(200);
      expect(answer.frame().parentFrame(), 'loaded in a frame of Keycloak page').not.to.equal(null);
      const params = new URL(answer.url()).searchParams;
      expect(params.get('iss')).to.equal(`${keycloak.url}${ISSUER_PATH}`);
      expect(params.get('sid')).to.be.a('string').and.not.equal('');
      expect(await portalStatus(page, portal.url), 'the portal session is gone').to.equal(303);
      const lines = portalBroker.logs.slice(linesBefore);
      expect(
        lines.find((l) => l['event'] === 'broker.frontchannel_logout'),
        JSON.stringify(lines),
      ).to.include({ idp: 'keycloak', result: 'ended' });
      await page.context().close();
    });

    it('ends the portal session when Keycloak, signing her out, sends its SAML LogoutRequest through the browser (Redirect)', async () => {
      await useLogoutChannel(samlClientId(), 'front');
      const page = await signedInPage(samlPortal.url);
      const linesBefore = samlPortalBroker.logs.length;
      const answered = page.waitForResponse((r) =>
        r.url().startsWith(`${samlPortalBroker.url}/saml/slo?SAMLRequest=`),
      );
      await signOutAtKeycloak(page);
      const answer = await answered;
      expect(answer.status()).to.equal(302);
      expect(await portalStatus(page, samlPortal.url), 'the portal session is gone').to.equal(303);
      expectIdpLogoutEnded(linesBefore, 'redirect');
      await page.context().close();
    });

    it('ends the portal session when the realm admin signs her out and Keycloak sends its SAML LogoutRequest over SOAP', async () => {
      await useLogoutChannel(samlClientId(), 'back');
      const page = await signedInPage(samlPortal.url);
      const linesBefore = samlPortalBroker.logs.length;
      // Keycloak posts a signed LogoutRequest to the client's saml_single_logout_service_url_soap.
      await adminSignsOutAlice();
      expectIdpLogoutEnded(linesBefore, 'soap');
      expect(await portalStatus(page, samlPortal.url), 'the portal session is gone').to.equal(303);
      await page.context().close();
    });

    it('signs her out from the portal through the broker to Keycloak and back: both sessions end', async () => {
      const page = await signedInPage(samlPortal.url);
      expect(await aliceSessionClients()).to.include(samlClientId());
      await page.goto(`${samlPortal.url}/profile`);
      await page.click('form[action="/logout"] button');
      await page.waitForURL(`${samlPortal.url}/signed-out**`);
      expect(new URL(page.url()).search, 'not a partial sign-out').to.equal('');
      expect(await portalStatus(page, samlPortal.url), 'the portal session is gone').to.equal(303);
      expect(await aliceSessionClients(), 'her Keycloak session is gone').not.to.include(samlClientId());
      await page.context().close();
    });
  });
});

/** What the admin REST API gives of a client (Keycloak's ClientRepresentation), as far as read here. */
interface ClientRepresentation {
  id: string;
  attributes?: Record<string, string>;
}

/** A SAML client's encryption settings (Keycloak's admin console: "Encryption keys config"). */
const ENCRYPTION_SETTINGS = [
  'saml.encryption.algorithm',
  'saml.encryption.keyAlgorithm',
  'saml.encryption.digestMethod',
  'saml.encryption.maskGenerationFunction',
] as const;
type EncryptionSetting = (typeof ENCRYPTION_SETTINGS)[number];

/** How the Response Keycloak `posted` encrypts its assertion, by algorithm URI, and whether it is signed. */
function encryptionOf(posted: string) {
  const response = parseSamlXml(posted).documentElement!;
  const first = (parent: Element | undefined, ns: string, localName: string) =>
    parent?.getElementsByTagNameNS(ns, localName)[0] ?? undefined;
  const algorithm = (parent: Element | undefined, ns: string, localName: string) =>
    first(parent, ns, localName)?.getAttribute('Algorithm') ?? undefined;
  const data = first(response, NS.xmlenc, 'EncryptedData');
  const key = first(response, NS.xmlenc, 'EncryptedKey');
  return {
    responseSigned: Array.from(response.childNodes).some(
      (node) => isElement(node) && node.namespaceURI === NS.dsig && node.localName === 'Signature',
    ),
    content: algorithm(data, NS.xmlenc, 'EncryptionMethod'),
    keyTransport: algorithm(key, NS.xmlenc, 'EncryptionMethod'),
    digest: algorithm(key, NS.dsig, 'DigestMethod'),
    mgf: algorithm(key, NS.xmlenc11, 'MGF'),
  };
}
