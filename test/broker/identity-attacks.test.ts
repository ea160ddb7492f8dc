import type { SAML } from '@node-saml/node-saml';
import { expect } from 'chai';
import { IDP_ATTRIBUTE } from '../../common/portal-attributes.js';
import * as harness from '../../testkit/broker-harness.js';
import { type FakeOidc, startFakeOidc } from './fake-oidc.js';
import {
  answeredAtBrokerAcs,
  type UpstreamAnswer,
  type UpstreamIdp,
  upstreamIdp,
  upstreamSamlIdpDoc,
} from './upstream-saml.js';

type IdpName = 'acme' | 'partner' | 'social';

/**
 * An attacker holds a normal account at one of the tenant's IdPs (or runs the partner IdP) and
 * asserts identities it is not authoritative for, or e-mails it never verified. Each IdP here is
 * a fake OIDC provider whose ID tokens say whatever the test wants; the broker must refuse before
 * anything reaches the portal (and so before any Atlassian call).
 */
describe('broker: each IdP speaks only for its own people (authority, verified e-mail)', () => {
  let pki: harness.Pki;
  const fakes = {} as Record<IdpName, FakeOidc>;
  let broker: harness.BrokerUnderTest;

  before(async () => {
    pki = harness.createPki();
    for (const name of ['acme', 'partner', 'social'] as const) fakes[name] = await startFakeOidc('jsm-sso');
    const { server, url } = await harness.listenPlaceholder();
    const tenant = harness.tenantFor(url, [
      harness.oidcIdp('acme', fakes.acme.issuer, {
        emailDomains: ['acme.test', 'xn--bcher-kva.example', '*.corp.acme.test'],
        trustGroups: true,
      }),
      harness.oidcIdp('partner', fakes.partner.issuer, {
        emailDomains: ['partner.test'],
        // Reads another claim first: only the verified `email` may reach the portal.
        attributeMapping: { email: 'has(claims.upn) ? claims.upn : claims.email', groups: 'claims.groups' },
      }),
      harness.oidcIdp('social', fakes.social.issuer, {
        authority: 'catchAll',
        attributeMapping: {
          email: 'claims.email',
          groups: 'claims.groups',
          // A mapping cannot name the signing IdP: the broker sets that attribute itself.
          [IDP_ATTRIBUTE]: "'acme'",
        },
      }),
    ]);
    broker = await harness.serveBroker(server, url, tenant, pki);
  });
  after(async () => {
    await broker.close();
    for (const fake of Object.values(fakes)) await fake.close();
    pki.cleanup();
  });

  /**
   * A whole login at `idp`, whose ID token carries `person` (and its userinfo answer too, unless
   * `userinfo` says otherwise); the broker's answer to the callback.
   */
  async function loginAt(idp: IdpName, person: Record<string, unknown>, userinfo?: Record<string, unknown>) {
    const portal = harness.portalSp(broker.url, pki);
    const browser = new harness.Browser();
    const choice = await browser.request(await portal.getAuthorizeUrlAsync('rs', undefined, {}));
    const { csrf } = harness.formFields(await choice.text());
    const toIdp = await browser.request(`${broker.url}/saml/choose`, { form: { csrf: csrf!, idp } });
    const authorize = new URL(toIdp.headers.get('location')!);
    await fetch(authorize);
    fakes[idp].person = { groups: [], ...person };
    if (userinfo) fakes[idp].userinfoPerson = userinfo;
    else delete fakes[idp].userinfoPerson;
    const state = authorize.searchParams.get('state')!;
    const response = await browser.request(
      `${authorize.searchParams.get('redirect_uri')}?code=c1&state=${state}&iss=${encodeURIComponent(fakes[idp].issuer)}`,
    );
    return { response, portal };
  }

  async function signedIn(portal: SAML, response: Response) {
    expect(response.status).to.equal(200);
    const { profile } = await portal.validatePostResponseAsync(harness.formFields(await response.text()));
    return profile!;
  }

  async function expectRefused(response: Response, reason: string): Promise<void> {
    const body = await response.text();
    expect(response.status, body).to.equal(403);
    expect(harness.pageReason(body)).to.equal(reason);
    expect(body).to.not.include('SAMLResponse');
    const audit = broker.logs.findLast((l) => l['event'] === 'broker.login');
    expect(audit).to.include({ result: 'refused', reason });
    const metric = await broker.context.registry.getSingleMetricAsString('jsm_sso_broker_refusals_total');
    expect(metric).to.include(`reason="${reason}"`);
  }

  /** Each of `senders` ([IdP, the address it asserts, verified]) is refused for `reason`. */
  async function expectEachRefused(senders: ReadonlyArray<readonly [IdpName, string]>, reason: string) {
    for (const [idp, email] of senders) {
      const { response } = await loginAt(idp, { email, email_verified: true });
      await expectRefused(response, reason);
    }
  }

  it('refuses the partner IdP asserting an acme.test address (account takeover across IdPs)', async () => {
    const { response } = await loginAt('partner', { email: 'alice@acme.test', email_verified: true });
    await expectRefused(response, 'IDP_NOT_AUTHORITATIVE');
  });

  it('refuses the catchAll IdP asserting a domain another IdP lists', async () => {
    const { response } = await loginAt('social', { email: 'bob@acme.test', email_verified: true });
    await expectRefused(response, 'IDP_NOT_AUTHORITATIVE');
  });

  it('refuses the upper-case, trailing-dot and IDN spellings of a domain the asserting IdP does not own', async () => {
    for (const email of ['alice@ACME.TEST', 'alice@acme.test.', 'x@BÜCHER.example']) {
      const { response } = await loginAt('partner', { email, email_verified: true });
      await expectRefused(response, 'IDP_NOT_AUTHORITATIVE');
    }
  });

  it('refuses the catchAll IdP asserting a subdomain of a domain another IdP lists (ADR 0173)', async () => {
    for (const email of ['eve@eu.acme.test', 'eve@a.b.partner.test', 'eve@x.xn--bcher-kva.example']) {
      const { response } = await loginAt('social', { email, email_verified: true });
      await expectRefused(response, 'IDP_NOT_AUTHORITATIVE');
    }
  });

  it('lets the catchAll IdP sign in look-alikes that are no subdomain of a listed domain', async () => {
    for (const email of ['eve@evil-acme.test', 'eve@acme.test.evil.test', 'eve@evilpartner.test']) {
      const { response, portal } = await loginAt('social', { email, email_verified: true });
      expect((await signedIn(portal, response)).nameID).to.equal(email);
    }
  });

  it('refuses a subdomain the IdP lists only as the exact domain (no implicit subdomains)', async () => {
    const { response } = await loginAt('acme', { email: 'eve@eu.acme.test', email_verified: true });
    await expectRefused(response, 'IDP_NOT_AUTHORITATIVE');
  });

  it('accepts subdomains of a *.domain entry, and the bare domain only when listed', async () => {
    const { response, portal } = await loginAt('acme', {
      email: 'ann@hr.corp.acme.test',
      email_verified: true,
    });
    expect((await signedIn(portal, response)).nameID).to.equal('ann@hr.corp.acme.test');
    const bare = await loginAt('acme', { email: 'ann@corp.acme.test', email_verified: true });
    await expectRefused(bare.response, 'IDP_NOT_AUTHORITATIVE');
  });

  it('signs in its own people with the e-mail in canonical form (case, trailing dot, IDN as punycode)', async () => {
    const upper = await loginAt('acme', { email: 'Alice@ACME.test.', email_verified: true });
    const profile = await signedIn(upper.portal, upper.response);
    expect(profile.nameID).to.equal('alice@acme.test');
    expect(profile['email']).to.equal('alice@acme.test');
    const idn = await loginAt('acme', { email: 'x@bücher.example', email_verified: true });
    expect((await signedIn(idn.portal, idn.response)).nameID).to.equal('x@xn--bcher-kva.example');
  });

  it('lets the catchAll IdP sign in domains no IdP lists, naming itself in the signed IdP attribute', async () => {
    const { response, portal } = await loginAt('social', { email: 'zoe@gmail.test', email_verified: true });
    const profile = await signedIn(portal, response);
    expect(profile.nameID).to.equal('zoe@gmail.test');
    // The tenant's mapping tried to set the IdP attribute to 'acme'; the broker's own value wins.
    expect(profile[IDP_ATTRIBUTE]).to.equal('social');
  });

  it('refuses email_verified false, a missing email_verified, and the string "true"', async () => {
    for (const verified of [false, undefined, 'true']) {
      const { response } = await loginAt('acme', { email: 'bob@acme.test', email_verified: verified });
      await expectRefused(response, 'IDP_EMAIL_UNVERIFIED');
    }
  });

  // email_verified says whether the email beside it was verified (OIDC Core 5.1). The broker merged
  // the userinfo answer under the ID token's claims, so the userinfo's flag, about its own address,
  // was read as vouching for the ID token's (ADR 0186).
  it("refuses an ID token's e-mail that only the userinfo answer's email_verified, about another address, covers", async () => {
    const { response } = await loginAt(
      'acme',
      { email: 'alice@acme.test' },
      { email: 'mallory@acme.test', email_verified: true },
    );
    await expectRefused(response, 'IDP_EMAIL_UNVERIFIED');
  });

  // The same rule the other way round: a bare email_verified in the ID token (no address beside it)
  // overrode the userinfo's own false about the address only the userinfo names (ADR 0224).
  it('refuses a userinfo e-mail the userinfo says is unverified, though the ID token carries a bare email_verified true', async () => {
    const { response } = await loginAt(
      'acme',
      { email_verified: true },
      { email: 'carol@acme.test', email_verified: false },
    );
    await expectRefused(response, 'IDP_EMAIL_UNVERIFIED');
  });

  it("counts the ID token's bare email_verified for the userinfo's address when the userinfo has no flag (one address split across the two)", async () => {
    const { response, portal } = await loginAt(
      'acme',
      { email_verified: true },
      { email: 'carol@acme.test' },
    );
    expect((await signedIn(portal, response)).nameID).to.equal('carol@acme.test');
  });

  it('counts a userinfo email_verified for the same address as the ID token names (claims split across the two)', async () => {
    const { response, portal } = await loginAt(
      'acme',
      { email: 'alice@acme.test' },
      { email: 'alice@acme.test', email_verified: true },
    );
    expect((await signedIn(portal, response)).nameID).to.equal('alice@acme.test');
  });

  it('refuses an address the mapping took from a claim other than the verified email', async () => {
    const { response } = await loginAt('partner', {
      email: 'pat@partner.test',
      email_verified: true,
      upn: 'ceo@partner.test',
    });
    await expectRefused(response, 'IDP_EMAIL_UNVERIFIED');
    const own = await loginAt('partner', { email: 'pat@partner.test', email_verified: true });
    expect((await signedIn(own.portal, own.response)).nameID).to.equal('pat@partner.test');
  });

  const MALFORMED = ['alice@@acme.test', 'alice@acme..test', '@acme.test', '  @acme.test'];

  it('refuses a malformed e-mail (doubled @, empty domain label, empty local part) before anything is signed', async () => {
    const successes = () =>
      broker.logs.filter((l) => l['event'] === 'broker.login' && l['result'] === 'success').length;
    const before = successes();
    // The IdP authoritative for acme.test, and the catch-all one that would take any other domain.
    for (const idp of ['acme', 'social'] as const) {
      for (const email of MALFORMED) {
        const { response } = await loginAt(idp, { email, email_verified: true });
        const body = await response.clone().text();
        await expectRefused(response, 'IDP_EMAIL_INVALID');
        expect(body, `${idp} ${email}`).to.not.include(email.trim());
      }
    }
    // No signed Response left the broker, so nothing reached the portal or Atlassian.
    expect(successes()).to.equal(before);
  });

  // Each is a distinct address at the IdP (which may let its users choose one), but Unicode folding
  // makes it kevin@ or admin@: String.prototype.trim strips NBSP, toLowerCase turns the Kelvin sign
  // into k, NFKC (which a mail system or Atlassian may apply) folds fullwidth letters and composes accents.
  const FOLDING = [
    ['the Kelvin sign', '\u212Aevin@acme.test'],
    ['a no-break space before it', '\u00A0admin@acme.test'],
    ['an ideographic space after it', 'admin@acme.test\u3000'],
    ['a fullwidth letter', '\uFF41dmin@acme.test'],
    ['a zero-width space', 'admin\u200B@acme.test'],
    ['a decomposed accent', 'jose\u0301@acme.test'],
    // Default-ignorable characters that are marks or letters, not format characters, and NFKC-stable:
    // drawn as nothing, so each address reads as alice@'s (an agent sees her name on the request), and
    // UTS #46 deletes them, as a mail system or Atlassian may. They were signed in as asserted (ADR 0366).
    ['a combining grapheme joiner U+034F (ADR 0366)', 'al\u034Fice@acme.test'],
    ['a variation selector U+FE0F (ADR 0366)', 'alice\uFE0F@acme.test'],
    ['a variation selector U+E0100 (ADR 0366)', 'al\u{E0100}ice@acme.test'],
    ['a Mongolian free variation selector U+180B (ADR 0366)', 'alice\u180B@acme.test'],
    ['a Hangul choseong filler U+115F (ADR 0366)', '\u115Falice@acme.test'],
    ['a Khmer inherent vowel U+17B4 (ADR 0366)', 'alice\u17B4@acme.test'],
  ] as const;

  for (const [what, email] of FOLDING) {
    it(`refuses a local part with ${what}, which folds into another person's address`, async () => {
      // From the IdP owning acme.test, and from the catchAll one whose people may choose their addresses.
      await expectEachRefused(
        [
          ['acme', email],
          ['social', email.replace('@acme.test', '@gmail.test')],
        ],
        'IDP_EMAIL_INVALID',
      );
    });
  }

  // RFC 5322 and SMTP spellings whose mailbox is another than the string, or that name several: a
  // quoted local part holding an `@`, a comment, a source route, an address list, a display name,
  // a NUL, an IP literal, a fullwidth at sign. None is an address the portal can look up as it is.
  const RFC5322 = [
    ['a quoted local part holding the victim', '"alice@acme.test"@partner.test'],
    ['a comment after the victim', 'alice@acme.test(x)'],
    ['a comment in the local part', 'alice(x)@acme.test'],
    ['a source route', '@partner.test:alice@acme.test'],
    ['an encoded word as the domain', 'alice@=?utf-8?q?acme.test?='],
    ['a NUL', 'alice@acme.test\u0000.partner.test'],
    ['a newline after it', 'alice@acme.test\n'],
    ['two addresses', 'pat@partner.test, alice@acme.test'],
    ['two addresses, the victim first', 'alice@acme.test,pat@partner.test'],
    ['a display name and angle brackets', 'Alice <alice@acme.test>'],
    ['angle brackets', '<alice@acme.test>'],
    ['an IP-literal domain', 'alice@[10.0.0.1]'],
    ['a fullwidth at sign', 'alice\uFF20acme.test'],
    ['a fullwidth at sign before its own domain', 'alice\uFF20acme.test@partner.test'],
  ] as const;

  for (const [what, email] of RFC5322) {
    it(`refuses an address with ${what}, from the partner and the catchAll IdP`, async () => {
      await expectEachRefused(
        [
          ['partner', email],
          ['social', email],
        ],
        'IDP_EMAIL_INVALID',
      );
    });
  }

  it("signs in a percent-hack or encoded-word local part as the address it is, in the asserting IdP's domain", async () => {
    // Atlassian and the portal match the account by the whole address: neither is alice@acme.test.
    for (const email of ['alice%acme.test@partner.test', '=?utf-8?q?alice?=@partner.test']) {
      const { response, portal } = await loginAt('partner', { email, email_verified: true });
      const profile = await signedIn(portal, response);
      expect(profile.nameID).to.equal(email);
      expect(profile['email']).to.equal(email);
    }
  });

  // Each is a distinct string at the IdP, which may let its users choose their address, but the URL
  // host parser behind domainToASCII (which the broker used alone) cut it at `/ ? # \\`, decoded `%`,
  // dropped tabs and invisible characters, folded compatibility characters and read numbers as IPv4:
  // all signed in as alice@acme.test (or alice@127.0.0.1). RFC 5322 reads a quoted local part and
  // comments as the bare one, so a mail system takes them for alice@ too (ADR 0172).
  const DOMAIN_FOLDING = [
    ['a path after the domain', 'alice@acme.test/x.partner.test'],
    ['a query after the domain', 'alice@acme.test?x'],
    ['a fragment after the domain', 'alice@acme.test#x'],
    ['a backslash in the domain', 'alice@acme.test\\x'],
    ['a percent-encoded letter', 'alice@ac%6De.test'],
    ['a tab inside the domain', 'alice@ac\tme.test'],
    ['a soft hyphen', 'alice@ac\u00ADme.test'],
    ['a zero-width space in the domain', 'alice@ac\u200Bme.test'],
    ['fullwidth letters', 'alice@\uFF41\uFF43\uFF4D\uFF45.test'],
    ['an ideographic full stop', 'alice@acme\u3002test'],
    ['a decomposed accent in the domain', 'x@bu\u0308cher.example'],
    ['a quoted local part', '"alice"@acme.test'],
    ['a comment before the @', 'alice(x)@acme.test'],
    ['a comment after the @', 'alice@(x)acme.test'],
    ['a backslash in the local part', 'ali\\ce@acme.test'],
    // UTS #46 itself deletes these marks (default-ignorable, NFKC-stable) and maps the capital sharp s
    // to "ss": alice@acme.test, and alice@strasse.test from the catchAll (ADR 0224).
    ['a combining grapheme joiner U+034F', 'alice@ac\u034Fme.test'],
    ['a variation selector U+FE0F', 'alice@acme\uFE0F.test'],
    ['a variation selector U+E0100', 'alice@ac\u{E0100}me.test'],
    ['a Mongolian free variation selector', 'alice@\u1820\u180B\u1821.test'],
    ['a capital sharp s U+1E9E', 'alice@stra\u1E9Ee.test'],
  ] as const;

  for (const [what, email] of DOMAIN_FOLDING) {
    it(`refuses an address with ${what}, which folds into another person's address`, async () => {
      // From the IdP owning acme.test, and from the catchAll one that would take any other domain.
      await expectEachRefused(
        [
          ['acme', email],
          ['social', email],
        ],
        'IDP_EMAIL_INVALID',
      );
    });
  }

  // JSON strings (and SAML's xs:string) keep their whitespace: each is an address the IdP holds apart
  // from alice@acme.test, which the broker trimmed into hers (ADR 0186). Case is the only fold.
  it("refuses an address with whitespace around it (' alice@acme.test'), which was trimmed into hers", async () => {
    for (const email of [
      ' alice@acme.test',
      'alice@acme.test ',
      '\talice@acme.test',
      'alice@acme.test\r\n',
    ]) {
      for (const idp of ['acme', 'social'] as const) {
        const { response } = await loginAt(idp, { email, email_verified: true });
        await expectRefused(response, 'IDP_EMAIL_INVALID');
      }
    }
  });

  it('refuses an IPv4 number as the domain (127.1 would become 127.0.0.1), even from the catchAll IdP', async () => {
    for (const email of ['alice@127.1', 'alice@0x7f.0.0.1', 'alice@1.2.3.4']) {
      const { response } = await loginAt('social', { email, email_verified: true });
      await expectRefused(response, 'IDP_EMAIL_INVALID');
    }
  });

  it('signs in a composed non-ASCII local part as asserted (lower-cased)', async () => {
    const { response, portal } = await loginAt('acme', {
      email: 'J\u00FCrgen@acme.test',
      email_verified: true,
    });
    expect((await signedIn(portal, response)).nameID).to.equal('j\u00FCrgen@acme.test');
  });

  it('never writes an asserted e-mail into its logs', () => {
    const lines = JSON.stringify(broker.logs);
    for (const email of [
      'alice@acme.test',
      'bob@acme.test',
      'zoe@gmail.test',
      'ann@hr.corp.acme.test',
      ...MALFORMED.map((m) => m.trim()),
    ]) {
      expect(lines).to.not.include(email);
    }
  });
});

