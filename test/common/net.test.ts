import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { expect } from 'chai';
import { freePort } from '../../common/net.js';

describe('freePort: ports for servers started later, out of the way of outgoing connections', () => {
  const [ephemeralLow] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
    .trim()
    .split(/\s+/)
    .map(Number);

  it('draws below the kernel ephemeral range, where no outgoing connection takes a port', async () => {
    for (let i = 0; i < 20; i++) {
      const port = await freePort();
      expect(port).to.be.at.least(20_000);
      expect(port).to.be.below(ephemeralLow!);
    }
  });

  it('never hands out one port twice in a process, and each can be listened on', async () => {
    const ports = await Promise.all(Array.from({ length: 200 }, () => freePort()));
    expect(new Set(ports).size).to.equal(ports.length);
    const servers = await Promise.all(
      ports.slice(0, 20).map(
        (port) =>
          new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
            const server = createServer();
            server.once('error', reject);
            server.listen(port, '127.0.0.1', () => resolve(server));
          }),
      ),
    );
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  });
});
