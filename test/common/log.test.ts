import { Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { expect } from 'chai';
import { createLogger, maskEmails, REDACTED, redact } from '../../common/log.js';

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

  describe('e-mail masking', () => {
    // The expression the masking finds the matches of; run by String.replace it is quadratic.
    const EMAIL_SHAPE = /[\p{L}\p{M}\p{N}._%+-]+@[\p{L}\p{M}\p{N}.-]+\.[\p{L}\p{M}]{2,}/gu;

    it('masks what the expression matches, and only that, on 30,000 generated texts', () => {
      // Letters of several scripts, a combining mark, digits, an astral letter, a lone surrogate,
      // and every character the expression treats apart.
      const alphabet = [
        'a',
        'Z',
        'é',
        '\u0301',
        '٣',
        '7',
        '𝐀',
        '\ud800',
        '.',
        '.',
        '_',
        '%',
        '+',
        '-',
        '@',
        '@',
        ' ',
        '/',
        ',',
      ];
      let seed = 0x2545f491; // xorshift32: the same texts on every run
      const next = () => {
        seed ^= seed << 13;
        seed ^= seed >>> 17;
        seed ^= seed << 5;
        return (seed >>> 0) / 2 ** 32;
      };
      for (let n = 0; n < 30_000; n++) {
        let text = '';
        const length = Math.floor(next() * 24);
        for (let i = 0; i < length; i++) text += alphabet[Math.floor(next() * alphabet.length)];
        expect(maskEmails(text), JSON.stringify(text)).to.equal(text.replace(EMAIL_SHAPE, REDACTED));
      }
    });

    it('masks a log line of 600,000 letters around an @ in linear time, as it masks a short one', async function () {
      // The expression backtracks from each of the 300,000 starting letters: many minutes of CPU,
      // which would hold this thread, so the text is masked on a worker and the test's timeout ends
      // it; the scan reads each character a few times (well under a second on a loaded machine).
      this.timeout(30_000);
      const worker = new Worker(
        `const { parentPort, workerData } = require('node:worker_threads');
        import(workerData).then(({ maskEmails }) => {
          const letters = 'a'.repeat(300000);
          parentPort.postMessage([
            maskEmails(letters + '@' + letters) === letters + '@' + letters,
            maskEmails(letters + '@' + letters + '.test'),
            maskEmails(letters + ' ' + letters + ' x@y.test') === letters + ' ' + letters + ' [redacted]',
          ]);
        });`,
        { eval: true, workerData: new URL('../../common/log.ts', import.meta.url).href },
      );
      try {
        const answer = await new Promise((resolve, reject) => {
          worker.once('message', resolve);
          worker.once('error', reject);
        });
        expect(answer).to.deep.equal([true, REDACTED, true]);
      } finally {
        await worker.terminate();
      }
    });
  });
});
