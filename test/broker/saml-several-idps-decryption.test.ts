// A tenant with two upstream SAML IdPs decrypting with the same broker keys (ADR 0350): the partner IdP
// signs its own Responses, so it could carry the home IdP's captured AES-CBC EncryptedAssertion,
// altered, in one, and read the broker's answers as a padding oracle on the home IdP's assertions.
import { randomUUID } from 'node:crypto';
import { DOMParser } from '@xmldom/xmldom';
import { expect } from 'chai';
import {
  buildIdpMetadata,
  certificateBase64,
  inflateRedirectPayload,
  issueSignedResponse,
  loadSigningCredential,
  NAMEID_EMAIL,
  NS,
  signEnveloped,
} from '../../common/saml/index.js';
import {
  type BrokerUnderTest,
  Browser,
  createPki,
  formFields,
  type IdpDoc,
  listenPlaceholder,
  oidcIdp,
  type Pki,
  pageReason,
  portalSp,
  serveBroker,
  tenantFor,
  useEncryptionKey,
} from '../../testkit/broker-harness.js';
import { type KeyPair, makeKeyPair } from '../../testkit/keys.js';
import { type AttackerEncryption, encryptedAssertionXml } from '../../testkit/xml-encryption.js';
import { type FakeOidc, startFakeOidc } from './fake-oidc.js';

const STATUS_SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';

interface SamlIdp {
  name: string;
  emailDomain: string;
  entityId: string;
  key: KeyPair;
}

const idpOf = (name: string, emailDomain: string): SamlIdp => ({
  name,
  emailDomain,
  entityId: `https://${name}-idp.example.test/metadata`,
  key: makeKeyPair(`${name}-idp.example.test`),
});

function idpDoc(idp: SamlIdp) {
  const metadataXml = buildIdpMetadata({
    entityId: idp.entityId,
    ssoUrl: `https://${idp.name}-idp.example.test/sso`,
    sloUrl: `https://${idp.name}-idp.example.test/slo`,
    signingCertificates: [certificateBase64(idp.key.certPem)],
    nameIdFormats: [NAMEID_EMAIL],
  });
  return {
    name: idp.name,
    saml: { metadataXml },
    emailDomains: [idp.emailDomain],
    emailTrust: 'asserted',
    attributeMapping: { email: 'claims.email' },
  };
}

/** The broker of a tenant with `idps`, decrypting with its own pair (ADR 0338). */
async function brokerWith(
  pki: Pki,
  idps: IdpDoc[],
): Promise<{ broker: BrokerUnderTest; encryptionCertPem: string }> {
  const encryption = useEncryptionKey(pki);
  const { server, url } = await listenPlaceholder();
  const tenant = tenantFor(url, idps, (spec) => {
    spec.broker.encryptionSecretRef = { name: encryption.secretName };
  });
  return { broker: await serveBroker(server, url, tenant, pki), encryptionCertPem: encryption.pair.certPem };
}

/**
 * `idp`'s signed Assertion for carol answering `inResponseTo`, encrypted to the broker: what it
 * posts, and what another IdP may capture.
 */
async function encryptedAssertion(
  broker: BrokerUnderTest,
  encryptionCertPem: string,
  idp: SamlIdp,
  inResponseTo: string,
  options: AttackerEncryption,
): Promise<string> {
  const { xml } = await issueSignedResponse(loadSigningCredential(idp.key.keyPem, idp.key.certPem), {
    issuer: idp.entityId,
    audience: `${broker.url}/saml/sp-metadata`,
    acsUrl: `${broker.url}/saml/acs`,
    inResponseTo,
    nameId: 'carol@example.test',
    nameIdFormat: NAMEID_EMAIL,
    attributes: [{ name: 'email', values: ['carol@example.test'] }],
    sessionIndex: '_session',
    authnInstant: new Date(),
    sessionNotOnOrAfter: new Date(Date.now() + 3_600_000),
    now: new Date(),
    lifetimeSeconds: 300,
  });
  const assertion = xml.slice(xml.indexOf('<saml:Assertion '), xml.indexOf('</saml:Assertion>') + 17);
  return encryptedAssertionXml(assertion, encryptionCertPem, options);
}

