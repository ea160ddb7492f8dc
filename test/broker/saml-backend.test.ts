import { expect } from 'chai';
import { createSamlBackend, type SamlBackend } from '../../broker/backends/saml-backend.js';
import type { IdentityProviderSpec } from '../../common/config/tenant.generated.js';
import { MemoryFlowStore } from '../../common/flowstore/index.js';
import { NS, SamlError, verifyRedirectSignature } from '../../common/saml/index.js';
import { makeKeyPair } from '../../testkit/keys.js';
import { firstByName } from '../../testkit/saml-fixtures.js';
import { applyXsw, XSW_VARIANTS } from '../../testkit/xsw.js';
import {
  answerAuthnRequest,
  brokerAsSp,
  UPSTREAM_SLO as IDP_SLO,
  UPSTREAM_SSO as IDP_SSO,
  UPSTREAM_ENTITY_ID,
  type UpstreamIdp,
  type UpstreamSp,
  upstreamIdp,
} from './upstream-saml.js';

const BROKER = 'https://broker.example.test';

function idpSpec(metadataXml: string): IdentityProviderSpec {
  return { name: 'upstream', saml: { metadataXml }, attributeMapping: {} };
}

async function refusalCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    expect(err).to.be.instanceOf(SamlError);
    return (err as SamlError).code;
  }
  throw new Error('expected a refusal');
}

