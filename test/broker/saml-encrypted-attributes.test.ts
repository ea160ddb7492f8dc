// An upstream SAML IdP that encrypts attributes (core 2.7.3.2; Shibboleth IdP's `encryptAttributes`):
// samlify signs the Assertion, xmlsec1 encrypts each EncryptedAttribute for the certificate the broker
// publishes, node-saml plays the portal (ADR 0355).
import { expect } from 'chai';
import { NS } from '../../common/saml/index.js';
import {
  type BrokerUnderTest,
  Browser,
  formFields,
  type Pki,
  pageReason,
  portalSp,
  useEncryptionKey,
} from '../../testkit/broker-harness.js';
import { encryptedAttributeXml } from '../../testkit/xml-encryption.js';
import { xmlsecEncryptAttribute } from '../../testkit/xmlsec.js';
import {
  serveUpstreamSamlBroker,
  signInAtUpstreamIdp,
  type UpstreamAnswer,
  type UpstreamIdp,
  type UpstreamSamlBroker,
} from './upstream-saml.js';

const TRANSIENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient';
const XMLENC = 'http://www.w3.org/2001/04/xmlenc#';

/** `<saml:Attribute>` standing alone, with its own declaration, as OpenSAML marshals it before encrypting. */
const attributeXml = (name: string, values: readonly string[]) =>
  `<saml:Attribute xmlns:saml="${NS.assertion}" Name="${name}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic">` +
  `${values.map((v) => `<saml:AttributeValue>${v}</saml:AttributeValue>`).join('')}</saml:Attribute>`;

describe('broker: an upstream SAML IdP encrypting attributes (ADR 0355)', () => {
  let served: UpstreamSamlBroker;
  let pki: Pki;
  let idp: UpstreamIdp;
  let broker: BrokerUnderTest;
  let encryptionCertPem: string;

  before(async () => {
    served = await serveUpstreamSamlBroker({
      claims: ['email', 'groups'],
      extra: (spec, brokerPki) => {
        const encryption = useEncryptionKey(brokerPki);
        encryptionCertPem = encryption.pair.certPem;
        spec.broker.encryptionSecretRef = { name: encryption.secretName };
      },
    });
    ({ pki, idp, broker } = served);
  });
  after(() => served?.close());

  /** `name`'s values encrypted by xmlsec1 for the broker (AES-128-GCM under RSA-OAEP). */
  const xmlsecEncrypted = (name: string, values: readonly string[]) => {
    const out = xmlsecEncryptAttribute(attributeXml(name, values), encryptionCertPem, {
      content: 'http://www.w3.org/2009/xmlenc11#aes128-gcm',
      sessionKey: 'aes-128',
      transport: `${XMLENC}rsa-oaep-mgf1p`,
    });
    return /<saml:EncryptedAttribute[\s\S]*<\/saml:EncryptedAttribute>/.exec(out)![0];
  };

  /** A sign-in the upstream IdP answers with `answer`: the broker's page after its ACS, and the portal. */
  async function signIn(answer: UpstreamAnswer) {
    const portal = portalSp(broker.url, pki);
    const through = { browser: new Browser(), portal, brokerUrl: broker.url, idp, relayState: 'rs-enc' };
    const page = await signInAtUpstreamIdp(through, answer);
    return { portal, status: page.status, html: await page.text() };
  }

  it('signs carol in whose e-mail and one of whose groups the IdP encrypted, her NameID transient', async () => {
    const { portal, status, html } = await signIn({
      nameId: '_transient-7f3a',
      nameIdFormat: TRANSIENT,
      attributes: { groups: ['jsm-customers'] },
      attributesXml: `${xmlsecEncrypted('email', ['carol@example.test'])}${xmlsecEncrypted('groups', ['jsm-agents'])}`,
    });
    expect(status, pageReason(html)).to.equal(200);
    const { profile } = await portal.validatePostResponseAsync(formFields(html));
    expect(profile?.nameID).to.equal('carol@example.test');
    expect(profile?.['email']).to.equal('carol@example.test');
    // The plain Attribute and the EncryptedAttribute of one Name are one attribute's values.
    expect(profile?.['groups']).to.deep.equal(['jsm-customers', 'jsm-agents']);
    const audit = broker.logs.findLast((l) => l['event'] === 'broker.login');
    expect(audit).to.include({ idp: 'upstream', result: 'success' });
  });

  it('refuses an EncryptedAttribute holding no Attribute, its log line saying so', async () => {
    const nameId = `<saml:NameID xmlns:saml="${NS.assertion}">admin@example.test</saml:NameID>`;
    const { status, html } = await signIn({
      nameId: 'carol@example.test',
      attributes: { email: ['carol@example.test'] },
      attributesXml: encryptedAttributeXml(nameId, encryptionCertPem),
    });
    expect([status, pageReason(html)]).to.deep.equal([400, 'SAML_ASSERTION_DECRYPTION_FAILED']);
    expect(html).to.not.include('SAMLResponse');
    const audit = broker.logs.findLast((l) => l['event'] === 'broker.login');
    expect(audit).to.include({ result: 'refused', detail: 'plaintext_not_attribute' });
  });
});