/**
 * A sign-in at `idp`, answered by a Response `idp` signed around the EncryptedAssertion `encrypted`
 * makes for the AuthnRequest's ID: the broker's page after the ACS.
 */
async function signInAt(
  broker: BrokerUnderTest,
  pki: Pki,
  idp: SamlIdp,
  encrypted: (requestId: string) => Promise<string>,
): Promise<{ status: number; html: string }> {
  const portal = portalSp(broker.url, pki);
  const browser = new Browser();
  const choice = await browser.request(await portal.getAuthorizeUrlAsync('rs', undefined, {}));
  const toIdp = await browser.request(`${broker.url}/saml/choose`, {
    form: { csrf: formFields(await choice.text()).csrf!, idp: idp.name },
  });
  const redirect = new URL(toIdp.headers.get('location')!);
  const request = inflateRedirectPayload(redirect.searchParams.get('SAMLRequest')!);
  const requestId = /\sID="([^"]+)"/.exec(request)![1]!;
  const responseId = `_r${randomUUID()}`;
  const response =
    `<samlp:Response xmlns:samlp="${NS.protocol}" xmlns:saml="${NS.assertion}" ID="${responseId}" Version="2.0"` +
    ` IssueInstant="${new Date().toISOString()}" Destination="${broker.url}/saml/acs" InResponseTo="${requestId}">` +
    `<saml:Issuer>${idp.entityId}</saml:Issuer><samlp:Status><samlp:StatusCode Value="${STATUS_SUCCESS}"/></samlp:Status>` +
    `${await encrypted(requestId)}</samlp:Response>`;
  const signed = signEnveloped(response, { id: responseId, ...idp.key });
  const page = await browser.request(`${broker.url}/saml/acs`, {
    form: {
      SAMLResponse: Buffer.from(signed).toString('base64'),
      RelayState: redirect.searchParams.get('RelayState')!,
    },
  });
  return { status: page.status, html: await page.text() };
}

/** The AES EncryptionMethods of the SP metadata at `path`. */
async function contentMethods(broker: BrokerUnderTest, path: string): Promise<string[]> {
  const xml = await (await fetch(`${broker.url}${path}`)).text();
  return Array.from(
    new DOMParser().parseFromString(xml, 'text/xml').getElementsByTagNameNS(NS.metadata, 'EncryptionMethod'),
  )
    .map((m) => m.getAttribute('Algorithm')!)
    .filter((m) => m.includes('#aes'));
}

const CBC = { content: 'aes128-cbc' } as const;