describe('SAML backend (broker as SP to an upstream SAML IdP)', () => {
  let store: MemoryFlowStore;
  let backend: SamlBackend;
  let idp: UpstreamIdp;
  let sp: UpstreamSp;
  const spKey = () => makeKeyPair('broker-sp.example.test');

  beforeEach(() => {
    store = new MemoryFlowStore();
    idp = upstreamIdp();
    backend = createSamlBackend({
      idp: idpSpec(idp.getMetadata()),
      brokerUrl: BROKER,
      spSigningKeyPem: spKey().keyPem,
      spCertPem: spKey().certPem,
      store,
    });
    sp = brokerAsSp(backend.spMetadataXml());
  });
  afterEach(async () => {
    await store.close();
  });

  /** The AuthnRequest of a redirect, once its signature over the raw query verifies with the SP key. */
  const signedAuthnRequest = (redirectUrl: string) =>
    verifyRedirectSignature(new URL(redirectUrl).search.slice(1), 'SAMLRequest', [spKey().certPem]);

  /** Runs startLogin, lets samlify (as the IdP) verify the AuthnRequest and answer it. */
  async function loginResponse(flowId = 'flow-1') {
    const { redirectUrl, requestId } = await backend.startLogin({ flowId });
    const answer = await answerAuthnRequest(idp, sp, redirectUrl, BROKER);
    expect(answer.requestId).to.equal(requestId);
    return { samlResponse: answer.samlResponse, requestId };
  }

  it('sends a signed AuthnRequest that samlify verifies, and accepts samlify-signed Response', async () => {
    const { samlResponse, requestId } = await loginResponse();
    const subject = await backend.handleAcs(samlResponse, 'flow-1', { upstreamRequestId: requestId });
    expect(subject.idp).to.equal('upstream');
    expect(subject.subject).to.equal('carol@example.test');
    expect(subject.claims['nameId']).to.equal('carol@example.test');
    expect(subject.claims['email']).to.equal('carol@example.test');
    expect(subject.authnContextClassRef).to.equal(
      'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport',
    );
    expect(subject.samlSession?.sessionIndex).to.equal('_session-9');
  });

  it('signs the AuthnRequest with the SP key over the raw query (our own verifier agrees)', async () => {
    const { redirectUrl, requestId } = await backend.startLogin({ flowId: 'flow-2', forceAuthn: true });
    const message = signedAuthnRequest(redirectUrl);
    expect(message.relayState).to.equal('flow-2');
    expect(message.xml)
      .to.include(`ID="${requestId}"`)
      .and.include(`AssertionConsumerServiceURL="${BROKER}/saml/acs"`);
    expect(message.xml)
      .to.include(`<saml:Issuer>${BROKER}/saml/sp-metadata</saml:Issuer>`)
      .and.include('ForceAuthn="true"');
  });

  it("keeps the query of an SSO URL such as Google Workspace's ?idpid= and signs only the SAML parameters", async () => {
    const ssoUrl = 'https://accounts.google.com/o/saml2/idp?idpid=C01abc234';
    const google = createSamlBackend({
      idp: {
        name: 'google',
        saml: {
          entityId: 'https://accounts.google.com/o/saml2?idpid=C01abc234',
          ssoUrl,
          certificates: [spKey().certPem],
        },
        attributeMapping: {},
      },
      brokerUrl: BROKER,
      spSigningKeyPem: spKey().keyPem,
      spCertPem: spKey().certPem,
      store,
    });
    const { redirectUrl, requestId } = await google.startLogin({ flowId: 'flow-g' });
    expect(redirectUrl.startsWith(`${ssoUrl}&SAMLRequest=`), redirectUrl).to.equal(true);
    expect(new URL(redirectUrl).searchParams.get('idpid')).to.equal('C01abc234');
    const message = signedAuthnRequest(redirectUrl);
    expect(message.relayState).to.equal('flow-g');
    expect(message.xml).to.include(`ID="${requestId}"`).and.include(`Destination="${ssoUrl}"`);
  });

  it('refuses a Response replayed to a second login', async () => {
    const { samlResponse, requestId } = await loginResponse();
    await backend.handleAcs(samlResponse, 'flow-1', { upstreamRequestId: requestId });
    expect(
      await refusalCode(backend.handleAcs(samlResponse, 'flow-1', { upstreamRequestId: requestId })),
    ).to.equal('SAML_IN_RESPONSE_TO_MISMATCH');
  });

  it('refuses a Response for another flow (InResponseTo bound to the flow)', async () => {
    const first = await loginResponse('flow-a');
    const second = await backend.startLogin({ flowId: 'flow-b' });
    expect(
      await refusalCode(
        backend.handleAcs(first.samlResponse, 'flow-b', { upstreamRequestId: second.requestId }),
      ),
    ).to.equal('SAML_IN_RESPONSE_TO_MISMATCH');
  });

  it('refuses a Response signed by another key than the metadata names', async () => {
    const other = createSamlBackend({
      idp: {
        name: 'upstream',
        saml: {
          entityId: UPSTREAM_ENTITY_ID,
          ssoUrl: IDP_SSO,
          certificates: [makeKeyPair('someone-else').certPem],
        },
        attributeMapping: {},
      },
      brokerUrl: BROKER,
      spSigningKeyPem: spKey().keyPem,
      spCertPem: spKey().certPem,
      store,
    });
    const { samlResponse } = await loginResponse('flow-c');
    const { requestId } = await other.startLogin({ flowId: 'flow-c' });
    // samlify's Response answers the first request; bind the flow to it to reach the signature check.
    await store.put('saml-authn-request:flow-c', requestId, 60);
    expect(
      await refusalCode(other.handleAcs(samlResponse, 'flow-c', { upstreamRequestId: requestId })),
    ).to.be.oneOf(['SAML_SIGNATURE_INVALID', 'SAML_IN_RESPONSE_TO_MISMATCH']);
  });

  for (const variant of XSW_VARIANTS) {
    it(`refuses ${variant} on a samlify-signed Response`, async () => {
      const { samlResponse, requestId } = await loginResponse(`flow-${variant}`);
      const xml = Buffer.from(samlResponse, 'base64').toString('utf8');
      // samlify signs the Assertion only, so every variant wraps the signed Assertion.
      const attack = applyXsw(xml, variant, {
        select: (root) => firstByName(root, NS.assertion, 'Assertion'),
        tamper: (evil) => {
          firstByName(evil, NS.assertion, 'NameID').textContent = 'admin@example.test';
        },
      });
      const code = await refusalCode(
        backend.handleAcs(Buffer.from(attack).toString('base64'), `flow-${variant}`, {
          upstreamRequestId: requestId,
        }),
      );
      expect(code).to.be.oneOf([
        'SAML_ASSERTION_COUNT',
        'SAML_ID_NOT_UNIQUE',
        'SAML_SIGNATURE_REFERENCE_INVALID',
      ]);
    });
  }

  it('publishes SP metadata with the signing certificate and the ACS', () => {
    const xml = backend.spMetadataXml();
    expect(xml)
      .to.include(`entityID="${BROKER}/saml/sp-metadata"`)
      .and.include(`Location="${BROKER}/saml/acs"`);
    expect(xml).to.include('AuthnRequestsSigned="true"');
  });

  it('builds a signed LogoutRequest to the IdP SLO endpoint', async () => {
    const logout = await backend.logoutUrl(
      {
        nameId: 'carol@example.test',
        nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
        sessionIndex: '_s1',
      },
      'logout-state',
    );
    expect(logout?.redirectUrl).to.match(new RegExp(`^${IDP_SLO}\\?SAMLRequest=`));
    const message = verifyRedirectSignature(new URL(logout!.redirectUrl).search.slice(1), 'SAMLRequest', [
      spKey().certPem,
    ]);
    expect(message.xml).to.include('<samlp:SessionIndex>_s1</samlp:SessionIndex>');
    expect(message.xml).to.include(`ID="${logout!.requestId}"`);
    expect(message.relayState).to.equal('logout-state');
  });

  it('fetches metadata from metadataUrl once per hour', async () => {
    let calls = 0;
    let clock = Date.parse('2030-01-01T00:00:00Z');
    const fetched = createSamlBackend({
      idp: {
        name: 'upstream',
        saml: { metadataUrl: UPSTREAM_ENTITY_ID },
        attributeMapping: {},
      },
      brokerUrl: BROKER,
      spSigningKeyPem: spKey().keyPem,
      spCertPem: spKey().certPem,
      store,
      now: () => new Date(clock),
      fetch: async () => {
        calls += 1;
        return new Response(idp.getMetadata(), { status: 200 });
      },
    });
    await fetched.startLogin({ flowId: 'm1' });
    await fetched.startLogin({ flowId: 'm2' });
    expect(calls).to.equal(1);
    clock += 61 * 60 * 1000;
    await fetched.startLogin({ flowId: 'm3' });
    expect(calls).to.equal(2);
  });

  const backendWithMetadataAt = (metadataUrl: string) =>
    createSamlBackend({
      idp: { name: 'upstream', saml: { metadataUrl }, attributeMapping: {} },
      brokerUrl: BROKER,
      spSigningKeyPem: spKey().keyPem,
      spCertPem: spKey().certPem,
      store,
      fetch: async () => new Response(idp.getMetadata()),
    });

  it('refuses metadata over plain http', async () => {
    const insecure = backendWithMetadataAt('http://upstream-idp.example.test/metadata');
    expect(await refusalCode(insecure.startLogin({ flowId: 'x' }))).to.equal('SAML_METADATA_UNAVAILABLE');
  });

  it('accepts plain http metadata on loopback only, as the CRD does (local development)', async () => {
    const local = backendWithMetadataAt('http://127.0.0.1:9/metadata');
    expect((await local.startLogin({ flowId: 'y' })).redirectUrl).to.be.a('string');
  });
});
