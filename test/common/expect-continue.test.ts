// `Expect: 100-continue` at the server every part runs (common/http/server.ts, ADR 0404): "100 Continue"
// only once the route reads the body, so a request its route refuses unread is answered without it.
import { expect } from 'chai';
import type { RunningServer } from '../../common/http/server.js';
import { postExpectingContinue } from '../../testkit/expect-continue.js';
import { startLoopbackServer } from '../../testkit/loopback-server.js';

const LIMIT = 16;

describe('the public server: Expect: 100-continue (ADR 0404)', () => {
  let server: RunningServer;
  /** The bodies a handler read. */
  const read: string[] = [];

  before(async () => {
    // As every body reader of the parts: the declared length judged before a byte is read.
    server = await startLoopbackServer(async (req, res) => {
      if (Number(req.headers['content-length']) > LIMIT) {
        res.statusCode = 413;
        res.end('too large');
        return;
      }
      let body = '';
      for await (const chunk of req) body += chunk;
      read.push(body);
      res.end(`read ${body}`);
    });
  });
  after(() => server.close(100));
  beforeEach(() => {
    read.length = 0;
  });

  it('answers a body its route refuses unread with the final 413 and Connection: close, never 100 Continue', async () => {
    const answer = await postExpectingContinue(server.url, '/x', {}, 'x'.repeat(LIMIT + 1));
    expect(answer.continued).to.equal(false);
    expect(answer.status).to.equal(413);
    expect(answer.headers['connection']).to.equal('close');
    expect(read).to.deep.equal([]);
  });

  it('answers 100 Continue to a body its route reads, and the route gets it whole', async () => {
    const answer = await postExpectingContinue(server.url, '/x', {}, 'small body');
    expect(answer.continued).to.equal(true);
    expect(answer.status).to.equal(200);
    expect(answer.body).to.equal('read small body');
    expect(read).to.deep.equal(['small body']);
  });

  it('answers an expectation other than 100-continue 417, no route run', async () => {
    const answer = await postExpectingContinue(server.url, '/x', { expect: '200-ok' }, 'small');
    expect(answer.status).to.equal(417);
    expect(read).to.deep.equal([]);
  });
});
