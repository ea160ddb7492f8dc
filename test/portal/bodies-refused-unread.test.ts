// A body the portal refuses is refused before a byte of it is read (ADR 0404): a declared length past
// the route's limit is answered 413 without "100 Continue" (RFC 9110 §10.1.1), so a client that waits
// for it (curl, .NET) uploads nothing; and a compressed body is 415 PORTAL_BODY_ENCODING, on every
// route that takes one (RFC 9110 §15.5.16): the portal decompresses no request.
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { MAX_POSTED_FORM_BYTES } from '../../common/saml/index.js';
import { MAX_REQUEST_BYTES } from '../../common/saml/protocol-message.js';
import { MAX_FORM_BYTES } from '../../portal/web.js';
import { postExpectingContinue } from '../../testkit/expect-continue.js';
import { csrfOf, type Harness, reasons, signIn, startHarness } from '../../testkit/portal-harness.js';

const FORM = 'application/x-www-form-urlencoded';
const PRINTER = 'Printer on 3rd floor jams every morning';
/** Past any form a route of the portal takes, its uploads' included. */
const TEN_GIB = 10 * 1024 ** 3;

/** A multipart body as a browser sends it, and its Content-Type. */
async function multipart(fields: Record<string, string>, file: string): Promise<[Buffer, string]> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', new Blob([file], { type: 'text/plain' }), 'notes.txt');
  const request = new Request('http://portal.test/', { method: 'POST', body: form });
  return [Buffer.from(await request.arrayBuffer()), request.headers.get('content-type') ?? ''];
}

