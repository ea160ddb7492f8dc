// Request smuggling and framing tricks sent to the server every part runs (common/http/server.ts), as a
// raw socket sends them (ADR 0394): Node's strict parser refuses each, no handler gets a request whole, and
// nothing here may turn that off (no insecureHTTPParser, no larger header limit).
import { connect } from 'node:net';
import { expect } from 'chai';
import type { RunningServer } from '../../common/http/server.js';
import { startLoopbackServer } from '../../testkit/loopback-server.js';

/** Sends `raw` and gives back the answer's status line, once the server has closed the connection. */
function statusLineOf(server: RunningServer, raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(answer.split('\r\n')[0] ?? ''));
    socket.end(raw);
  });
}

describe('the public server: request framing tricks (ADR 0394)', () => {
  let server: RunningServer;
  /** The requests a handler received whole. */
  const seen: string[] = [];

  before(async () => {
    server = await startLoopbackServer((req, res) => {
      req.resume();
      req.once('end', () => {
        seen.push(`${req.method} ${req.url}`);
        res.end('handled');
      });
    });
  });
  after(() => server.close(100));
  beforeEach(() => {
    seen.length = 0;
  });

  const smuggled = 'GET /smuggled HTTP/1.1\r\nHost: a.test\r\n\r\n';
  const refused: Array<[string, string, string]> = [
    [
      'Content-Length with Transfer-Encoding (CL.TE)',
      `POST /x HTTP/1.1\r\nHost: a.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
      '400',
    ],
    [
      'two Content-Lengths that differ',
      'POST /x HTTP/1.1\r\nHost: a.test\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde',
      '400',
    ],
    [
      'a Transfer-Encoding that is not chunked',
      `POST /x HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${smuggled}`,
      '400',
    ],
    [
      'chunked not last',
      `POST /x HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n${smuggled}`,
      '400',
    ],
    [
      'a space before the colon',
      `POST /x HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n${smuggled}`,
      '400',
    ],
    ['bare LF line ends', 'GET /x HTTP/1.1\nHost: a.test\n\n', '400'],
    ['a folded header line (obs-fold)', 'GET /x HTTP/1.1\r\nHost: a.test\r\nX-A: b\r\n c\r\n\r\n', '400'],
    [
      '20 KB of header fields',
      `GET /x HTTP/1.1\r\nHost: a.test\r\nX-A: ${'a'.repeat(20_000)}\r\n\r\n`,
      '431',
    ],
    [
      'an expectation other than 100-continue',
      'POST /x HTTP/1.1\r\nHost: a.test\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\na',
      '417',
    ],
    ["HTTP/2's preface on the HTTP/1.1 port", 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', '400'],
  ];
  for (const [name, raw, status] of refused) {
    it(`refuses ${name} (${status}) and no handler receives a request whole`, async () => {
      expect(await statusLineOf(server, raw)).to.match(new RegExp(`^HTTP/1\\.1 ${status} `));
      expect(seen).to.deep.equal([]);
    });
  }

  it('closes a CONNECT without an answer and without a handler: the parts are no proxy', async () => {
    expect(
      await statusLineOf(server, 'CONNECT evil.test:443 HTTP/1.1\r\nHost: evil.test:443\r\n\r\n'),
    ).to.equal('');
    expect(seen).to.deep.equal([]);
  });
});
