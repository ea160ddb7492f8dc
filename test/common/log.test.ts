import { Writable } from 'node:stream';
import { expect } from 'chai';
import { createLogger, redact } from '../../common/log.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { lines, logger: createLogger({ component: 'test', tenant: 'acme', destination }) };
}

describe('structured logs', () => {
  it('carry tenant, component and event as JSON fields', () => {
    const { lines, logger } = capture();
    logger.info({ event: 'broker.login', idp: 'corp' }, 'login');
    expect(lines[0]).to.include({
      tenant: 'acme',
      component: 'test',
      event: 'broker.login',
      idp: 'corp',
      level: 'info',
    });
  });

  it('never write secrets, tokens, SAML messages or e-mail addresses', () => {
    const { lines, logger } = capture();
    logger.warn(
      {
        event: 'x',
        clientSecret: 's3cret',
        apiToken: 'tok',
        headers: { authorization: 'Basic abc', cookie: '__Host-sid=1' },
        SAMLResponse: 'PHNhbWw+',
        nested: { id_token: 'eyJ', note: 'contact alice@acme.test now', email: 'bob@acme.test' },
        list: ['carol@partner.test'],
      },
      'failed for dave@acme.test',
    );
    const text = JSON.stringify(lines[0]);
    for (const leaked of [
      's3cret',
      'tok"',
      'Basic abc',
      '__Host-sid',
      'PHNhbWw+',
      'eyJ',
      '@acme.test',
      '@partner.test',
    ]) {
      expect(text).not.to.include(leaked);
    }
    expect(text).to.include('contact [redacted] now');
  });

  it('masks internationalised addresses whole (RFC 6531 local parts, IDN domains), as ASCII ones', () => {
    const { lines, logger } = capture();
    logger.warn(
      { event: 'x', note: 'from jörg@acme.test, x@bücher.example and 太郎@例え.jp' },
      'for zoë@acme.test',
    );
    const text = JSON.stringify(lines[0]);
    for (const leaked of ['jö', 'bücher', '太郎', '例え', 'zo']) expect(text).not.to.include(leaked);
    expect(lines[0]?.['note']).to.equal('from [redacted], [redacted] and [redacted]');
  });

  it('redacts errors by message, keeping their code', () => {
    const err = Object.assign(new Error('no customer eve@acme.test'), { code: 'CUSTOMER_NOT_FOUND' });
    expect(redact({ err })).to.deep.equal({
      err: { type: 'Error', message: 'no customer [redacted]', code: 'CUSTOMER_NOT_FOUND' },
    });
  });
});
