import { expect } from 'chai';
import { IDP_TIMEOUT_MS } from '../../broker/app.js';
import type { Backend } from '../../broker/backends/backend.js';
import {
  createSamlBackend,
  type SamlBackendOptions,
  subjectFrom,
} from '../../broker/backends/saml-backend.js';
import type { IdentityProviderSpec } from '../../common/config/tenant.generated.js';
import { JsmSsoError } from '../../common/errors.js';
import { MemoryFlowStore } from '../../common/flowstore/index.js';
import { createLogger } from '../../common/log.js';
import {
  buildIdpMetadata,
  certificateBase64,
  NAMEID_EMAIL,
  NS,
  type SamlError,
  signRedirectQuery,
  verifyRedirectSignature,
} from '../../common/saml/index.js';
import { createSealer } from '../../common/sealer.js';
import { createHostLookup, createTlsFetch } from '../../common/tls/index.js';
import { makeIssuedKeyPair, makeKeyPair } from '../../testkit/keys.js';
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
  return { name: 'upstream', saml: { metadataXml }, attributeMapping: {}, emailTrust: 'asserted' };
}

const sealer = createSealer('test key material', 'test', 'logout-handle');

function backendFor(
  idp: IdentityProviderSpec,
  store: MemoryFlowStore,
  more: Partial<SamlBackendOptions> & { now?: () => Date } = {},
): Backend {
  const { now = () => new Date(), ...rest } = more;
  const signing = makeKeyPair('broker-sp.example.test');
  return createSamlBackend({
    idp,
    brokerUrl: BROKER,
    spSigningKeyPem: signing.keyPem,
    stateKeyMaterial: signing.keyPem,
    spCertPem: signing.certPem,
    context: {
      store,
      sessions: { endUpstreamSession: async () => 'no_session' },
      flowTtlSeconds: 600,
      now,
      logger: createLogger({ component: 'test', level: 'silent' }),
      idpTimeoutMs: IDP_TIMEOUT_MS,
      keyReadFailed: () => undefined,
    },
    sealer,
    downstreamEntityId: 'https://portal.example.test/saml/metadata',
    soleSamlIdp: true,
    ...rest,
  });
}

const PROMPT = { forceAuthn: false, isPassive: false };
const posted = (samlResponse: string) => ({
  rawQuery: '',
  form: new URLSearchParams({ SAMLResponse: samlResponse }),
});

async function refusalCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    // SAML's own refusals, or the outbound client's (UPSTREAM_RESPONSE_TOO_LARGE, ADR 0149).
    expect(err).to.be.instanceOf(JsmSsoError);
    return (err as JsmSsoError).code;
  }
  throw new Error('expected a refusal');
}

