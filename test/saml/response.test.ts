import { createPrivateKey } from 'node:crypto';
import { expect } from 'chai';
import { MemoryFlowStore } from '../../common/flowstore/index.js';
import {
  MAX_CLOCK_SKEW_SECONDS,
  NS,
  SamlError,
  signEnveloped,
  validateSamlResponse,
} from '../../common/saml/index.js';
import { makeKeyPair } from '../../testkit/keys.js';
import {
  ACS_URL,
  attackerKey,
  defaultParts,
  editXml,
  expectedFor,
  firstByName,
  idpKey,
  NOW,
  type ResponseParts,
  responseXml,
  SP_ENTITY_ID,
  signedResponse,
} from '../../testkit/saml-fixtures.js';
import {
  signatureTemplate,
  type XmlsecEncryption,
  xmlsecEncryptAssertion,
  xmlsecSign,
  xmlsecVerify,
} from '../../testkit/xmlsec.js';
import { applyXsw, XSW_VARIANTS, type XswVariant } from '../../testkit/xsw.js';

let store: MemoryFlowStore;
beforeEach(() => {
  store = new MemoryFlowStore();
});
afterEach(async () => {
  await store.close();
});

async function validate(xml: string, overrides: Record<string, unknown> = {}) {
  return validateSamlResponse(xml, expectedFor(overrides), store);
}

async function refusalCode(xml: string, overrides: Record<string, unknown> = {}): Promise<string> {
  try {
    await validate(xml, overrides);
  } catch (err) {
    expect(err).to.be.instanceOf(SamlError);
    expect((err as SamlError).status).to.equal(400);
    return (err as SamlError).code;
  }
  throw new Error('expected a refusal');
}

const withParts = (overrides: Partial<ResponseParts>, options = {}) =>
  signedResponse(defaultParts(overrides), options);

/** A signed Response whose AuthnStatement has `name` set to `time`. */
function withAuthnStatementTime(name: 'AuthnInstant' | 'SessionNotOnOrAfter', time: Date): string {
  const parts = defaultParts();
  return signEnveloped(
    editXml(responseXml(parts), (root) => {
      firstByName(root, NS.assertion, 'AuthnStatement').setAttribute(name, time.toISOString());
    }),
    { id: parts.assertionId, ...idpKey() },
  );
}

