// Sign-out: the broker's LogoutResponse at /saml/slo gets every check of common/saml
// acceptProtocolMessage, and is bound to the LogoutRequest this portal sent. Each attack is signed
// with the broker's key, so only the check under test can refuse it.
import { deflateRawSync } from 'node:zlib';
import { expect } from 'chai';
import { inflateRedirectPayload } from '../../common/saml/index.js';
import { makeKeyPair } from '../../testkit/keys.js';
import {
  brokerLogoutResponseUrl,
  type Harness,
  reasons,
  signIn,
  signOut,
  useHarness,
} from '../../testkit/portal-harness.js';
import { LOGOUT_RESPONSE_ATTACKS, withRootAttribute } from '../saml/message-attacks.js';

describe('portal: the broker’s LogoutResponse', () => {
  let h: Harness;
  useHarness((started) => {
    h = started;
  });

  const signedInAndOut = async () => signOut(await signIn(h, 'alice@acme.test'));

  async function expectRefusal(url: string, reason: string): Promise<void> {
    const from = h.logs.length;
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status, reason).to.equal(400);
    expect(reasons(h, from)).to.include(reason);
  }

  it('ends the sign-out on a Success LogoutResponse that answers it, and removes the pending sign-out', async () => {
    const { requestId, relayState } = await signedInAndOut();
    const res = await fetch(brokerLogoutResponseUrl(h, { inResponseTo: requestId, relayState }));
    expect(res.status).to.equal(200);
    expect(await res.text()).to.include('You have signed out.');
    expect((await h.storedKeys()).filter((k) => k.key.startsWith('portal:logout:'))).to.deep.equal([]);
  });

  it('answers with a redirect to /signed-out, whose language switcher does not send the one-time LogoutResponse again', async () => {
    const { requestId, relayState } = await signedInAndOut();
    const answered = await fetch(brokerLogoutResponseUrl(h, { inResponseTo: requestId, relayState }), {
      redirect: 'manual',
    });
    expect(answered.status).to.equal(303);
    expect(answered.headers.get('location')).to.equal('/signed-out');
    const page = await (await fetch(`${h.url}/signed-out`)).text();
    expect(page).to.include('You have signed out.').and.not.include('SAMLResponse');
    const german = /href="(\/locale\?lang=de[^"]*)"/.exec(page)![1]!.replace(/&amp;/g, '&');
    const switched = await fetch(h.url + german, { redirect: 'manual' });
    expect(switched.headers.get('location')).to.equal('/signed-out');
    const cookie = switched.headers.getSetCookie()[0]!.split(';')[0]!;
    const again = await fetch(`${h.url}/signed-out`, { headers: { cookie } });
    expect(again.status).to.equal(200);
    expect(await again.text()).to.include('Sie sind abgemeldet.');
  });

  it('says the organization’s sign-in may still be open on PartialLogout', async () => {
    const { requestId, relayState } = await signedInAndOut();
    const res = await fetch(
      brokerLogoutResponseUrl(h, { inResponseTo: requestId, relayState, partial: true }),
    );
    expect(res.status).to.equal(200);
    expect(await res.text()).to.include('may still be open');
    expect(h.logs.findLast((l) => l['event'] === 'portal.logout_answered')?.['result']).to.equal('partial');
  });

  it('does not claim success on a Responder (non-Success) LogoutResponse: the sign-in may still be open', async () => {
    const { requestId, relayState } = await signedInAndOut();
    const failed = brokerLogoutResponseUrl(h, {
      inResponseTo: requestId,
      relayState,
      mutate: (xml) =>
        xml.replace(
          'urn:oasis:names:tc:SAML:2.0:status:Success',
          'urn:oasis:names:tc:SAML:2.0:status:Responder',
        ),
    });
    const answered = await fetch(failed, { redirect: 'manual' });
    expect(answered.headers.get('location')).to.equal('/signed-out?partial');
    expect(h.logs.findLast((l) => l['event'] === 'portal.logout_answered')?.['result']).to.equal('partial');
  });

  describe('refuses, and the genuine answer still completes the sign-out afterwards,', () => {
    let pending: { requestId: string; relayState: string };
    before(async () => {
      pending = await signedInAndOut();
    });
    const answer = (o: { mutate?: (xml: string) => string; key?: ReturnType<typeof makeKeyPair> } = {}) =>
      brokerLogoutResponseUrl(h, { inResponseTo: pending.requestId, relayState: pending.relayState, ...o });

    for (const attack of LOGOUT_RESPONSE_ATTACKS) {
      it(`a LogoutResponse ${attack.sends}: ${attack.reason}`, async () => {
        await expectRefusal(answer({ mutate: attack.mutate }), attack.reason);
      });
    }

    it('an unsigned LogoutResponse: SAML_SIGNATURE_MISSING', async () => {
      const unsigned = answer()
        .replace(/&SigAlg=[^&]*/, '')
        .replace(/&Signature=[^&]*/, '');
      await expectRefusal(unsigned, 'SAML_SIGNATURE_MISSING');
    });

    it('a LogoutResponse signed by a key other than the broker’s: SAML_SIGNATURE_INVALID', async () => {
      await expectRefusal(answer({ key: makeKeyPair('evil.example') }), 'SAML_SIGNATURE_INVALID');
    });

    it('a LogoutResponse swapped under the broker’s signature: SAML_SIGNATURE_INVALID', async () => {
      const url = new URL(answer());
      const forged = deflateRawSync(
        Buffer.from(`<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>`),
      ).toString('base64');
      url.searchParams.set('SAMLResponse', forged);
      await expectRefusal(url.href, 'SAML_SIGNATURE_INVALID');
    });

    it('a RelayState longer than the 80 bytes the binding allows: SAML_RELAY_STATE_TOO_LONG', async () => {
      const tooLong = brokerLogoutResponseUrl(h, {
        inResponseTo: pending.requestId,
        relayState: 'x'.repeat(81),
      });
      await expectRefusal(tooLong, 'SAML_RELAY_STATE_TOO_LONG');
    });

    it('a RelayState naming another site: no sign-out of that name, and nothing redirects there (SAML_IN_RESPONSE_TO_MISMATCH)', async () => {
      const from = h.logs.length;
      const hostile = brokerLogoutResponseUrl(h, {
        inResponseTo: pending.requestId,
        relayState: 'https://evil.example/phish',
      });
      const res = await fetch(hostile, { redirect: 'manual' });
      expect(res.status).to.equal(400);
      expect(res.headers.get('location')).to.equal(null);
      expect(reasons(h, from)).to.include('SAML_IN_RESPONSE_TO_MISMATCH');
    });

    it('— the genuine LogoutResponse is then accepted', async () => {
      expect((await fetch(answer())).status).to.equal(200);
    });
  });

  it('refuses an unsolicited LogoutResponse (no sign-out pending): SAML_IN_RESPONSE_TO_MISMATCH', async () => {
    await expectRefusal(
      brokerLogoutResponseUrl(h, { inResponseTo: '_never-sent' }),
      'SAML_IN_RESPONSE_TO_MISMATCH',
    );
  });

  it('refuses the same LogoutResponse a second time: its sign-out is already answered', async () => {
    const { requestId, relayState } = await signedInAndOut();
    const url = brokerLogoutResponseUrl(h, { inResponseTo: requestId, relayState });
    expect((await fetch(url)).status).to.equal(200);
    await expectRefusal(url, 'SAML_IN_RESPONSE_TO_MISMATCH');
  });

  it('refuses a LogoutResponse whose ID was already used, even for another sign-out: SAML_REPLAY', async () => {
    const first = await signedInAndOut();
    const used = brokerLogoutResponseUrl(h, { inResponseTo: first.requestId, relayState: first.relayState });
    expect((await fetch(used)).status).to.equal(200);
    const usedId = /ID="([^"]+)"/.exec(
      inflateRedirectPayload(new URL(used).searchParams.get('SAMLResponse')!),
    )![1]!;
    const second = await signedInAndOut();
    const reused = brokerLogoutResponseUrl(h, {
      inResponseTo: second.requestId,
      relayState: second.relayState,
      mutate: withRootAttribute('ID', usedId),
    });
    await expectRefusal(reused, 'SAML_REPLAY');
  });
});
