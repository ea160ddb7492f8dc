// A client that sends its request body slower than it may (a slowloris, or a phone losing its
// network in the middle of an upload) is cut at the request timeout, within a bounded time.
import { connect } from 'node:net';
import { expect } from 'chai';
import { startServer } from '../../common/http/server.js';
import { createLogger } from '../../common/log.js';
import { timed } from '../../testkit/timed.js';

const REQUEST_TIMEOUT_MS = 1000;

describe('faults: a client that trickles its request body', function () {
  this.timeout(30_000);
  it('is answered 408 and its connection closed soon after the request timeout, the handler seeing the request end', async () => {
    let handlerSawEnd: 'complete' | 'cut' | undefined;
    const server = await startServer({
      name: 'slow-client',
      port: 0,
      host: '127.0.0.1',
      logger: createLogger({ component: 'test', level: 'silent' }),
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      handler: (req, res) => {
        req.resume();
        req.once('close', () => {
          handlerSawEnd = req.complete ? 'complete' : 'cut';
        });
        req.once('end', () => res.end('read'));
      },
    });
    try {
      const socket = connect(server.port, '127.0.0.1');
      socket.on('error', () => undefined);
      let answer = '';
      socket.on('data', (chunk: Buffer) => {
        answer += chunk.toString('latin1');
      });
      const closed = new Promise((resolve) => socket.once('close', resolve));
      const cut = await timed(async () => {
        socket.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n');
        socket.write('only the start of it');
        await closed;
      });
      expect(answer).to.match(/^HTTP\/1\.1 408 /);
      expect(handlerSawEnd).to.equal('cut');
      // Design: the timeout plus at most one check interval (half the timeout here); the margin is
      // for a loaded machine.
      expect(cut.ms, 'the connection cut after (ms)').to.be.below(4 * REQUEST_TIMEOUT_MS);
    } finally {
      await server.close(100);
    }
  });
});