/**
 * The same attacker running the tenant's upstream SAML IdP (samlify, signed with its metadata's key):
 * a SAML assertion can carry an attribute several times, several values, and a NameID that says
 * another address than the attributes. Every address the portal will read is judged.
 */
describe('broker: an upstream SAML IdP speaks only for its own people', () => {
  let pki: harness.Pki;
  let acme: FakeOidc;
  let idp: UpstreamIdp;
  let broker: harness.BrokerUnderTest;

  before(async () => {
    pki = harness.createPki();
    acme = await startFakeOidc('jsm-sso');
    idp = upstreamIdp();
    const { server, url } = await harness.listenPlaceholder();
    const tenant = harness.tenantFor(url, [
      harness.oidcIdp('acme', acme.issuer, { emailDomains: ['acme.test'] }),
      {
        name: 'partner',
        saml: { metadataXml: idp.getMetadata() },
        emailDomains: ['partner.test'],
        emailTrust: 'asserted',
        // The NameID sent on is the upstream one, so the IdP's NameID is an address the portal reads.
        nameId: { expression: 'claims.nameId' },
        attributeMapping: { email: 'claims.email', displayName: 'claims.nameId' },
      },
    ]);
    broker = await harness.serveBroker(server, url, tenant, pki);
  });
  after(async () => {
    await broker.close();
    await acme.close();
    pki.cleanup();
  });

  const loginAtPartner = (answer: UpstreamAnswer) => loginAtSamlIdp(broker, pki, idp, 'partner', answer);
  const expectRefused = (response: Response, reason: string) => expectSamlRefused(broker, response, reason);

  it('refuses an e-mail attribute whose second value is an acme.test address', async () => {
    const { response } = await loginAtPartner({
      nameId: 'pat@partner.test',
      attributes: { email: ['pat@partner.test', 'alice@acme.test'] },
    });
    await expectRefused(response, 'IDP_NOT_AUTHORITATIVE');
  });

  it('refuses a NameID naming an acme.test address beside its own e-mail attribute', async () => {
    const { response } = await loginAtPartner({
      nameId: 'alice@acme.test',
      attributes: { email: ['pat@partner.test'] },
    });
    await expectRefused(response, 'IDP_NOT_AUTHORITATIVE');
  });

  it('refuses an emailAddress NameID of acme.test when no e-mail attribute is sent', async () => {
    const { response } = await loginAtPartner({ nameId: 'alice@acme.test', attributes: {} });
    await expectRefused(response, 'IDP_NOT_AUTHORITATIVE');
  });

  it('refuses an e-mail attribute or an emailAddress NameID with whitespace around it, as signed (xs:string keeps it), or an invisible mark in it (ADR 0366)', async () => {
    for (const answer of [
      { nameId: 'pat@partner.test', attributes: { email: [' pat@partner.test'] } },
      { nameId: 'pat@partner.test', attributes: { email: ['pat@partner.test\n'] } },
      { nameId: '\tpat@partner.test', attributes: { email: ['pat@partner.test'] } },
      // A combining grapheme joiner: drawn as nothing, deleted by UTS #46.
      { nameId: 'pat@partner.test', attributes: { email: ['p\u034Fat@partner.test'] } },
    ]) {
      const { response } = await loginAtPartner(answer);
      await expectRefused(response, 'IDP_EMAIL_INVALID');
    }
  });

  it('judges an unspecified or persistent upstream NameID the mapping sends on as an e-mail address', async () => {
    for (const nameIdFormat of [
      'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
      'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
    ]) {
      const { response } = await loginAtPartner({
        nameId: 'alice@acme.test',
        nameIdFormat,
        attributes: { email: ['pat@partner.test'] },
      });
      await expectRefused(response, 'IDP_NOT_AUTHORITATIVE');
    }
  });

  it('reads an attribute by its Name: a FriendlyName email or a second NameFormat spelling is judged too', async () => {
    const { response } = await loginAtPartner({
      nameId: 'pat@partner.test',
      attributes: { email: ['pat@partner.test'] },
      attributesXml:
        '<saml:Attribute Name="email" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri" FriendlyName="mail"><saml:AttributeValue>alice@acme.test</saml:AttributeValue></saml:Attribute>',
    });
    await expectRefused(response, 'IDP_NOT_AUTHORITATIVE');
  });

  it('sends on only the mapped e-mail: another address in an unmapped attribute reaches no one', async () => {
    const { response, portal } = await loginAtPartner({
      nameId: 'pat@partner.test',
      attributes: { email: ['pat@partner.test'], mail: ['alice@acme.test'] },
    });
    expect(response.status).to.equal(200);
    const { profile } = await portal.validatePostResponseAsync(harness.formFields(await response.text()));
    expect(profile?.nameID).to.equal('pat@partner.test');
    expect(profile?.['email']).to.equal('pat@partner.test');
    expect(JSON.stringify(profile)).to.not.include('alice@acme.test');
  });
});