describe('broker: a tenant with several upstream SAML IdPs decrypts AES-GCM only (ADR 0350)', () => {
  const home = idpOf('home', 'example.test');
  const partner = idpOf('partner', 'partner.test');
  let pki: Pki;
  let encryptionCertPem: string;
  let broker: BrokerUnderTest;

  before(async () => {
    pki = createPki();
    ({ broker, encryptionCertPem } = await brokerWith(pki, [idpDoc(home), idpDoc(partner)]));
  });
  after(async () => {
    await broker?.close();
    pki?.cleanup();
  });

  /** The home IdP's CBC EncryptedAssertion captured, written as `options` say, in a Response the partner IdP signed. */
  const partnerPosts = (options: AttackerEncryption, change: (xml: string) => string = (xml) => xml) =>
    signInAt(broker, pki, partner, async () =>
      change(
        await encryptedAssertion(broker, encryptionCertPem, home, '_a-request-of-the-home-idp', options),
      ),
    );

  /** `base64` ciphertext (IV || blocks) with `change` applied to its octets. */
  const altered = (change: (octets: Buffer) => void) => (base64: string) => {
    const octets = Buffer.from(base64, 'base64');
    change(octets);
    return octets.toString('base64');
  };
  /** Only the content's CipherValue is altered: testkit/xml-encryption.ts writes the wrapped key's first. */
  const alteringContent = (change: (octets: Buffer) => void): AttackerEncryption['cipherValue'] => {
    let written = 0;
    return (base64) => (written++ === 1 ? altered(change)(base64) : base64);
  };

  it("refuses the home IdP's AES-CBC ciphertext in a Response the partner IdP signed, as it is or altered, with one answer, before any RSA operation", async () => {
    const variants: [string, AttackerEncryption, ((xml: string) => string)?][] = [
      ['as captured', CBC],
      // The last block's padding byte made more than a block: a bad padding.
      ['its padding broken', { ...CBC, cipherValue: alteringContent((o) => (o[o.length - 17]! ^= 0x80)) }],
      // The first block garbled, the padding left whole: a good padding on a plaintext that is not XML.
      ['its first block garbled', { ...CBC, cipherValue: alteringContent((o) => (o[16]! ^= 0x01)) }],
      // The wrapped key is never opened: one that is no key of the broker's gets the same answer.
      [
        'its wrapped key replaced',
        CBC,
        (xml) => xml.replace(/(<xenc:EncryptedKey>[\s\S]*?<xenc:CipherValue>)[^<]+/, '$1AAAA'),
      ],
    ];
    const answers: Record<string, unknown> = {};
    for (const [what, options, change] of variants) {
      const { status, html } = await partnerPosts(options, change);
      expect(html).to.not.include('SAMLResponse');
      const login = broker.logs.findLast((l) => l['event'] === 'broker.login');
      answers[what] = { status, reason: pageReason(html), detail: login?.['detail'] };
    }
    const refusal = { status: 400, reason: 'SAML_ASSERTION_DECRYPTION_FAILED', detail: 'cbc_several_idps' };
    expect(answers).to.deep.equal(Object.fromEntries(variants.map(([what]) => [what, refusal])));
  });

  it("signs carol in from the home IdP's own AES-GCM assertion", async () => {
    const { status, html } = await signInAt(broker, pki, home, (requestId) =>
      encryptedAssertion(broker, encryptionCertPem, home, requestId, { content: 'aes256-gcm' }),
    );
    expect(status, html).to.equal(200);
    expect(formFields(html)['SAMLResponse']).to.be.a('string');
  });

  it('offers AES-GCM only in its SP metadata, shared and per IdP: no IdP is told to encrypt with AES-CBC', async () => {
    for (const path of [
      '/saml/sp-metadata',
      `/saml/sp-metadata/${home.name}`,
      `/saml/sp-metadata/${partner.name}`,
    ])
      expect(await contentMethods(broker, path), path).to.deep.equal([
        'http://www.w3.org/2009/xmlenc11#aes256-gcm',
        'http://www.w3.org/2009/xmlenc11#aes192-gcm',
        'http://www.w3.org/2009/xmlenc11#aes128-gcm',
      ]);
  });
});

/** Only its SAML IdPs share the keys: one beside an OIDC IdP is still the only one CBC is taken from. */
describe("broker: a tenant's one SAML IdP beside an OIDC IdP still decrypts AES-CBC in a Response it signed (ADR 0350)", () => {
  const home = idpOf('home', 'example.test');
  let pki: Pki;
  let acme: FakeOidc;
  let encryptionCertPem: string;
  let broker: BrokerUnderTest;

  before(async () => {
    pki = createPki();
    acme = await startFakeOidc('jsm-sso');
    ({ broker, encryptionCertPem } = await brokerWith(pki, [
      oidcIdp('acme', acme.issuer, { emailDomains: ['acme.test'] }),
      idpDoc(home),
    ]));
  });
  after(async () => {
    await broker?.close();
    await acme?.close();
    pki?.cleanup();
  });

  it('signs carol in from an AES-128-CBC assertion, and offers AES-CBC in its SP metadata', async () => {
    const { status, html } = await signInAt(broker, pki, home, (requestId) =>
      encryptedAssertion(broker, encryptionCertPem, home, requestId, CBC),
    );
    expect(status, html).to.equal(200);
    expect(formFields(html)['SAMLResponse']).to.be.a('string');
    expect(await contentMethods(broker, '/saml/sp-metadata')).to.include(
      'http://www.w3.org/2001/04/xmlenc#aes128-cbc',
    );
  });
});
