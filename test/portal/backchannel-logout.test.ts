import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { MemoryFlowStore } from '../../common/flowstore/index.js';
import {
  acceptProtocolMessage,
  BINDING_SOAP,
  HOP_SIGNATURE_ALGORITHMS,
  type LogoutRequestContent,
  logoutRequest,
  logoutResponse,
  logoutSucceeded,
  NAMEID_EMAIL,
  NAMEID_PERSISTENT,
  NAMEID_TRANSIENT,
  NS,
  SOAP_ENVELOPE_NS,
  type SoapFaultCode,
  STATUS_PARTIAL_LOGOUT,
  STATUS_REQUEST_VERSION_TOO_HIGH,
  STATUS_REQUESTER,
  STATUS_RESPONDER,
  STATUS_SUCCESS,
  STATUS_UNKNOWN_PRINCIPAL,
  STATUS_VERSION_MISMATCH,
  signEnveloped,
  signedSoapMessage,
  statusOf,
  toCertificatePem,
} from '../../common/saml/index.js';
import { type KeyPair, makeKeyPair } from '../../testkit/keys.js';
import { type LocalRedis, startLocalRedis, whileStalled } from '../../testkit/local-redis.js';
import {
  attemptSignIn,
  BROKER_ENTITY_ID,
  BROKER_URL,
  type Browser,
  type Harness,
  reasons,
  refusalCount,
  shownReference,
  signIn,
  startHarness,
  useHarness,
} from '../../testkit/portal-harness.js';
import { connectedFlowStore } from '../../testkit/redis.js';
import { xmlsecVerify } from '../../testkit/xmlsec.js';
import { LOGOUT_REQUEST_ATTACKS, UNLOADABLE_SIGNATURES } from '../saml/message-attacks.js';

/**
 * The broker's back-channel LogoutRequest over the SAML SOAP binding (ADR 0150): it ends the
 * session the broker asserted (NameID and SessionIndex both), answered with a signed
 * LogoutResponse; every forged, altered, stale or replayed one is refused with a SOAP fault and
 * ends nothing.
 */