/** A whole login at the tenant's SAML IdP `name` (played by `idp`) answering with `answer`; the broker's answer to the ACS post. */
async function loginAtSamlIdp(
  broker: harness.BrokerUnderTest,
  pki: harness.Pki,
  idp: UpstreamIdp,
  name: string,
  answer: UpstreamAnswer,
) {
  const portal = harness.portalSp(broker.url, pki);
  const browser = new harness.Browser();
  const choice = await browser.request(await portal.getAuthorizeUrlAsync('rs', undefined, {}));
  // A tenant's only IdP is gone to at once; with several, the choice page names `name`.
  const toIdp =
    choice.status === 302
      ? choice
      : await browser.request(`${broker.url}/saml/choose`, {
          form: { csrf: harness.formFields(await choice.text()).csrf!, idp: name },
        });
  const upstream = { browser, brokerUrl: broker.url, idp };
  return { response: await answeredAtBrokerAcs(upstream, toIdp.headers.get('location')!, answer), portal };
}

/** `response` is the broker's refusal page for `reason`, nothing went to the portal, and the audit line says so. */
async function expectSamlRefused(
  broker: harness.BrokerUnderTest,
  response: Response,
  reason: string,
): Promise<void> {
  const body = await response.text();
  expect(response.status, body).to.equal(403);
  expect(harness.pageReason(body)).to.equal(reason);
  expect(body).to.not.include('SAMLResponse');
  expect(broker.logs.findLast((l) => l['event'] === 'broker.login')).to.include({
    result: 'refused',
    reason,
  });
}