describe('portal: a body refused unread (ADR 0404)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  /** Alice, signed in, and her Cookie header: a form of the portal's own is read only for someone signed in. */
  async function alicesCookie() {
    const alice = await signIn(h, 'alice@acme.test');
    return { alice, cookie: [...alice.cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
  }

  /** Alice, signed in, her printer request's attachment address, and her Cookie header. */
  async function alicesAttachment() {
    const { alice, cookie } = await alicesCookie();
    const key = h.keyOf(PRINTER);
    const csrf = csrfOf((await alice.text(`/requests/${key}`)).body);
    return { path: `/requests/${key}/attachment`, csrf, cookie };
  }

  /** No Cookie for a route anyone may post to; Alice's for the portal's own form. */
  const cookieFor = async (path: string): Promise<Record<string, string>> =>
    path === '/logout' ? { cookie: (await alicesCookie()).cookie } : {};

  describe('Expect: 100-continue with a length past the route’s limit is answered 413 at once, never 100', () => {
    for (const [route, path, contentType, limit, reason] of [
      ['the ACS (1 MiB)', '/saml/acs', FORM, MAX_POSTED_FORM_BYTES, 'PORTAL_BODY_TOO_LARGE'],
      ['a form (345 KiB)', '/logout', FORM, MAX_FORM_BYTES, 'PORTAL_BODY_TOO_LARGE'],
      ['the SOAP logout', '/saml/slo', 'text/xml', MAX_REQUEST_BYTES, 'PORTAL_BODY_TOO_LARGE'],
    ] as const) {
      it(`at ${route}: ${reason}, Connection: close, nothing read`, async () => {
        const from = h.logs.length;
        const answer = await postExpectingContinue(
          h.url,
          path,
          { 'content-type': contentType, origin: h.url, ...(await cookieFor(path)) },
          'x',
          limit + 1,
        );
        expect(answer.continued).to.equal(false);
        expect(answer.status).to.equal(413);
        expect(answer.headers['connection']).to.equal('close');
        expect(reasons(h, from)).to.deep.equal([reason]);
      });
    }

    it('at a file upload, a length past any form of its limits: PORTAL_FORM_TOO_LARGE', async () => {
      const { path, csrf, cookie } = await alicesAttachment();
      const [body, contentType] = await multipart({ _csrf: csrf }, 'a note');
      const from = h.logs.length;
      const answer = await postExpectingContinue(
        h.url,
        path,
        { 'content-type': contentType, origin: h.url, cookie },
        body,
        TEN_GIB,
      );
      expect(answer.continued).to.equal(false);
      expect(answer.status).to.equal(413);
      expect(answer.headers['connection']).to.equal('close');
      expect(reasons(h, from)).to.deep.equal(['PORTAL_FORM_TOO_LARGE']);
    });

    it('answers 100 Continue to a file upload within its limits, and the file is attached', async () => {
      const { path, csrf, cookie } = await alicesAttachment();
      const [body, contentType] = await multipart({ _csrf: csrf }, 'a note');
      const answer = await postExpectingContinue(
        h.url,
        path,
        { 'content-type': contentType, origin: h.url, cookie },
        body,
      );
      expect(answer.continued).to.equal(true);
      expect(answer.status).to.equal(303);
    });

    it('answers 100 Continue to a form within its limit, which is read', async () => {
      const from = h.logs.length;
      const answer = await postExpectingContinue(
        h.url,
        '/saml/acs',
        { 'content-type': FORM, origin: h.url },
        'SAMLResponse=x',
      );
      expect(answer.continued).to.equal(true);
      expect(reasons(h, from)).to.not.include('PORTAL_BODY_TOO_LARGE');
    });
  });

  describe('a form from no one signed in is refused before its body is read', () => {
    // The sign-out form was read before its session was looked for: anyone, uncounted, could make
    // the portal hold and parse a form of MAX_FORM_BYTES (345 KB since ADR 0442, 64 KB before) per
    // request, where every other form is read only for a customer signed in (ADR 0446).
    it('at /logout: 401 PORTAL_SESSION_MISSING, never 100, for a form within the limit', async () => {
      const from = h.logs.length;
      const body = `_csrf=${'x'.repeat(MAX_FORM_BYTES - '_csrf='.length)}`;
      const answer = await postExpectingContinue(
        h.url,
        '/logout',
        { 'content-type': FORM, origin: h.url },
        body,
      );
      expect(answer.continued).to.equal(false);
      expect(answer.status).to.equal(401);
      expect(reasons(h, from)).to.deep.equal(['PORTAL_SESSION_MISSING']);
    });
  });

  describe('a compressed body is 415 PORTAL_BODY_ENCODING wherever a body is taken', () => {
    const gzipped = (text: string) => gzipSync(text);

    for (const [route, path, contentType, body] of [
      ['the ACS', '/saml/acs', FORM, 'SAMLResponse=x'],
      ['a form', '/logout', FORM, '_csrf=x'],
      ['the SOAP logout', '/saml/slo', 'text/xml', '<Envelope/>'],
    ] as const) {
      it(`at ${route}, a gzip body that inflates well`, async () => {
        const from = h.logs.length;
        const res = await fetch(`${h.url}${path}`, {
          method: 'POST',
          body: new Uint8Array(gzipped(body)),
          headers: {
            'content-type': contentType,
            'content-encoding': 'gzip',
            origin: h.url,
            ...(await cookieFor(path)),
          },
        });
        expect(res.status).to.equal(415);
        expect(await res.text()).to.include('The form’s encoding is not supported.');
        expect(reasons(h, from)).to.deep.equal(['PORTAL_BODY_ENCODING']);
      });
    }

    it('at a file upload', async () => {
      const { path, csrf, cookie } = await alicesAttachment();
      const [body, contentType] = await multipart({ _csrf: csrf }, 'a note');
      const from = h.logs.length;
      const res = await fetch(`${h.url}${path}`, {
        method: 'POST',
        body: new Uint8Array(gzipped(body.toString('latin1'))),
        headers: { 'content-type': contentType, 'content-encoding': 'gzip', origin: h.url, cookie },
      });
      expect(res.status).to.equal(415);
      expect(reasons(h, from)).to.deep.equal(['PORTAL_BODY_ENCODING']);
    });
  });
});