describe('SAML backend (broker as SP to an upstream SAML IdP)', () => {
  let store: MemoryFlowStore;
  let backend: Backend;
  let idp: UpstreamIdp;
  let sp: UpstreamSp;
  const spKey = () => makeKeyPair('broker-sp.example.test');

  beforeEach(async () => {
    store = new MemoryFlowStore();
    idp = upstreamIdp();
    backend = backendFor(idpSpec(idp.getMetadata()), store);
    sp = brokerAsSp(await spMetadataXml());
  });
  afterEach(async () => {
    await store.close();
  });

  /** The AuthnRequest of a redirect, once its signature over the raw query verifies with the SP key. */
  const signedAuthnRequest = (redirectUrl: string) =>
    verifyRedirectSignature(new URL(redirectUrl).search.slice(1), 'SAMLRequest', [spKey().certPem]);

  async function spMetadataXml(): Promise<string> {
    const answer = await backend.services
      .find((s) => s.path === '/saml/sp-metadata')!
      .serve({ rawQuery: '' });
    if (answer.kind !== 'metadata') throw new Error('no metadata');
    return answer.xml;
  }

  /** Runs startLogin, lets samlify (as the IdP) verify the AuthnRequest and answer it. */
  async function loginResponse(flowId = 'flow-1') {
    const { redirectUrl, state } = await backend.startLogin(flowId, PROMPT);
    const answer = await answerAuthnRequest(idp, sp, redirectUrl, BROKER);
    expect(answer.requestId).to.equal(JSON.parse(state).requestId);
    return { samlResponse: answer.samlResponse, state };
  }

  it('sends a signed AuthnRequest that samlify verifies, and accepts samlify-signed Response', async () => {
    const { samlResponse, state } = await loginResponse();
    const { subject, logoutHandle, upstreamSessionKey } = await backend.finishLogin(
      posted(samlResponse),
      state,
    );
    expect(subject.idp).to.equal('upstream');
    expect(subject.subject).to.equal('carol@example.test');
    expect(subject.claims['nameId']).to.equal('carol@example.test');
    expect(subject.claims['email']).to.equal('carol@example.test');
    expect(subject.authnContextClassRef).to.equal(
      'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport',
    );
    expect(JSON.parse(sealer.open(logoutHandle!)).sessionIndex).to.equal('_session-9');
    // Sealed and hashed: the NameID (an e-mail here) is in neither in clear, nor merely encoded. The
    // whole address is looked for: 'carol' alone can turn up by chance in random base64url.
    expect(logoutHandle).to.not.include('carol@example.test');
    expect(Buffer.from(logoutHandle!, 'base64url').toString('latin1')).to.not.include('carol@example.test');
    expect(upstreamSessionKey, 'an HMAC-SHA-256 in hex').to.match(/^[0-9a-f]{64}$/);
  });

  it('signs the AuthnRequest with the SP key over the raw query (our own verifier agrees)', async () => {
    const { redirectUrl, state } = await backend.startLogin('flow-2', { forceAuthn: true, isPassive: false });
    const message = signedAuthnRequest(redirectUrl);
    expect(message.relayState).to.equal('flow-2');
    expect(message.xml)
      .to.include(`ID="${JSON.parse(state).requestId}"`)
      .and.include(`AssertionConsumerServiceURL="${BROKER}/saml/acs"`);
    expect(message.xml)
      .to.include(`<saml:Issuer>${BROKER}/saml/sp-metadata</saml:Issuer>`)
      .and.include('ForceAuthn="true"');
  });

  it("keeps the query of an SSO URL such as Google Workspace's ?idpid= and signs only the SAML parameters", async () => {
    const ssoUrl = 'https://accounts.google.com/o/saml2/idp?idpid=C01abc234';
    const google = backendFor(
      {
        name: 'google',
        saml: {
          entityId: 'https://accounts.google.com/o/saml2?idpid=C01abc234',
          ssoUrl,
          certificates: [spKey().certPem],
        },
        attributeMapping: {},
        emailTrust: 'asserted',
      },
      store,
    );
    const { redirectUrl, state } = await google.startLogin('flow-g', PROMPT);
    expect(redirectUrl.startsWith(`${ssoUrl}&SAMLRequest=`), redirectUrl).to.equal(true);
    expect(new URL(redirectUrl).searchParams.get('idpid')).to.equal('C01abc234');
    const message = signedAuthnRequest(redirectUrl);
    expect(message.relayState).to.equal('flow-g');
    expect(message.xml)
      .to.include(`ID="${JSON.parse(state).requestId}"`)
      .and.include(`Destination="${ssoUrl}"`);
  });

  it('refuses a Response replayed with the same login state (assertion ID used once)', async () => {
    const { samlResponse, state } = await loginResponse();
    await backend.finishLogin(posted(samlResponse), state);
    expect(await refusalCode(backend.finishLogin(posted(samlResponse), state))).to.equal('SAML_REPLAY');
  });

  it('refuses a Response for another flow (InResponseTo bound to the flow)', async () => {
    const first = await loginResponse('flow-a');
    const second = await backend.startLogin('flow-b', PROMPT);
    expect(await refusalCode(backend.finishLogin(posted(first.samlResponse), second.state))).to.equal(
      'SAML_IN_RESPONSE_TO_MISMATCH',
    );
  });

  it('refuses a Response signed by another key than the metadata names', async () => {
    const other = backendFor(
      {
        name: 'upstream',
        saml: {
          entityId: UPSTREAM_ENTITY_ID,
          ssoUrl: IDP_SSO,
          certificates: [makeKeyPair('someone-else').certPem],
        },
        attributeMapping: {},
        emailTrust: 'asserted',
      },
      store,
    );
    // samlify's Response answers the first request; the state names it to reach the signature check.
    const { samlResponse, state } = await loginResponse('flow-c');
    expect(await refusalCode(other.finishLogin(posted(samlResponse), state))).to.equal(
      'SAML_SIGNATURE_INVALID',
    );
  });

  describe("an IdP's signing certificate published with its CA's in one X509Data (XML-DSig: one key, the others its chain; ADR 0244)", () => {
    const ca = makeKeyPair('upstream-idp.example.test CA');
    const issued = makeIssuedKeyPair('upstream-idp.example.test issued', ca);
    const base64 = (pair: { certPem: string }) => certificateBase64(pair.certPem);
    /** The IdP's metadata, its one signing KeyDescriptor holding the chain in this order. */
    const metadataWithChain = (chain: ReadonlyArray<{ certPem: string }>) =>
      buildIdpMetadata({
        entityId: UPSTREAM_ENTITY_ID,
        ssoUrl: IDP_SSO,
        sloUrl: IDP_SLO,
        signingCertificates: [base64(issued)],
        nameIdFormats: [NAMEID_EMAIL],
      }).replace(
        `<ds:X509Certificate>${base64(issued)}</ds:X509Certificate>`,
        chain.map((c) => `<ds:X509Certificate>${base64(c)}</ds:X509Certificate>`).join(''),
      );
    /** A sign-in at a broker reading `metadataXml`, answered by the IdP signing with `key`. */
    async function signInSignedWith(metadataXml: string, key: { keyPem: string; certPem: string }) {
      const chained = backendFor(idpSpec(metadataXml), store);
      const { redirectUrl, state } = await chained.startLogin('flow-chain', PROMPT);
      const answer = await answerAuthnRequest(upstreamIdp({ key }), sp, redirectUrl, BROKER);
      return chained.finishLogin(posted(answer.samlResponse), state);
    }

    for (const [order, chain] of [
      ['its own certificate first', [issued, ca]],
      ["the CA's first", [ca, issued]],
    ] as const) {
      it(`refuses a Response signed with the CA's key, and takes one signed with the IdP's (${order})`, async () => {
        expect(metadataWithChain(chain)).to.include(base64(ca));
        expect(await refusalCode(signInSignedWith(metadataWithChain(chain), ca))).to.equal(
          'SAML_SIGNATURE_INVALID',
        );
        const { subject } = await signInSignedWith(metadataWithChain(chain), issued);
        expect(subject.subject).to.equal('carol@example.test');
      });
    }

    it('keeps both keys of an X509Data holding two certificates neither of which issued the other (a rollover packed in one), and still no CA', async () => {
      const next = makeKeyPair('upstream-idp.example.test next');
      const twoKeys = metadataWithChain([issued, ca, next]);
      expect((await signInSignedWith(twoKeys, issued)).subject.subject).to.equal('carol@example.test');
      expect((await signInSignedWith(twoKeys, next)).subject.subject).to.equal('carol@example.test');
      expect(await refusalCode(signInSignedWith(twoKeys, ca))).to.equal('SAML_SIGNATURE_INVALID');
    });
  });

  for (const variant of XSW_VARIANTS) {
    it(`refuses ${variant} on a samlify-signed Response`, async () => {
      const { samlResponse, state } = await loginResponse(`flow-${variant}`);
      const xml = Buffer.from(samlResponse, 'base64').toString('utf8');
      // samlify signs the Assertion only, so every variant wraps the signed Assertion.
      const attack = applyXsw(xml, variant, {
        select: (root) => firstByName(root, NS.assertion, 'Assertion'),
        tamper: (evil) => {
          firstByName(evil, NS.assertion, 'NameID').textContent = 'admin@example.test';
        },
      });
      const code = await refusalCode(
        backend.finishLogin(posted(Buffer.from(attack).toString('base64')), state),
      );
      expect(code).to.be.oneOf([
        'SAML_ASSERTION_COUNT',
        'SAML_ID_NOT_UNIQUE',
        'SAML_SIGNATURE_REFERENCE_INVALID',
      ]);
    });
  }

  it('publishes SP metadata with the signing certificate and the ACS', async () => {
    const xml = await spMetadataXml();
    expect(xml)
      .to.include(`entityID="${BROKER}/saml/sp-metadata"`)
      .and.include(`Location="${BROKER}/saml/acs"`);
    expect(xml).to.include('AuthnRequestsSigned="true"');
  });

  it('builds a signed LogoutRequest to the IdP SLO endpoint from the sealed logout handle', async () => {
    const handle = sealer.seal(
      JSON.stringify({
        nameId: 'carol@example.test',
        nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
        sessionIndex: '_s1',
      }),
    );
    const logout = await backend.startLogout(handle, 'logout-state');
    expect(logout?.redirectUrl).to.match(new RegExp(`^${IDP_SLO}\\?SAMLRequest=`));
    const message = verifyRedirectSignature(new URL(logout!.redirectUrl).search.slice(1), 'SAMLRequest', [
      spKey().certPem,
    ]);
    expect(message.xml).to.include('<samlp:SessionIndex>_s1</samlp:SessionIndex>');
    expect(message.xml).to.include(`ID="${logout!.state}"`);
    expect(message.relayState).to.equal('logout-state');
  });

  it('builds no LogoutRequest from a logout handle the broker did not seal (forged or from a rotated key)', async () => {
    const forged = Buffer.from('{"nameId":"victim@example.test"}').toString('base64url');
    expect(await backend.startLogout(forged, 'logout-state')).to.equal(undefined);
    const otherKey = createSealer('another key', 'test', 'logout-handle').seal(
      '{"nameId":"victim@example.test"}',
    );
    expect(await backend.startLogout(otherKey, 'logout-state')).to.equal(undefined);
  });

  it('fetches metadata from metadataUrl once per hour', async () => {
    let calls = 0;
    let clock = Date.parse('2030-01-01T00:00:00Z');
    const fetched = backendFor(
      {
        name: 'upstream',
        saml: { metadataUrl: UPSTREAM_ENTITY_ID },
        attributeMapping: {},
        emailTrust: 'asserted',
      },
      store,
      {
        now: () => new Date(clock),
        fetch: async () => {
          calls += 1;
          return new Response(idp.getMetadata(), { status: 200 });
        },
      },
    );
    await fetched.startLogin('m1', PROMPT);
    await fetched.startLogin('m2', PROMPT);
    expect(calls).to.equal(1);
    clock += 61 * 60 * 1000;
    await fetched.startLogin('m3', PROMPT);
    expect(calls).to.equal(2);
  });

  const backendWithMetadataAt = (
    metadataUrl: string,
    answer: () => Response = () => new Response(idp.getMetadata()),
  ) =>
    backendFor(
      { name: 'upstream', saml: { metadataUrl }, attributeMapping: {}, emailTrust: 'asserted' },
      store,
      { fetch: async () => answer() },
    );

  /** A metadata body of `total` bytes, made chunk by chunk as it is read; counts what was read. */
  function endlessMetadata(total: number, headers: Record<string, string> = {}) {
    const chunk = Buffer.alloc(64 * 1024, ' ');
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= total) return controller.close();
        pulled += chunk.length;
        controller.enqueue(
          pulled === chunk.length ? Buffer.from(`<md:EntityDescriptor${chunk.subarray(20)}`) : chunk,
        );
      },
    });
    return { response: new Response(body, { headers }), pulled: () => pulled };
  }

  it('claims no LogoutRequest at the shared /saml/slo while its metadata cannot be read: the next party is asked instead of a 502 (ADR 0228)', async () => {
    const sloClaims = (backend: Backend) => {
      const endpoint = backend.services.find((s) => s.path === '/saml/slo')!;
      return (issuer: string) => {
        const xml =
          `<samlp:LogoutRequest xmlns:samlp="${NS.protocol}" xmlns:saml="${NS.assertion}" ID="_claims" Version="2.0" IssueInstant="${new Date().toISOString()}">` +
          `<saml:Issuer>${issuer}</saml:Issuer><saml:NameID>carol@example.test</saml:NameID></samlp:LogoutRequest>`;
        return endpoint.claims({
          rawQuery: signRedirectQuery('SAMLRequest', xml, { keyPem: spKey().keyPem }),
        });
      };
    };
    const down = sloClaims(
      backendWithMetadataAt(UPSTREAM_ENTITY_ID, () => new Response('down', { status: 503 })),
    );
    expect(await down('https://portal.example.test/saml/metadata'), "the portal's").to.equal(false);
    expect(await down(UPSTREAM_ENTITY_ID), 'its own, unknowable now').to.equal(false);
    expect(await sloClaims(backendWithMetadataAt(UPSTREAM_ENTITY_ID))(UPSTREAM_ENTITY_ID)).to.equal(true);
  });

  it('stops reading metadata at 1 MiB and refuses it (a hostile or broken metadataUrl cannot fill memory)', async () => {
    const huge = endlessMetadata(256 * 1024 * 1024);
    const backend = backendWithMetadataAt(UPSTREAM_ENTITY_ID, () => huge.response);
    const refused = await refusalCode(backend.startLogin('big', PROMPT));
    expect(refused).to.equal('UPSTREAM_RESPONSE_TOO_LARGE');
    expect(huge.pulled(), 'bytes read').to.be.at.most(1024 * 1024 + 2 * 64 * 1024);
  });

  it("says UPSTREAM_DNS_TIMEOUT, not SAML_METADATA_UNAVAILABLE, when the metadata host's name gets no answer (ADR 0206)", async () => {
    // The outbound client with a resolver that never answers, as test/faults/dns-never-answers.test.ts
    // shows the system's does when its DNS server drops the queries.
    const neverAnswers = createHostLookup({ deadlineMs: 50, resolveAll: () => undefined });
    const fetch = createTlsFetch({ lookup: neverAnswers });
    try {
      const backend = backendFor(
        {
          name: 'upstream',
          saml: { metadataUrl: 'https://idp.never-resolves.test/metadata' },
          attributeMapping: {},
          emailTrust: 'asserted',
        },
        store,
        { fetch },
      );
      expect(await refusalCode(backend.startLogin('dns', PROMPT))).to.equal('UPSTREAM_DNS_TIMEOUT');
    } finally {
      await fetch.close();
    }
  });

  it('refuses metadata whose Content-Length is over 1 MiB without reading its body', async () => {
    const declared = endlessMetadata(8 * 1024 * 1024, { 'content-length': String(8 * 1024 * 1024) });
    const backend = backendWithMetadataAt(UPSTREAM_ENTITY_ID, () => declared.response);
    expect(await refusalCode(backend.startLogin('declared', PROMPT))).to.equal('UPSTREAM_RESPONSE_TOO_LARGE');
    expect(declared.pulled(), 'bytes read').to.be.at.most(64 * 1024);
  });

  it('answers metadata with a DOCTYPE, nested too deep or not UTF-8 as unusable metadata (502), not as a bad request', async () => {
    const hostile = [
      `<!DOCTYPE x [<!ENTITY a SYSTEM "file:///etc/passwd">]>${idp.getMetadata().replace(/^<\?xml[^>]*\?>/, '')}`,
      `<r>${'<a>'.repeat(100)}${'</a>'.repeat(100)}</r>`,
    ];
    for (const xml of hostile) {
      const backend = backendWithMetadataAt(UPSTREAM_ENTITY_ID, () => new Response(xml));
      const err = await backend.startLogin('hostile', PROMPT).then(
        () => undefined,
        (e: unknown) => e as SamlError,
      );
      expect(err?.code).to.equal('SAML_METADATA_INVALID');
      expect(err?.status).to.equal(502);
    }
    const latin1 = Buffer.concat([Buffer.from(idp.getMetadata()), Buffer.from([0xe9])]);
    const backend = backendWithMetadataAt(UPSTREAM_ENTITY_ID, () => new Response(latin1));
    expect(await refusalCode(backend.startLogin('latin1', PROMPT))).to.equal('SAML_METADATA_INVALID');
  });

  it("serves its SP metadata and every endpoint under the broker URL's path (a broker at /sso beside the portal at /)", () => {
    const atPath = backendFor(idpSpec(idp.getMetadata()), store, { brokerUrl: `${BROKER}/sso` });
    const paths = [
      atPath.loginCallback.path,
      atPath.logoutCallback?.path,
      atPath.soapLogout?.path,
      ...atPath.services.map((service) => service.path),
    ];
    expect(paths).to.include('/sso/saml/sp-metadata');
    expect(paths.filter((path) => !path?.startsWith('/sso/'))).to.deep.equal([]);
  });

  it('refuses metadata over plain http', async () => {
    const insecure = backendWithMetadataAt('http://upstream-idp.example.test/metadata');
    expect(await refusalCode(insecure.startLogin('x', PROMPT))).to.equal('SAML_METADATA_UNAVAILABLE');
  });

  it('accepts plain http metadata on loopback only, as the CRD does (local development)', async () => {
    const local = backendWithMetadataAt('http://127.0.0.1:9/metadata');
    expect((await local.startLogin('y', PROMPT)).redirectUrl).to.be.a('string');
  });
});

