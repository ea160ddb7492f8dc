import { expect } from 'chai';
import { MemoryFlowStore } from '../../common/flowstore/index.js';
import { NS, SamlError, signEnveloped, validateSamlResponse } from '../../common/saml/index.js';
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
import { signatureTemplate, xmlsecSign, xmlsecVerify } from '../../testkit/xmlsec.js';
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