/**
 * A SAML IdP with `emailTrust: verifiedClaim` (ADR 0195): its verification statement is the attribute
 * `email_verified`, whose values are text, never the JSON boolean the OIDC rule wants, so every sign-in
 * through such an IdP was refused. It counts when it is exactly one value, an xs:boolean true
 * ("true" or "1"), read as signed; anything else is refused as unverified.
 */
describe('broker: an upstream SAML IdP that verifies e-mails (emailTrust verifiedClaim)', () => {
  let pki: harness.Pki;
  let idp: UpstreamIdp;
  let broker: harness.BrokerUnderTest;

  before(async () => {
    pki = harness.createPki();
    idp = upstreamIdp();
    const { server, url } = await harness.listenPlaceholder();
    const tenant = harness.tenantFor(url, [
      { ...upstreamSamlIdpDoc(idp), name: 'verifying', emailTrust: 'verifiedClaim' },
    ]);
    broker = await harness.serveBroker(server, url, tenant, pki);
  });
  after(async () => {
    await broker.close();
    pki.cleanup();
  });

  const loginWith = (emailVerified: string[] | undefined) =>
    loginAtSamlIdp(broker, pki, idp, 'verifying', {
      nameId: 'pat@partner.test',
      attributes: {
        email: ['pat@partner.test'],
        ...(emailVerified === undefined ? {} : { email_verified: emailVerified }),
      },
    });

  for (const lexical of ['true', '1']) {
    it(`signs in a person whose email_verified attribute is the xs:boolean true "${lexical}"`, async () => {
      const { response, portal } = await loginWith([lexical]);
      expect(response.status, await response.clone().text()).to.equal(200);
      const { profile } = await portal.validatePostResponseAsync(harness.formFields(await response.text()));
      expect(profile?.['email']).to.equal('pat@partner.test');
      expect(broker.logs.findLast((l) => l['event'] === 'broker.login')).to.include({
        idp: 'verifying',
        result: 'success',
      });
    });
  }

  const NOT_VERIFIED: Array<[string, string[] | undefined]> = [
    ['no email_verified attribute', undefined],
    ['"false"', ['false']],
    ['"0"', ['0']],
    ['an empty value', ['']],
    ['"TRUE" (xs:boolean is case-sensitive)', ['TRUE']],
    ['"yes"', ['yes']],
    ['" true" (whitespace, as signed)', [' true']],
    ['"true\\n" (whitespace, as signed)', ['true\n']],
    ['two values, both "true"', ['true', 'true']],
    ['two values, "true" and "false"', ['true', 'false']],
  ];
  for (const [what, emailVerified] of NOT_VERIFIED) {
    it(`refuses email_verified with ${what} as IDP_EMAIL_UNVERIFIED`, async () => {
      const { response } = await loginWith(emailVerified);
      await expectSamlRefused(broker, response, 'IDP_EMAIL_UNVERIFIED');
    });
  }
});
