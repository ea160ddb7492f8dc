// A body the broker refuses is refused before a byte of it is read (ADR 0404): a declared length past
// the endpoint's limit is answered 413 without "100 Continue" (RFC 9110 §10.1.1), and a compressed form
// or SOAP envelope is 415 HTTP_CONTENT_ENCODING_UNSUPPORTED (RFC 9110 §15.5.16), not read as the
// compressed bytes, which were no form (a vaguer SAML_BINDING_INVALID) or no envelope.
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { MAX_FORM_BYTES, readSoapEnvelope } from '../../broker/http.js';
import type { JsmSsoError } from '../../common/errors.js';
import type { RunningServer } from '../../common/http/server.js';
import { type Stack, startStack } from '../../testkit/broker-harness.js';
import { postExpectingContinue } from '../../testkit/expect-continue.js';
import { startLoopbackServer } from '../../testkit/loopback-server.js';

const FORM = 'application/x-www-form-urlencoded';

describe('broker: a body refused unread (ADR 0404)', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => stack.close());

  const refusalsSince = (from: number) =>
    stack.broker.logs
      .slice(from)
      .filter((l) => l['event'] === 'broker.refusal')
      .map((l) => l['reason']);
  /** A SAML POST of a small form, with Expect: 100-continue, declaring `contentLength` if given. */
  const postSamlForm = (contentLength?: number) =>
    postExpectingContinue(
      stack.broker.url,
      '/saml/sso',
      { 'content-type': FORM },
      'SAMLRequest=x',
      contentLength,
    );

  it('answers a SAML POST declaring more than the form limit 413 HTTP_BODY_TOO_LARGE at once, never 100 Continue', async () => {
    const from = stack.broker.logs.length;
    const answer = await postSamlForm(MAX_FORM_BYTES + 1);
    expect(answer.continued).to.equal(false);
    expect(answer.status).to.equal(413);
    expect(answer.headers['connection']).to.equal('close');
    expect(answer.body).to.include('HTTP_BODY_TOO_LARGE');
    expect(refusalsSince(from)).to.deep.equal(['HTTP_BODY_TOO_LARGE']);
  });

  it('answers 100 Continue to a SAML POST within the limit, and reads it', async () => {
    const from = stack.broker.logs.length;
    const answer = await postSamlForm();
    expect(answer.continued).to.equal(true);
    // Read and judged: no SAML message, not a body refused.
    expect(refusalsSince(from)).to.have.length(1).and.not.include('HTTP_BODY_TOO_LARGE');
  });

  it('refuses a gzip SAML POST 415 HTTP_CONTENT_ENCODING_UNSUPPORTED', async () => {
    const from = stack.broker.logs.length;
    const res = await fetch(`${stack.broker.url}/saml/sso`, {
      method: 'POST',
      headers: { 'content-type': FORM, 'content-encoding': 'gzip' },
      body: new Uint8Array(gzipSync('SAMLRequest=x&RelayState=rs')),
    });
    expect(res.status).to.equal(415);
    expect(await res.text()).to.include('HTTP_CONTENT_ENCODING_UNSUPPORTED');
    expect(refusalsSince(from)).to.deep.equal(['HTTP_CONTENT_ENCODING_UNSUPPORTED']);
  });
});

describe('broker: a SOAP envelope refused unread (ADR 0404)', () => {
  const LIMIT = 1024;
  let server: RunningServer;
  before(async () => {
    // As the broker's SOAP logout endpoint reads its envelope (broker/soap-logout.ts).
    server = await startLoopbackServer((req, res) => {
      readSoapEnvelope(req, LIMIT).then(
        (envelope) => res.end(`read ${envelope}`),
        (err: JsmSsoError) => {
          res.statusCode = err.status;
          res.end(err.code);
        },
      );
    });
  });
  after(() => server.close(100));

  it('refuses a gzip envelope 415 HTTP_CONTENT_ENCODING_UNSUPPORTED, never 100 Continue', async () => {
    const answer = await postExpectingContinue(
      server.url,
      '/saml/soap',
      { 'content-type': 'text/xml', 'content-encoding': 'gzip' },
      gzipSync('<Envelope/>'),
    );
    expect([answer.continued, answer.status, answer.body]).to.deep.equal([
      false,
      415,
      'HTTP_CONTENT_ENCODING_UNSUPPORTED',
    ]);
  });

  it('refuses an envelope declaring more than its limit 413, never 100 Continue', async () => {
    const answer = await postExpectingContinue(
      server.url,
      '/saml/soap',
      { 'content-type': 'text/xml' },
      '<',
      LIMIT + 1,
    );
    expect([answer.continued, answer.status, answer.body]).to.deep.equal([false, 413, 'HTTP_BODY_TOO_LARGE']);
  });

  it('reads an envelope within its limit after 100 Continue', async () => {
    const answer = await postExpectingContinue(
      server.url,
      '/saml/soap',
      { 'content-type': 'text/xml' },
      '<Envelope/>',
    );
    expect([answer.continued, answer.status, answer.body]).to.deep.equal([true, 200, 'read <Envelope/>']);
  });
});