describe("SAML backend: an assertion's attributes as claims", () => {
  it("keeps an attribute named __proto__ as a claim of its own, never the claims' prototype", () => {
    // As common/saml/attribute-statement.ts reads them: no prototype, every Name an own key.
    const attributes: Record<string, string[]> = Object.assign(
      Object.create(null),
      JSON.parse('{"__proto__": ["first", "second"], "email": ["pat@partner.test"]}'),
    );
    const { claims } = subjectFrom('upstream', {
      issuer: UPSTREAM_ENTITY_ID,
      nameId: 'pat@partner.test',
      nameIdFormat: NAMEID_EMAIL,
      nameIdQualifiers: {},
      attributes,
      authenticatingAuthorities: [],
      notOnOrAfter: new Date(Date.now() + 60_000),
      assertionId: '_a1',
    } as Parameters<typeof subjectFrom>[1]);
    expect(Object.getPrototypeOf(claims)).to.not.be.an('array');
    expect((claims as { length?: unknown }).length).to.equal(undefined);
    expect(Object.keys(claims)).to.include('__proto__');
    expect(Object.getOwnPropertyDescriptor(claims, '__proto__')?.value).to.deep.equal(['first', 'second']);
    expect(claims['email']).to.equal('pat@partner.test');
  });
});
