import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { waitFor } from '../../dev/stack.js';

describe('npm start waiting for its parts', () => {
  it('names why a part never got ready, from its /readyz (REDIS_URL naming a Redis that is not running)', async () => {
    const server = createServer((_req, res) => {
      res.statusCode = 503;
      res.end('not ready: the shared state store cannot be reached\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/readyz`;
    try {
      const failure = await waitFor(url, 'broker', {}, 500).then(
        () => undefined,
        (err: Error) => err.message,
      );
      expect(failure).to.equal(
        `broker did not become ready at ${url}: HTTP 503 (not ready: the shared state store cannot be reached)`,
      );
    } finally {
      server.close();
    }
  });
});