describe('validateSamlResponse', () => {
  it('accepts a Response with a signed Assertion and returns what was asserted', async () => {
    const parts = defaultParts();
    const result = await validate(signedResponse(parts));
    expect(result).to.deep.include({
      issuer: parts.issuer,
      nameId: 'alice@example.test',
      nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
      sessionIndex: '_session-1',
      authnContextClassRef: 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport',
      assertionId: parts.assertionId,
    });
    expect(result.attributes).to.deep.equal({
      email: ['alice@example.test'],
      groups: ['jsm-users', 'staff'],
    });
    expect(result.notOnOrAfter.toISOString()).to.equal(parts.notOnOrAfter.toISOString());
    expect(result.authnInstant?.toISOString()).to.equal(NOW.toISOString());
  });

  it('accepts a Response whose Response and Assertion are both signed', async () => {
    expect((await validate(withParts({}, { signResponse: true }))).nameId).to.equal('alice@example.test');
  });

  it('accepts a Response signed by xmlsec1 (independent signer), and xmlsec1 verifies ours', async () => {
    const parts = defaultParts();
    const template = responseXml(parts).replace(
      `<saml:Issuer>${parts.assertionIssuer}</saml:Issuer><saml:Subject>`,
      `<saml:Issuer>${parts.assertionIssuer}</saml:Issuer>${signatureTemplate(parts.assertionId)}<saml:Subject>`,
    );
    const signed = xmlsecSign(template, idpKey().keyPem, idpKey().certPem, `${NS.assertion}:Assertion`);
    expect((await validate(signed)).assertionId).to.equal(parts.assertionId);
    const ours = xmlsecVerify(signedResponse(defaultParts()), idpKey().certPem, `${NS.assertion}:Assertion`);
    expect(ours.ok, ours.output).to.equal(true);
  });

  it('refuses an unsigned Assertion (signature stripping)', async () => {
    expect(await refusalCode(withParts({}, { signAssertion: false }))).to.equal('SAML_SIGNATURE_MISSING');
    // A signed Response does not make an unsigned Assertion acceptable by default.
    expect(await refusalCode(withParts({}, { signAssertion: false, signResponse: true }))).to.equal(
      'SAML_SIGNATURE_MISSING',
    );
  });

  it('accepts a signed Response with an unsigned Assertion only when allowed', async () => {
    const xml = withParts({}, { signAssertion: false, signResponse: true });
    expect((await validate(xml, { requireSignedAssertion: false })).nameId).to.equal('alice@example.test');
    expect(
      await refusalCode(withParts({}, { signAssertion: false }), { requireSignedAssertion: false }),
    ).to.equal('SAML_SIGNATURE_MISSING');
  });

  it('refuses a Response padded with empty elements inside its signed Assertion before checking the signature (ADR 0238)', async () => {
    // 60,000 elements under a signature that no longer verifies: xml-crypto walked them five times
    // (its XPath), nearly a second of the process, before SAML_SIGNATURE_INVALID.
    const padded = signedResponse(defaultParts()).replace(
      '<saml:AttributeStatement>',
      `<saml:AttributeStatement>${'<x/>'.repeat(60_000)}`,
    );
    expect(Buffer.byteLength(padded)).to.be.below(256 * 1024);
    expect(await refusalCode(padded)).to.equal('SAML_MESSAGE_TOO_LARGE');
    const fewer = signedResponse(defaultParts()).replace(
      '<saml:AttributeStatement>',
      `<saml:AttributeStatement>${'<x/>'.repeat(4_000)}`,
    );
    expect(await refusalCode(fewer)).to.equal('SAML_SIGNATURE_INVALID');
  });

  it('accepts a signed Assertion naming 2,000 groups (the element limit leaves room for large attribute lists)', async () => {
    const groups = Array.from(
      { length: 2_000 },
      (_, i) => `<saml:AttributeValue>g${i}</saml:AttributeValue>`,
    );
    const xml = withParts({
      attributesXml: `<saml:Attribute Name="groups">${groups.join('')}</saml:Attribute>`,
    });
    expect((await validate(xml)).attributes['groups']).to.have.length(2_000);
  });

  it('refuses an Assertion signed by a key that is not configured (even with its certificate in KeyInfo)', async () => {
    expect(await refusalCode(withParts({}, { key: attackerKey() }))).to.equal('SAML_SIGNATURE_INVALID');
  });

  it('refuses an invalid Response signature even when the Assertion signature is good', async () => {
    const xml = editXml(withParts({}, { signResponse: true }), (root) => {
      root.setAttribute('IssueInstant', '2030-05-01T12:00:01Z');
    });
    expect(await refusalCode(xml)).to.equal('SAML_SIGNATURE_INVALID');
  });

  it('refuses a NameID changed after signing', async () => {
    const xml = withParts({}).replace(
      '>alice@example.test</saml:NameID>',
      '>admin@example.test</saml:NameID>',
    );
    expect(await refusalCode(xml)).to.equal('SAML_SIGNATURE_INVALID');
  });

  it('reads the whole NameID when a comment is injected into it (no truncation)', async () => {
    const xml = withParts({ nameId: 'user@evil.test.good.test' }).replace(
      '>user@evil.test.good.test<',
      '>user@evil.test<!---->.good.test<',
    );
    expect((await validate(xml)).nameId).to.equal('user@evil.test.good.test');
  });

  it('refuses a NameID containing a processing instruction', async () => {
    const xml = signedResponse(defaultParts({ nameId: 'user@evil.test.good.test' })).replace(
      '>user@evil.test.good.test<',
      '>user@evil.test<?x .good.test?><',
    );
    expect(await refusalCode(xml)).to.equal('SAML_XML_INVALID');
  });

  it('refuses a NameID with element content', async () => {
    const xml = signedResponse(defaultParts(), {
      nameIdXml: 'user@evil.test<saml:Foo>.good.test</saml:Foo>',
    });
    expect(await refusalCode(xml)).to.equal('SAML_NAMEID_INVALID');
  });

  it('reads a NameID and an attribute value exactly as signed: xs:string keeps its whitespace, XML or Unicode (ADR 0186)', async () => {
    const parts = defaultParts({
      nameId: '\n \u00A0admin@example.test\u3000 ',
      attributesXml:
        '<saml:Attribute Name="email"><saml:AttributeValue>\t\u2007admin@example.test</saml:AttributeValue></saml:Attribute>',
    });
    const result = await validate(signedResponse(parts));
    expect(result.nameId).to.equal('\n \u00A0admin@example.test\u3000 ');
    expect(result.attributes['email']).to.deep.equal(['\t\u2007admin@example.test']);
  });

  it('refuses a NameID of whitespace only', async () => {
    expect(await refusalCode(withParts({ nameId: ' \n\t ' }))).to.equal('SAML_NAMEID_INVALID');
  });

  it('refuses an empty NameID', async () => {
    expect(await refusalCode(withParts({ nameId: '' }))).to.equal('SAML_NAMEID_INVALID');
  });

  it('refuses a replayed Response', async () => {
    const xml = withParts({});
    await validate(xml);
    expect(await refusalCode(xml)).to.equal('SAML_REPLAY');
  });

  it('refuses an expired assertion (beyond the clock skew)', async () => {
    const past = new Date(NOW.getTime() - 181_000);
    expect(await refusalCode(withParts({ notOnOrAfter: past }))).to.equal('SAML_EXPIRED');
    expect(await refusalCode(withParts({ confirmationNotOnOrAfter: past }))).to.equal('SAML_EXPIRED');
  });

  it('tolerates expiry within the clock skew', async () => {
    const justPast = new Date(NOW.getTime() - 170_000);
    // A window that began before it ended (core 2.5.1.2), so that only its end is tested here.
    const window = { notBefore: new Date(NOW.getTime() - 300_000), notOnOrAfter: justPast };
    expect((await validate(withParts({ ...window, confirmationNotOnOrAfter: justPast }))).nameId).to.equal(
      'alice@example.test',
    );
    expect(await refusalCode(withParts(window), { clockSkewSeconds: 0 })).to.equal('SAML_EXPIRED');
  });

  it('refuses a SessionNotOnOrAfter already past, even within the clock skew: the session it starts has ended (core 2.7.2, ADR 0252)', async () => {
    const withSessionEnd = (end: Date) => withAuthnStatementTime('SessionNotOnOrAfter', end);
    expect(await refusalCode(withSessionEnd(new Date(NOW.getTime() - 60_000)))).to.equal('SAML_EXPIRED');
    expect(await refusalCode(withSessionEnd(NOW))).to.equal('SAML_EXPIRED');
    const ahead = new Date(NOW.getTime() + 1_000);
    expect((await validate(withSessionEnd(ahead))).sessionNotOnOrAfter).to.deep.equal(ahead);
  });

  it('refuses an AuthnInstant later than now beyond the clock skew: no authentication has taken place in the future (core 2.7.2)', async () => {
    const withAuthnInstant = (instant: Date) => withAuthnStatementTime('AuthnInstant', instant);
    expect(await refusalCode(withAuthnInstant(new Date(NOW.getTime() + 30 * 60_000)))).to.equal(
      'SAML_NOT_YET_VALID',
    );
    expect(await refusalCode(withAuthnInstant(new Date(NOW.getTime() + 181_000)))).to.equal(
      'SAML_NOT_YET_VALID',
    );
    const withinSkew = new Date(NOW.getTime() + 180_000);
    expect((await validate(withAuthnInstant(withinSkew))).authnInstant).to.deep.equal(withinSkew);
  });

  it('refuses a clock skew above 180 seconds', async () => {
    let error: unknown;
    await validate(withParts({}), { clockSkewSeconds: 600 }).catch((err) => {
      error = err;
    });
    expect(error).to.be.instanceOf(RangeError);
  });

  it('refuses a Response issued more than 5 minutes (plus skew) ago, or dated ahead beyond the skew', async () => {
    const lasting = {
      notOnOrAfter: new Date(NOW.getTime() + 3_600_000),
      confirmationNotOnOrAfter: new Date(NOW.getTime() + 3_600_000),
    };
    expect(await refusalCode(withParts(lasting), { now: new Date(NOW.getTime() + 481_000) })).to.equal(
      'SAML_EXPIRED',
    );
    expect(await refusalCode(withParts(lasting), { now: new Date(NOW.getTime() - 181_000) })).to.equal(
      'SAML_NOT_YET_VALID',
    );
    expect((await validate(withParts(lasting), { now: new Date(NOW.getTime() + 470_000) })).nameId).to.equal(
      'alice@example.test',
    );
  });

  it('refuses a not-yet-valid assertion', async () => {
    expect(await refusalCode(withParts({ notBefore: new Date(NOW.getTime() + 181_000) }))).to.equal(
      'SAML_NOT_YET_VALID',
    );
  });

  it('refuses Conditions whose NotBefore is not before NotOnOrAfter, though both are within the skew (core 2.5.1.2)', async () => {
    const at = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);
    for (const [notBefore, notOnOrAfter] of [
      [60, 30],
      [30, 30],
    ] as const) {
      const window = { notBefore: at(notBefore), notOnOrAfter: at(notOnOrAfter) };
      expect(await refusalCode(withParts(window)), `${notBefore} s / ${notOnOrAfter} s`).to.equal(
        'SAML_XML_INVALID',
      );
    }
    // The same times in order are a valid window: what is refused is the order, not the times.
    expect((await validate(withParts({ notBefore: at(30), notOnOrAfter: at(60) }))).nameId).to.equal(
      'alice@example.test',
    );
  });

  it('refuses an assertion for another SP (Audience)', async () => {
    expect(await refusalCode(withParts({ audience: 'https://other-sp.example.test' }))).to.equal(
      'SAML_AUDIENCE_MISMATCH',
    );
  });

  it('refuses an assertion whose second AudienceRestriction excludes us', async () => {
    const xml = signedResponse(defaultParts(), {});
    const parts = defaultParts();
    const twoRestrictions = responseXml(parts).replace(
      '</saml:AudienceRestriction>',
      '</saml:AudienceRestriction><saml:AudienceRestriction><saml:Audience>https://other.example.test</saml:Audience></saml:AudienceRestriction>',
    );
    expect(xml).to.include(SP_ENTITY_ID);
    const { signEnveloped } = await import('../../common/saml/index.js');
    const signed = signEnveloped(twoRestrictions, { id: parts.assertionId, ...idpKey() });
    expect(await refusalCode(signed)).to.equal('SAML_AUDIENCE_MISMATCH');
  });

  it('refuses a Response addressed to another endpoint (Destination)', async () => {
    expect(await refusalCode(withParts({ destination: 'https://other.example.test/acs' }))).to.equal(
      'SAML_DESTINATION_MISMATCH',
    );
  });

  it('refuses a signed Response without Destination', async () => {
    expect(await refusalCode(withParts({ destination: undefined }, { signResponse: true }))).to.equal(
      'SAML_DESTINATION_MISMATCH',
    );
  });

  it('refuses an assertion for another Recipient', async () => {
    expect(await refusalCode(withParts({ recipient: 'https://other.example.test/acs' }))).to.equal(
      'SAML_RECIPIENT_MISMATCH',
    );
  });

  it('refuses a Response from another Issuer', async () => {
    expect(await refusalCode(withParts({ issuer: 'https://evil.example.test' }))).to.equal(
      'SAML_ISSUER_MISMATCH',
    );
    expect(await refusalCode(withParts({ assertionIssuer: 'https://evil.example.test' }))).to.equal(
      'SAML_ISSUER_MISMATCH',
    );
  });

  it('refuses a Response to another request or an unsolicited one (InResponseTo)', async () => {
    expect(await refusalCode(withParts({ inResponseTo: '_other' }))).to.equal('SAML_IN_RESPONSE_TO_MISMATCH');
    expect(await refusalCode(withParts({ confirmationInResponseTo: '_other' }))).to.equal(
      'SAML_IN_RESPONSE_TO_MISMATCH',
    );
  });

  it('refuses a subject confirmation that is not bearer', async () => {
    expect(await refusalCode(withParts({ method: 'urn:oasis:names:tc:SAML:2.0:cm:holder-of-key' }))).to.equal(
      'SAML_SUBJECT_CONFIRMATION_INVALID',
    );
  });

  it('refuses a bearer confirmation whose data has a NotBefore, even one already past (profiles 4.1.4.2: MUST NOT contain)', async () => {
    const parts = defaultParts();
    const withNotBefore = (confirmations: number) =>
      signEnveloped(
        editXml(responseXml(parts), (root) => {
          const confirmation = firstByName(root, NS.assertion, 'SubjectConfirmation');
          for (let i = 1; i < confirmations; i++)
            confirmation.parentNode!.appendChild(confirmation.cloneNode(true));
          firstByName(root, NS.assertion, 'SubjectConfirmationData').setAttribute(
            'NotBefore',
            new Date(NOW.getTime() - 60_000).toISOString(),
          );
        }),
        { id: parts.assertionId, ...idpKey() },
      );
    expect(await refusalCode(withNotBefore(1))).to.equal('SAML_SUBJECT_CONFIRMATION_INVALID');
    // "At least one bearer SubjectConfirmation": a second one without NotBefore is the one that counts.
    expect((await validate(withNotBefore(2))).nameId).to.equal(parts.nameId);
  });

  it('refuses a Response whose Status is not Success', async () => {
    expect(await refusalCode(withParts({ status: 'urn:oasis:names:tc:SAML:2.0:status:Responder' }))).to.equal(
      'SAML_STATUS_NOT_SUCCESS',
    );
  });

  it('refuses a Response with two Assertions or none', async () => {
    const parts = defaultParts();
    const two = editXml(signedResponse(parts), (root) => {
      const assertion = firstByName(root, NS.assertion, 'Assertion');
      const copy = assertion.cloneNode(true) as typeof assertion;
      copy.setAttribute('ID', '_second');
      root.appendChild(copy);
    });
    expect(await refusalCode(two)).to.equal('SAML_ASSERTION_COUNT');
    const none = editXml(signedResponse(parts), (root) => {
      root.removeChild(firstByName(root, NS.assertion, 'Assertion'));
    });
    expect(await refusalCode(none)).to.equal('SAML_ASSERTION_COUNT');
  });

  it('refuses a signed Assertion that has no AuthnStatement (it says who, not that they signed in)', async () => {
    const parts = defaultParts();
    const statementless = editXml(responseXml(parts), (root) => {
      const statement = firstByName(root, NS.assertion, 'AuthnStatement');
      statement.parentNode!.removeChild(statement);
    });
    const signed = signEnveloped(statementless, { id: parts.assertionId, ...idpKey() });
    expect(await refusalCode(signed)).to.equal('SAML_AUTHN_STATEMENT_MISSING');
  });

  // One reading of the clock (ADR 0405): the assertion's one-time marker lives as long as its time
  // checks, made at the verification's reading, let it be used; not from a second, later reading.
  it("marks the assertion used until the end the verification's own clock reading allows", async () => {
    const parts = defaultParts();
    const ttls: number[] = [];
    class Recording extends MemoryFlowStore {
      override async putIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
        ttls.push(ttlSeconds);
        return super.putIfAbsent(key, value, ttlSeconds);
      }
    }
    const RealDate = Date;
    let readings = 0;
    /** Each reading of the clock 5 s after the one before, from NOW: as time passing between them. */
    class SteppingDate extends RealDate {
      constructor(...args: ConstructorParameters<DateConstructor> | []) {
        if (args.length > 0) super(...(args as [number]));
        else super(NOW.getTime() + 5_000 * readings++);
      }
    }
    const recording = new Recording();
    globalThis.Date = SteppingDate as DateConstructor;
    try {
      await validateSamlResponse(signedResponse(parts), expectedFor({ now: undefined }), recording);
    } finally {
      globalThis.Date = RealDate;
      await recording.close();
    }
    const skewMs = MAX_CLOCK_SKEW_SECONDS * 1000;
    expect(ttls).to.deep.equal([Math.ceil((parts.notOnOrAfter.getTime() + skewMs - NOW.getTime()) / 1000)]);
  });

  describe('Conditions other than the audience (core 2.5.1)', () => {
    const withConditions = (conditionsXml: string) => {
      const parts = defaultParts();
      const xml = responseXml(parts).replace(
        '</saml:AudienceRestriction>',
        `</saml:AudienceRestriction>${conditionsXml}`,
      );
      return signEnveloped(xml, { id: parts.assertionId, ...idpKey() });
    };

    it('refuses a condition it does not understand: the assertion is Indeterminate (2.5.1.1)', async () => {
      for (const unknown of [
        `<saml:Condition xmlns:xsi="${NS.xsi}" xmlns:x="urn:example:conditions" xsi:type="x:OnlyOnTuesdays"/>`,
        '<x:Geofence xmlns:x="urn:example:conditions"/>',
      ]) {
        expect(await refusalCode(withConditions(unknown)), unknown).to.equal('SAML_CONDITION_UNSUPPORTED');
      }
    });

    it('refuses two OneTimeUse or two ProxyRestriction (at most one each, 2.5.1.5-6)', async () => {
      for (const twice of [
        '<saml:OneTimeUse/><saml:OneTimeUse/>',
        '<saml:ProxyRestriction/><saml:ProxyRestriction/>',
      ]) {
        expect(await refusalCode(withConditions(twice))).to.equal('SAML_CONDITION_UNSUPPORTED');
      }
    });

    it('accepts OneTimeUse (the assertion is used once anyway) and returns a ProxyRestriction for a proxy to honour', async () => {
      const result = await validate(
        withConditions(
          '<saml:OneTimeUse/><saml:ProxyRestriction Count="2"><saml:Audience>https://a.example.test</saml:Audience></saml:ProxyRestriction>',
        ),
      );
      expect(result.proxyRestriction).to.deep.equal({ count: 2, audiences: ['https://a.example.test'] });
      expect((await validate(signedResponse(defaultParts()))).proxyRestriction).to.equal(undefined);
    });
  });

  it('refuses an EncryptedAssertion', async () => {
    const xml = editXml(withParts({}), (root) => {
      root.appendChild(root.ownerDocument!.createElementNS(NS.assertion, 'saml:EncryptedAssertion'));
    });
    expect(await refusalCode(xml)).to.equal('SAML_ENCRYPTED_ASSERTION_UNSUPPORTED');
  });

  describe('an EncryptedAssertion (ADR 0338), encrypted by xmlsec1', () => {
    const XMLENC = 'http://www.w3.org/2001/04/xmlenc#';
    const GCM: XmlsecEncryption = {
      content: 'http://www.w3.org/2009/xmlenc11#aes128-gcm',
      sessionKey: 'aes-128',
      transport: `${XMLENC}rsa-oaep-mgf1p`,
    };
    const CBC: XmlsecEncryption = { ...GCM, content: `${XMLENC}aes256-cbc`, sessionKey: 'aes-256' };
    const spKey = () => makeKeyPair('broker-decryption');
    const decrypting = (keys = [spKey()]) => ({
      decryptionKeys: keys.map((k) => createPrivateKey(k.keyPem)),
      soleSamlIdp: true,
    });
    const encrypted = (xml: string, encryption = GCM, cert = spKey().certPem) =>
      xmlsecEncryptAssertion(xml, cert, encryption);
    /** Signs the Response around the EncryptedAssertion, as an IdP signing both does. */
    const responseSigned = (xml: string, responseId: string) =>
      signEnveloped(xml, { id: responseId, ...idpKey() });
    const decryptionError = async (xml: string) => {
      try {
        await validate(xml, decrypting());
      } catch (err) {
        expect(err).to.be.instanceOf(SamlError);
        expect((err as SamlError).code).to.equal('SAML_ASSERTION_DECRYPTION_FAILED');
        return err as SamlError;
      }
      throw new Error('expected a refusal');
    };
    const decryptionRefusal = async (xml: string) => (await decryptionError(xml)).message;
    /** The refusal's `detail`, what the broker's log line names. */
    const decryptionDetail = async (xml: string) => (await decryptionError(xml)).detail;

    it('decrypts AES-GCM under RSA-OAEP and returns what the signed Assertion inside asserted', async () => {
      for (const encryption of [
        GCM,
        { ...GCM, content: 'http://www.w3.org/2009/xmlenc11#aes256-gcm', sessionKey: 'aes-256' },
      ]) {
        const parts = defaultParts();
        const result = await validate(encrypted(signedResponse(parts), encryption), decrypting());
        expect(result).to.deep.include({ nameId: 'alice@example.test', assertionId: parts.assertionId });
        expect(result.attributes['groups']).to.deep.equal(['jsm-users', 'staff']);
      }
    });

    it('decrypts with the next key during a rotation of the decryption key', async () => {
      const next = makeKeyPair('broker-decryption-next');
      const xml = encrypted(signedResponse(defaultParts()), GCM, next.certPem);
      expect((await validate(xml, decrypting([spKey(), next]))).nameId).to.equal('alice@example.test');
    });

    it('refuses an EncryptedAssertion when the broker has no decryption key', async () => {
      expect(await refusalCode(encrypted(signedResponse(defaultParts())))).to.equal(
        'SAML_ENCRYPTED_ASSERTION_UNSUPPORTED',
      );
    });

    it('refuses RSA 1.5 key transport before any RSA operation (Bleichenbacher)', async () => {
      const xml = encrypted(signedResponse(defaultParts()), { ...GCM, transport: `${XMLENC}rsa-1_5` });
      expect(await decryptionRefusal(xml)).to.match(/RSA-OAEP/);
    });

    it('decrypts AES-CBC only inside a Response whose signature verified (no padding oracle)', async () => {
      const parts = defaultParts();
      const xml = encrypted(signedResponse(parts), CBC);
      expect(await decryptionRefusal(xml)).to.match(/signed Response/);
      expect((await validate(responseSigned(xml, parts.responseId), decrypting())).nameId).to.equal(
        'alice@example.test',
      );
    });

    it("decrypts AES-GCM alone from one of a tenant's several SAML IdPs: AES-CBC, signed or not, refused before any RSA operation (ADR 0350)", async () => {
      const several = { ...decrypting(), soleSamlIdp: false };
      const gcm = defaultParts();
      expect((await validate(encrypted(signedResponse(gcm)), several)).assertionId).to.equal(gcm.assertionId);
      const parts = defaultParts();
      const cbc = encrypted(signedResponse(parts), CBC);
      // Under a key that is not the broker's too: the wrapped key is never opened.
      const foreignKey = encrypted(signedResponse(defaultParts()), CBC, attackerKey().certPem);
      for (const xml of [responseSigned(cbc, parts.responseId), cbc, foreignKey]) {
        const refusal = await validate(xml, several).then(
          () => expect.fail('expected a refusal'),
          (err: unknown) => err,
        );
        expect(refusal).to.be.instanceOf(SamlError).and.deep.include({
          code: 'SAML_ASSERTION_DECRYPTION_FAILED',
          detail: 'cbc_several_idps',
        });
      }
    });

    it('refuses a GCM ciphertext relabelled as CBC, and one relabelled inside a signed Response', async () => {
      const parts = defaultParts();
      const relabel = (xml: string) =>
        xml.replace('http://www.w3.org/2009/xmlenc11#aes128-gcm', `${XMLENC}aes128-cbc`);
      expect(await decryptionRefusal(relabel(encrypted(signedResponse(parts))))).to.match(/signed Response/);
      const signed = responseSigned(encrypted(signedResponse(parts)), parts.responseId);
      expect(await refusalCode(relabel(signed), decrypting())).to.equal('SAML_SIGNATURE_INVALID');
    });

    it('gives one refusal, one message, for an altered ciphertext, a foreign key and a wrapped key of another length', async () => {
      const xml = encrypted(signedResponse(defaultParts()));
      const values = [...xml.matchAll(/<xenc:CipherValue>([^<]+)</g)].map((m) => m[1]!);
      const flipped = (b64: string) => {
        const octets = Buffer.from(b64.replace(/\s/g, ''), 'base64');
        octets[octets.length - 20]! ^= 1;
        return octets.toString('base64');
      };
      const messages = [
        await decryptionRefusal(xml.replace(values[1]!, flipped(values[1]!))),
        await decryptionRefusal(xml.replace(values[0]!, flipped(values[0]!))),
        await decryptionRefusal(encrypted(signedResponse(defaultParts()), GCM, attackerKey().certPem)),
        await decryptionRefusal(encrypted(signedResponse(defaultParts()), { ...GCM, sessionKey: 'aes-256' })),
      ];
      expect(new Set(messages)).to.deep.equal(new Set([messages[0]]));
      const details = [
        await decryptionDetail(xml.replace(values[1]!, flipped(values[1]!))),
        await decryptionDetail(xml.replace(values[0]!, flipped(values[0]!))),
        await decryptionDetail(encrypted(signedResponse(defaultParts()), GCM, attackerKey().certPem)),
        await decryptionDetail(encrypted(signedResponse(defaultParts()), { ...GCM, sessionKey: 'aes-256' })),
      ];
      expect(details).to.deep.equal(Array(4).fill('does_not_decrypt'));
    });

    it('names in its detail each refusal that depends on nothing secret: the algorithm refused, the form', async () => {
      const xml = encrypted(signedResponse(defaultParts()));
      const transport = `<xenc:EncryptionMethod Algorithm="${XMLENC}rsa-oaep-mgf1p"/>`;
      expect(xml).to.include(transport);
      const encryptedKey = xml.slice(
        xml.indexOf('<xenc:EncryptedKey'),
        xml.indexOf('</xenc:EncryptedKey>') + 20,
      );
      const cases: [string, string][] = [
        [
          encrypted(signedResponse(defaultParts()), { ...GCM, transport: `${XMLENC}rsa-1_5` }),
          'key_transport_unsupported',
        ],
        [
          xml.replace(transport, `<xenc:EncryptionMethod Algorithm="${XMLENC}kw-aes256"/>`),
          'key_transport_unsupported',
        ],
        // Keycloak's RSA-OAEP-MGF1P with its SHA-256 digest default: MGF1 stays SHA-1.
        [
          xml.replace(
            transport,
            `<xenc:EncryptionMethod Algorithm="${XMLENC}rsa-oaep-mgf1p"><ds:DigestMethod xmlns:ds="${NS.dsig}" Algorithm="${XMLENC}sha256"/></xenc:EncryptionMethod>`,
          ),
          'oaep_digest_mgf_mismatch',
        ],
        [xml.replace(GCM.content, `${XMLENC}tripledes-cbc`), 'content_algorithm_unsupported'],
        [encrypted(signedResponse(defaultParts()), CBC), 'cbc_unsigned'],
        [
          xml.replace(
            /<xenc:CipherValue>[^<]+<\/xenc:CipherValue>(<\/xenc:CipherData><\/xenc:EncryptedData>)/,
            '<xenc:CipherReference URI="https://idp.example.test/c"/>$1',
          ),
          'cipher_value_missing',
        ],
        [xml.replace(encryptedKey, encryptedKey.repeat(5)), 'encrypted_key_count'],
      ];
      for (const [refused, detail] of cases) expect(await decryptionDetail(refused), detail).to.equal(detail);
    });

    it('refuses an algorithm named as a property every object has (constructor, __proto__, toString) as any other unknown one', async () => {
      const parts = defaultParts();
      const xml = encrypted(signedResponse(parts));
      const transport = `<xenc:EncryptionMethod Algorithm="${XMLENC}rsa-oaep-mgf1p"/>`;
      expect(xml).to.include(transport).and.include(GCM.content);
      const oaep = (name: string) =>
        `<xenc:EncryptionMethod Algorithm="${NS.xmlenc11}rsa-oaep"><ds:DigestMethod xmlns:ds="${NS.dsig}" Algorithm="${name}"/>` +
        `<xenc11:MGF xmlns:xenc11="${NS.xmlenc11}" Algorithm="${name}"/></xenc:EncryptionMethod>`;
      for (const name of ['constructor', '__proto__', 'toString']) {
        const content = xml.replace(GCM.content, name);
        expect(await decryptionDetail(content), name).to.equal('content_algorithm_unsupported');
        // Inside a signed Response too, where no CBC rule stands before the content key's RSA operation.
        expect(await decryptionDetail(responseSigned(content, parts.responseId)), name).to.equal(
          'content_algorithm_unsupported',
        );
        expect(await decryptionDetail(xml.replace(transport, oaep(name))), name).to.equal(
          'oaep_digest_mgf_mismatch',
        );
      }
    });

    it('holds the decrypted Assertion to its own signature: unsigned, or signed by another key', async () => {
      const parts = defaultParts();
      expect(
        await refusalCode(encrypted(signedResponse(parts, { signAssertion: false })), decrypting()),
      ).to.equal('SAML_SIGNATURE_MISSING');
      expect(
        await refusalCode(encrypted(signedResponse(parts, { key: attackerKey() })), decrypting()),
      ).to.equal('SAML_SIGNATURE_INVALID');
    });

    it('holds the decrypted Assertion to every condition: audience, recipient, InResponseTo, time, one use', async () => {
      const cases: [Partial<ResponseParts>, string][] = [
        [{ audience: 'https://other-sp.example.test' }, 'SAML_AUDIENCE_MISMATCH'],
        [{ recipient: 'https://other-sp.example.test/acs' }, 'SAML_RECIPIENT_MISMATCH'],
        [{ confirmationInResponseTo: '_another-request' }, 'SAML_IN_RESPONSE_TO_MISMATCH'],
        [{ confirmationNotOnOrAfter: new Date(NOW.getTime() - 3_600_000) }, 'SAML_EXPIRED'],
      ];
      for (const [overrides, code] of cases)
        expect(await refusalCode(encrypted(withParts(overrides)), decrypting()), code).to.equal(code);
      const once = encrypted(signedResponse(defaultParts()));
      await validate(once, decrypting());
      expect(await refusalCode(once, decrypting())).to.equal('SAML_REPLAY');
    });

    it('refuses an EncryptedAssertion beside a plain Assertion, two of them, and an Assertion wrapping another inside', async () => {
      const plain = signedResponse(defaultParts());
      const assertion = plain.slice(plain.indexOf('<saml:Assertion '), plain.indexOf('</samlp:Response>'));
      const withPlain = encrypted(plain).replace('</samlp:Response>', `${assertion}</samlp:Response>`);
      expect(await refusalCode(withPlain, decrypting())).to.equal('SAML_ASSERTION_COUNT');
      const one = encrypted(plain);
      const encryptedAssertion = one.slice(
        one.indexOf('<saml:EncryptedAssertion'),
        one.indexOf('</samlp:Response>'),
      );
      const twice = one.replace('</samlp:Response>', `${encryptedAssertion}</samlp:Response>`);
      expect(await refusalCode(twice, decrypting())).to.equal('SAML_ASSERTION_COUNT');
      // XSW inside the ciphertext: the signed Assertion hidden in the Advice of an attacker's one.
      const parts = defaultParts();
      const genuine = signedResponse(parts);
      const signedAssertion = genuine.slice(
        genuine.indexOf('<saml:Assertion '),
        genuine.indexOf('</samlp:Response>'),
      );
      const wrapper = signedAssertion
        .replace(`ID="${parts.assertionId}"`, 'ID="_evil"')
        .replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, '')
        .replace('<saml:Subject>', `<saml:Advice>${signedAssertion}</saml:Advice><saml:Subject>`);
      const wrapped = genuine.replace(signedAssertion, wrapper);
      expect(await refusalCode(encrypted(wrapped), decrypting())).to.equal('SAML_ASSERTION_COUNT');
    });
  });

  it('refuses a message that is not a Response', async () => {
    expect(
      await refusalCode(`<samlp:AuthnRequest xmlns:samlp="${NS.protocol}" ID="_x" Version="2.0"/>`),
    ).to.equal('SAML_MESSAGE_TYPE_UNEXPECTED');
  });

  it('refuses XXE inside a Response', async () => {
    const xml = withParts({}).replace(
      '<samlp:Response',
      '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><samlp:Response',
    );
    expect(await refusalCode(xml)).to.equal('SAML_DOCTYPE_FORBIDDEN');
  });

  describe('XML Signature Wrapping on an upstream Response', () => {
    const codes: Record<XswVariant, string> = {
      // The genuine signed Response (and its Assertion ID) is still in the document.
      XSW1: 'SAML_ID_NOT_UNIQUE',
      XSW2: 'SAML_ID_NOT_UNIQUE',
      XSW3: 'SAML_ASSERTION_COUNT',
      XSW4: 'SAML_ASSERTION_COUNT',
      XSW5: 'SAML_ASSERTION_COUNT',
      XSW6: 'SAML_ASSERTION_COUNT',
      XSW7: 'SAML_ASSERTION_COUNT',
      XSW8: 'SAML_ASSERTION_COUNT',
    };
    const tamperNameId = (evil: Parameters<Parameters<typeof applyXsw>[2]['tamper']>[0]) => {
      const nameId = firstByName(evil, NS.assertion, 'NameID');
      nameId.textContent = 'admin@example.test';
    };
    for (const variant of XSW_VARIANTS) {
      it(`refuses ${variant}`, async () => {
        // XSW1/2 wrap the signed Response itself; XSW3–8 wrap the signed Assertion.
        const onResponse = variant === 'XSW1' || variant === 'XSW2';
        const signed = withParts({}, { signResponse: onResponse });
        const attack = applyXsw(signed, variant, {
          select: (root) => (onResponse ? root : firstByName(root, NS.assertion, 'Assertion')),
          tamper: tamperNameId,
        });
        expect(attack).to.include('admin@example.test');
        expect(await refusalCode(attack)).to.equal(codes[variant]);
      });
    }
  });

  it('does not record the assertion ID of a refused Response', async () => {
    const parts = defaultParts();
    await refusalCode(signedResponse(parts), { acsUrl: `${ACS_URL}/other` });
    expect((await validate(signedResponse(parts))).assertionId).to.equal(parts.assertionId);
  });
});