describe('portal: the broker ends a session back-channel (SOAP LogoutRequest)', () => {
  let h: Harness;
  let portalCertPem: string;
  useHarness(async (started) => {
    h = started;
    const metadata = await (await fetch(`${h.url}/saml/metadata`)).text();
    portalCertPem = toCertificatePem(/<ds:X509Certificate>([^<]+)</.exec(metadata)![1]!);
  });

  const sloUrl = () => `${h.url}/saml/slo`;

  /** alice signs in with a SessionIndex of her own; her browser and that index. */
  async function aliceSignedIn(): Promise<{ browser: Browser; sessionIndex: string }> {
    const sessionIndex = `_s${randomBytes(8).toString('hex')}`;
    const browser = await signIn(h, 'alice@acme.test', { sessionIndex });
    expect(await page(browser)).to.equal(200);
    return { browser, sessionIndex };
  }

  async function page(browser: Browser): Promise<number> {
    const res = await browser.fetch('/requests');
    await res.arrayBuffer();
    return res.status;
  }

  /** The broker's LogoutRequest XML (unsigned), as broker/portal-logout.ts builds it. */
  const request = (sessionIndex: string, nameId = 'alice@acme.test') =>
    logoutRequest(requestContent(sessionIndex, nameId));

  function requestContent(sessionIndex: string, nameId = 'alice@acme.test'): LogoutRequestContent {
    return {
      issuer: BROKER_ENTITY_ID,
      destination: sloUrl(),
      now: new Date(),
      nameId,
      nameIdFormat: NAMEID_EMAIL,
      sessionIndex,
    };
  }

  function signed(message: { id: string; xml: string }, key: KeyPair = h.brokerKey): string {
    return signedSoapMessage(message, {
      keyPem: key.keyPem,
      certPem: key.certPem,
      signatureAlgorithm: HOP_SIGNATURE_ALGORITHMS['rsa-sha256'],
    });
  }

  async function send(envelope: string, contentType = 'text/xml; charset=utf-8') {
    const res = await fetch(sloUrl(), {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: envelope,
    });
    return { status: res.status, body: await res.text(), type: res.headers.get('content-type') };
  }

  /** The portal's answer, verified as the broker verifies it; whether it says Success. */
  async function verifiedAnswer(body: string, inResponseTo: string): Promise<boolean> {
    return logoutSucceeded(await verifiedRoot(body, inResponseTo));
  }

  async function verifiedRoot(body: string, inResponseTo: string) {
    const { root } = await acceptProtocolMessage(
      { kind: 'soap', envelope: body },
      {
        type: 'LogoutResponse',
        inResponseTo,
        issuer: `${h.url}/saml/metadata`,
        certificatesPem: [portalCertPem],
        destination: `${BROKER_URL}/saml/slo`,
        now: new Date(),
      },
      new MemoryFlowStore(),
    );
    return root;
  }

  it('advertises the SOAP SingleLogoutService in its SP metadata', async () => {
    const metadata = await (await fetch(`${h.url}/saml/metadata`)).text();
    expect(metadata).to.include(`<md:SingleLogoutService Binding="${BINDING_SOAP}" Location="${sloUrl()}"/>`);
  });

  it("answers the broker's signed LogoutRequest of Version 3.0 with a signed VersionMismatch/RequestVersionTooHigh, ending nothing (ADR 0204)", async () => {
    const { browser, sessionIndex } = await aliceSignedIn();
    const message = request(sessionIndex);
    const before = await refusalCount(h, 'SAML_VERSION_UNSUPPORTED');
    const answer = await send(
      signed({ id: message.id, xml: message.xml.replace('Version="2.0"', 'Version="3.0"') }),
    );
    expect(answer.status, answer.body).to.equal(200);
    const verified = xmlsecVerify(answer.body, portalCertPem, `${NS.protocol}:LogoutResponse`);
    expect(verified.ok, verified.output).to.equal(true);
    expect(statusOf(await verifiedRoot(answer.body, message.id))).to.deep.equal({
      code: STATUS_VERSION_MISMATCH,
      second: STATUS_REQUEST_VERSION_TOO_HIGH,
    });
    expect(await refusalCount(h, 'SAML_VERSION_UNSUPPORTED')).to.equal(before + 1);
    expect(await page(browser), 'still signed in').to.equal(200);
    // Its ID was not spent: the broker's request in Version 2.0 ends the session.
    expect(await verifiedAnswer((await send(signed(message))).body, message.id)).to.equal(true);
    expect(await page(browser), 'signed out').to.equal(303);
  });

  it('ends the session the broker names and answers a signed Success LogoutResponse', async () => {
    const { browser, sessionIndex } = await aliceSignedIn();
    const message = request(sessionIndex);
    const answer = await send(signed(message));
    expect(answer.status).to.equal(200);
    expect(answer.type).to.match(/^text\/xml/);
    expect(await verifiedAnswer(answer.body, message.id)).to.equal(true);
    expect(await page(browser), 'signed out: the page sends her to sign in').to.equal(303);
    const line = h.logs.findLast((l) => l['event'] === 'portal.logout');
    expect(line).to.include({ initiator: 'broker' });
    expect(JSON.stringify(h.logs)).not.to.include('alice@acme.test');
    const keys = (await h.storedKeys()).map((k) => k.key);
    expect(keys.filter((k) => k.startsWith('portal:session-index:'))).to.have.length(0);
  });

  it('ends the session for a LogoutRequest in an envelope with an empty SOAP Header (bindings 3.2.2.2)', async () => {
    const { browser, sessionIndex } = await aliceSignedIn();
    const message = request(sessionIndex);
    const answer = await send(signed(message).replace('<soap11:Body>', '<soap11:Header/><soap11:Body>'));
    expect(answer.status, answer.body).to.equal(200);
    expect(await verifiedAnswer(answer.body, message.id)).to.equal(true);
    expect(await page(browser)).to.equal(303);
  });

  it('ends nothing when the NameID is another person with her SessionIndex (core 3.7.3.2)', async () => {
    const { browser, sessionIndex } = await aliceSignedIn();
    const message = request(sessionIndex, 'mallory@acme.test');
    const answer = await send(signed(message));
    expect(answer.status).to.equal(200);
    expect(await verifiedAnswer(answer.body, message.id), 'nothing of mallory was there').to.equal(true);
    expect(await page(browser), 'alice is still signed in').to.equal(200);
  });

  // Core 2.2.2, 3.7.3.1: a NameID is its value with its Format and qualifiers. The broker asserted
  // alice's e-mail with the e-mail Format and no qualifier; each of these names another identifier.
  const otherIdentifiers: Array<[string, Pick<LogoutRequestContent, 'nameIdFormat' | 'nameIdQualifiers'>]> = [
    ['another Format (persistent)', { nameIdFormat: NAMEID_PERSISTENT }],
    ['no Format (unspecified, core 8.3.1)', { nameIdFormat: undefined }],
    ['a NameQualifier', { nameIdQualifiers: { nameQualifier: 'https://other-idp.example.test' } }],
    ['an SPNameQualifier', { nameIdQualifiers: { spNameQualifier: 'https://other-sp.example.test' } }],
  ];
  for (const [what, identifier] of otherIdentifiers) {
    it(`answers a signed Requester/UnknownPrincipal to the broker's LogoutRequest naming her SessionIndex and her NameID value with ${what}, and keeps her session (ADR 0382)`, async () => {
      const { browser, sessionIndex } = await aliceSignedIn();
      const message = logoutRequest({ ...requestContent(sessionIndex), ...identifier });
      const before = await refusalCount(h, 'SAML_LOGOUT_NAMEID_MISMATCH');
      const answer = await send(signed(message));
      expect(answer.status, answer.body).to.equal(200);
      expect(statusOf(await verifiedRoot(answer.body, message.id))).to.deep.equal({
        code: STATUS_REQUESTER,
        second: STATUS_UNKNOWN_PRINCIPAL,
      });
      expect(await refusalCount(h, 'SAML_LOGOUT_NAMEID_MISMATCH')).to.equal(before + 1);
      expect(await page(browser), 'alice is still signed in').to.equal(200);
    });
  }

  it('answers two LogoutRequests for her session arriving at once each with a signed Success', async () => {
    const { browser, sessionIndex } = await aliceSignedIn();
    const messages = [request(sessionIndex), request(sessionIndex)];
    const answers = await Promise.all(messages.map((m) => send(signed(m))));
    for (const [i, answer] of answers.entries()) {
      expect(answer.status, answer.body).to.equal(200);
      // Core 3.7.3.2: Success once nothing of hers is left, whichever of the two ended it.
      expect(await verifiedAnswer(answer.body, messages[i]!.id)).to.equal(true);
    }
    expect(await page(browser)).to.equal(303);
  });

  describe('naming no SessionIndex: every session of the person (core 3.7.3.2)', () => {
    const bobSignedIn = async () => {
      const browser = await signIn(h, 'bob@acme.test', {
        sessionIndex: `_s${randomBytes(8).toString('hex')}`,
      });
      expect(await page(browser)).to.equal(200);
      return browser;
    };
    const everySessionContent = (nameId: string, nameIdFormat: string): LogoutRequestContent => ({
      issuer: BROKER_ENTITY_ID,
      destination: sloUrl(),
      now: new Date(),
      nameId,
      nameIdFormat,
    });
    const everySessionOf = (nameId: string, nameIdFormat: string) =>
      logoutRequest(everySessionContent(nameId, nameIdFormat));

    it('ends every session of the person its e-mail NameID names, nobody else’s, and answers Success', async () => {
      const [first, second] = [await bobSignedIn(), await bobSignedIn()];
      const { browser: alice } = await aliceSignedIn();
      const message = everySessionOf('bob@acme.test', NAMEID_EMAIL);
      const answer = await send(signed(message));
      expect(answer.status, answer.body).to.equal(200);
      expect(await verifiedAnswer(answer.body, message.id), 'Success, not PartialLogout').to.equal(true);
      expect(await page(first), "bob's first session").to.equal(303);
      expect(await page(second), "bob's second session").to.equal(303);
      expect(await page(alice), 'alice is still signed in').to.equal(200);
      expect(JSON.stringify(h.logs)).not.to.include('bob@acme.test');
      // Only sessions made until then: he signs in again.
      expect(await page(await bobSignedIn())).to.equal(200);
    });

    it('answers PartialLogout and ends nothing when the e-mail NameID carries a NameQualifier the broker did not assert (ADR 0382)', async () => {
      const bob = await bobSignedIn();
      const message = logoutRequest({
        ...everySessionContent('bob@acme.test', NAMEID_EMAIL),
        nameIdQualifiers: { nameQualifier: 'https://other-idp.example.test' },
      });
      const answer = await send(signed(message));
      expect(answer.status, answer.body).to.equal(200);
      expect(statusOf(await verifiedRoot(answer.body, message.id)).second).to.equal(STATUS_PARTIAL_LOGOUT);
      expect(await page(bob), 'bob is still signed in').to.equal(200);
    });

    it('answers PartialLogout and ends nothing when the NameID is not an e-mail address', async () => {
      const bob = await bobSignedIn();
      const message = everySessionOf('a1b2c3', NAMEID_TRANSIENT);
      const answer = await send(signed(message));
      expect(answer.status, answer.body).to.equal(200);
      expect(statusOf(await verifiedRoot(answer.body, message.id)).second).to.equal(STATUS_PARTIAL_LOGOUT);
      expect(await page(bob)).to.equal(200);
    });

    it('answers a Responder while Atlassian cannot say whose address it is, and ends the sessions when sent again', async () => {
      const bob = await bobSignedIn();
      const message = everySessionOf('bob@acme.test', NAMEID_EMAIL);
      const envelope = signed(message);
      h.emulator.faults.set(
        { status: 500, pathPrefix: '/rest/api/3/user/search' },
        ...[...h.emulator.state.serviceDesks.values()].map((desk) => ({
          status: 500,
          pathPrefix: `/rest/servicedeskapi/servicedesk/${desk.id}/customer`,
        })),
      );
      let failed: Awaited<ReturnType<typeof send>>;
      try {
        failed = await send(envelope);
      } finally {
        h.emulator.faults.clear();
      }
      expect(failed.status, failed.body).to.equal(200);
      expect(statusOf(await verifiedRoot(failed.body, message.id)).code).to.equal(STATUS_RESPONDER);
      expect(await page(bob), 'still signed in').to.equal(200);
      const again = await send(envelope);
      expect(await verifiedAnswer(again.body, message.id)).to.equal(true);
      expect(await page(bob)).to.equal(303);
    });
  });

  it('refuses a replayed LogoutRequest', async () => {
    const { sessionIndex } = await aliceSignedIn();
    const envelope = signed(request(sessionIndex));
    expect((await send(envelope)).status).to.equal(200);
    const again = await send(envelope);
    expect(again.status).to.equal(400);
    expect(again.body).to.include('<faultstring>SAML_REPLAY</faultstring>');
  });

  it('ends the session of a sign-in whose SessionIndex the broker asked to end before its Response came (ADR 0170)', async () => {
    // The broker ended its session and asked the portal while her browser carried the Response.
    const sessionIndex = `_s${randomBytes(8).toString('hex')}`;
    const message = request(sessionIndex);
    const answer = await send(signed(message));
    expect(await verifiedAnswer(answer.body, message.id), 'nothing to end yet: Success').to.equal(true);
    const from = h.logs.length;
    const refused = await attemptSignIn(h, 'alice@acme.test', { sessionIndex });
    expect(refused.status).to.equal(401);
    const refusedPage = await refused.text();
    expect(refusedPage).to.include('Please sign in again.');
    expect(reasons(h, from)).to.deep.equal(['PORTAL_SIGN_IN_ENDED_AT_IDP']);
    expect(shownReference(refusedPage)).to.deep.equal({
      reason: 'PORTAL_SIGN_IN_ENDED_AT_IDP',
      id: h.logs.slice(from).find((l) => l['reason'] === 'PORTAL_SIGN_IN_ENDED_AT_IDP')?.['reference'],
    });
    expect(
      refused.headers.getSetCookie().every((cookie) => /Max-Age=0/i.test(cookie)),
      'no session cookie',
    ).to.equal(true);
    const indexKey = `portal:session-index:${createHash('sha256').update(sessionIndex).digest('base64url')}`;
    const keys = (await h.storedKeys()).map((k) => k.key);
    expect(keys, 'the session made is gone, with its index').not.to.include(indexKey);
    // Another sign-in of hers, with the SessionIndex of its own, is hers to keep.
    expect(await page((await aliceSignedIn()).browser)).to.equal(200);
  });

  describe('on a redis-server of its own that stops answering (ADR 0164)', () => {
    let redis: LocalRedis;
    let outer: Harness;
    before(async () => {
      // This suite's helpers address the portal in `h`: here, for these tests, one whose store is a
      // redis-server a test can stall (SIGSTOP) without touching the others'.
      redis = await startLocalRedis();
      outer = h;
      h = await startHarness({ store: await connectedFlowStore('acme', redis.url), brokerKey: h.brokerKey });
    });
    after(async () => {
      await h?.close();
      h = outer;
      redis.process.kill('SIGCONT');
      await redis.stop();
    });

    it('answers a signed Responder, ends nothing, and the same LogoutRequest sent again ends her session', async () => {
      const { browser, sessionIndex } = await aliceSignedIn();
      const message = request(sessionIndex);
      const envelope = signed(message);
      const stalled = await whileStalled(redis, () => send(envelope));
      expect(stalled.status, stalled.body).to.equal(200);
      // Core 3.2.2.2: the responder could not act; no second-level code says "not now".
      expect(statusOf(await verifiedRoot(stalled.body, message.id))).to.deep.equal({
        code: STATUS_RESPONDER,
        second: undefined,
      });
      expect(stalled.body).to.include('temporarily unavailable; send the request again');
      expect(h.logs.findLast((l) => l['event'] === 'portal.error')).to.include({
        reason: 'FLOW_STORE_UNAVAILABLE',
      });
      expect(await page(browser), 'still signed in').to.equal(200);
      // Sent again once Redis answers: not taken for a replay.
      const again = await send(envelope);
      expect(again.status, again.body).to.equal(200);
      expect(await verifiedAnswer(again.body, message.id)).to.equal(true);
      expect(await page(browser)).to.equal(303);
      // Once its logout is done, the same envelope is a replay, refused as before.
      const replayed = await send(envelope);
      expect(replayed.status).to.equal(400);
      expect(replayed.body).to.include('<faultstring>SAML_REPLAY</faultstring>');
    });
  });

  describe('on a memory store full of sessions (ADR 0357, 0363)', () => {
    let store: MemoryFlowStore;
    let outer: Harness;
    before(async () => {
      // A room small enough that a few sign-ins fill it: the oldest SessionIndex key makes room.
      store = new MemoryFlowStore({ maxEntries: 24 });
      outer = h;
      h = await startHarness({ store, brokerKey: h.brokerKey });
    });
    after(async () => {
      await h?.close();
      h = outer;
      await store.close();
    });

    it("answers PartialLogout, not Success, for a session whose SessionIndex key was evicted while it still lives: the broker's logout does not reach it", async () => {
      const first = await aliceSignedIn();
      for (let i = 0; i < 8 && !store.evictions.get(''); i++) await aliceSignedIn();
      expect(store.evictions.get(''), 'a SessionIndex key evicted').to.be.greaterThan(0);
      const message = request(first.sessionIndex);
      const answer = await send(signed(message));
      expect(answer.status, answer.body).to.equal(200);
      expect(statusOf(await verifiedRoot(answer.body, message.id))).to.deep.equal({
        code: STATUS_SUCCESS,
        second: STATUS_PARTIAL_LOGOUT,
      });
      expect(h.logs.findLast((l) => l['event'] === 'portal.logout')).to.include({
        initiator: 'broker',
        result: 'partial',
        cause: 'sessions_evicted',
      });
      expect(await page(first.browser), 'her session was not found, and lives on').to.equal(200);
    });
  });

  const envelopeOf = (message: string) =>
    `<soap11:Envelope xmlns:soap11="${SOAP_ENVELOPE_NS}"><soap11:Body>${message}</soap11:Body></soap11:Envelope>`;

  it("reads the NameID as signed: a comment inserted after signing does not cut it to alice's (CVE-2017-11427 class)", async () => {
    const { browser, sessionIndex } = await aliceSignedIn();
    // The broker signed a request for someone whose NameID starts with hers; exc-c14n drops comments,
    // so the signature still verifies with a comment inserted where a first-text-node reader stops.
    const message = request(sessionIndex, 'alice@acme.test.evil.test');
    const envelope = signed(message).replace('alice@acme.test.evil.test', 'alice@acme.test<!---->.evil.test');
    const answer = await send(envelope);
    expect(answer.status, 'the signature holds').to.equal(200);
    expect(await verifiedAnswer(answer.body, message.id)).to.equal(true);
    expect(await page(browser), 'alice is still signed in').to.equal(200);
  });

  /** What is sent, the reason code, the envelope, and SOAP 1.1's faultcode when not `Client` (4.4.1). */
  const forgeries: Array<[string, string, (sessionIndex: string) => string, SoapFaultCode?]> = [
    ['unsigned', 'SAML_SIGNATURE_MISSING', (index) => envelopeOf(request(index).xml)],
    [
      'signed with another key',
      'SAML_SIGNATURE_INVALID',
      (index) => signed(request(index), makeKeyPair('evil')),
    ],
    [
      'altered after signing (another SessionIndex)',
      'SAML_SIGNATURE_INVALID',
      (index) => signed(request('_other')).replace('_other', index),
    ],
    [
      'not in a SOAP envelope',
      'SAML_BINDING_INVALID',
      (index) => {
        const message = request(index);
        return signEnveloped(message.xml, { id: message.id, ...h.brokerKey });
      },
    ],
    [
      'with a SOAP Header block for the portal marked mustUnderstand (SOAP 1.1 4.2.3)',
      'SAML_SOAP_HEADER_NOT_UNDERSTOOD',
      (index) =>
        signed(request(index)).replace(
          '<soap11:Body>',
          '<soap11:Header><x:Route xmlns:x="urn:example" soap11:mustUnderstand="1">x</x:Route></soap11:Header><soap11:Body>',
        ),
      'MustUnderstand',
    ],
    [
      'in a SOAP 1.2 envelope (SOAP 1.1 4.1.2)',
      'SAML_SOAP_VERSION_MISMATCH',
      (index) => signed(request(index)).replace(SOAP_ENVELOPE_NS, 'http://www.w3.org/2003/05/soap-envelope'),
      'VersionMismatch',
    ],
    [
      'next to a second message in the Body',
      'SAML_BINDING_INVALID',
      (index) => {
        const first = signed(request(index));
        const second = /<soap11:Body>(.*)<\/soap11:Body>/s.exec(signed(request(index)))![1]!;
        return first.replace('</soap11:Body>', `${second}</soap11:Body>`);
      },
    ],
    [
      'that is a LogoutResponse',
      'SAML_MESSAGE_TYPE_UNEXPECTED',
      () =>
        signed(
          logoutResponse({
            issuer: BROKER_ENTITY_ID,
            destination: sloUrl(),
            now: new Date(),
            inResponseTo: '_x',
            outcome: 'success',
          }),
        ),
    ],
    [
      'with a DTD declaring an external entity (XXE) used in the NameID',
      'SAML_DOCTYPE_FORBIDDEN',
      (index) =>
        `<?xml version="1.0"?><!DOCTYPE e [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${signed(
          request(index),
        ).replace('alice@acme.test', 'alice@acme.test&xxe;')}`,
    ],
    [
      'with a DTD of nested entities (billion laughs)',
      'SAML_DOCTYPE_FORBIDDEN',
      (index) =>
        `<!DOCTYPE e [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>${signed(
          request(index),
        ).replace('alice@acme.test', 'alice@acme.test&c;')}`,
    ],
    [
      "wrapped: a forged request for her, carrying the broker's signature of another request (XSW)",
      'SAML_SIGNATURE_REFERENCE_INVALID',
      (index) => {
        // A genuine request of the broker's, naming someone else, signed; its signature moves onto a
        // forged request naming alice, which carries the genuine one (unsigned now) in Extensions.
        const genuine = /<soap11:Body>(.*)<\/soap11:Body>/s.exec(
          signed(request('_other', 'mallory@acme.test')),
        )![1]!;
        const signature = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(genuine)![0];
        const forged = request(index).xml.replace(/^<\?xml[^>]*\?>/, '');
        return envelopeOf(
          forged.replace(
            '</saml:Issuer>',
            `</saml:Issuer>${signature}<samlp:Extensions>${genuine.replace(signature, '')}</samlp:Extensions>`,
          ),
        );
      },
    ],
    [
      "wrapped: a forged request for her, unsigned, carrying the broker's signed request in Extensions (XSW)",
      'SAML_SIGNATURE_MISSING',
      (index) => {
        const genuine = /<soap11:Body>(.*)<\/soap11:Body>/s.exec(
          signed(request('_other', 'mallory@acme.test')),
        )![1]!;
        const forged = request(index).xml.replace(/^<\?xml[^>]*\?>/, '');
        return envelopeOf(
          forged.replace('</saml:Issuer>', `</saml:Issuer><samlp:Extensions>${genuine}</samlp:Extensions>`),
        );
      },
    ],
    // Shapes xml-crypto threw on while loading: a refusal like any bad signature (ADR 0228).
    ...UNLOADABLE_SIGNATURES.map((shape): [string, string, (index: string) => string] => [
      `whose signature by the broker has ${shape.has}`,
      'SAML_SIGNATURE_INVALID',
      (index) => shape.tamper(signed(request(index))),
    ]),
    // Another Version is answered with a signed status (above), not a fault.
    ...LOGOUT_REQUEST_ATTACKS.filter((a) => a.reason !== 'SAML_VERSION_UNSUPPORTED').map(
      (attack): [string, string, (index: string) => string] => [
        attack.sends,
        attack.reason,
        (index) => {
          const message = request(index);
          return signed({ id: message.id, xml: attack.mutate(message.xml) });
        },
      ],
    ),
  ];

  for (const [sends, reason, forge, faultcode = 'Client'] of forgeries) {
    it(`refuses a LogoutRequest ${sends} (400 ${reason}, faultcode ${faultcode}), ending nothing`, async () => {
      const { browser, sessionIndex } = await aliceSignedIn();
      const before = await refusalCount(h, reason);
      const from = h.logs.length;
      const answer = await send(forge(sessionIndex));
      expect(answer.status).to.equal(400);
      expect(answer.body).to.include(`<faultstring>${reason}</faultstring>`);
      expect(answer.body).to.include(`<faultcode>soap11:${faultcode}</faultcode>`);
      expect(reasons(h, from)).to.include(reason);
      expect(await refusalCount(h, reason)).to.equal(before + 1);
      expect(await page(browser), 'still signed in').to.equal(200);
    });
  }
});
