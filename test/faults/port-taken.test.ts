// A part whose port another process holds (EADDRINUSE), or which it may not open (EACCES: a port
// below 1024 without the capability), stops with one log line naming the port and its flag, with a
// reason code, and a documented exit code: not a Node stack trace (ADR 0205). Real processes, the
// port held by a real listener.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { stringify } from 'yaml';
import { brokerCommand } from '../../testkit/broker-process.js';
import { exited, jsmSso, onLogLine, SOURCE_ENTRY } from '../../testkit/part-process.js';

async function holdPort(): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}
const portOf = (server: Server) => (server.address() as { port: number }).port;

/** The process ends with exit 3, nothing on stderr, and one failure line: PORT_UNAVAILABLE and `expected`. */
async function expectPortUnavailable(
  child: ChildProcess,
  expected: { error: string; port: number; flag: string; server?: string },
): Promise<void> {
  const lines: Record<string, unknown>[] = [];
  onLogLine(child, (line) => lines.push(line));
  const { code, stderr } = await exited(child);
  expect(stderr, 'no stack trace').to.equal('');
  expect(code).to.equal(3);
  const failed = lines.filter((l) => l['level'] === 'fatal' || l['level'] === 'error');
  expect(failed).to.have.length(1);
  expect(failed[0]).to.include({ event: 'server.listen_failed', reason: 'PORT_UNAVAILABLE', ...expected });
}

describe('faults: a port a part cannot open (real process)', function () {
  this.timeout(60_000);

  for (const which of ['public', 'management'] as const) {
    it(`broker: the ${which} port held by another process is one line (PORT_UNAVAILABLE, EADDRINUSE) and exit 3`, async () => {
      const held = await holdPort();
      const port = portOf(held);
      const command = await brokerCommand({
        drainSeconds: 0,
        ...(which === 'public' ? { port } : { managementPort: port }),
      });
      try {
        await expectPortUnavailable(jsmSso(command.args), {
          error: 'EADDRINUSE',
          port,
          flag: which === 'public' ? '--port' : '--management-port',
        });
      } finally {
        held.close();
        await command.cleanup();
      }
    });
  }

  it('operator: its management port (metrics, health) held is the same line and exit 3', async () => {
    const held = await holdPort();
    const dir = mkdtempSync(join(tmpdir(), 'jsm-sso-port-'));
    try {
      // An API server that is not there: the management port opens before the operator asks it anything.
      const kubeconfig = join(dir, 'kubeconfig');
      writeFileSync(
        kubeconfig,
        stringify({
          apiVersion: 'v1',
          kind: 'Config',
          'current-context': 'c',
          contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }],
          clusters: [{ name: 'k', cluster: { server: 'http://127.0.0.1:9' } }],
          users: [{ name: 'u', user: { token: 'not-used' } }],
        }),
      );
      await expectPortUnavailable(
        jsmSso([
          'operator',
          '--kubeconfig',
          kubeconfig,
          '--image',
          'jsm-sso:test',
          '--disable-leader-election',
          '--host',
          '127.0.0.1',
          '--management-port',
          String(portOf(held)),
        ]),
        { server: 'management', error: 'EADDRINUSE', port: portOf(held), flag: '--management-port' },
      );
    } finally {
      held.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a pool run as a user that may not open a port below 1024 (EACCES) is the same line and exit 3', async () => {
    // A hardened pod: not root, no CAP_NET_BIND_SERVICE. The pool opens its management port before
    // it reads a tenant, so an empty folder of tenants is all it needs.
    const dir = mkdtempSync(join(tmpdir(), 'jsm-sso-port-'));
    try {
      const nobody = 65534;
      const child = jsmSso(
        ['portal', '--pool-dir', dir, '--host', '127.0.0.1', '--management-port', '81', '--port', '0'],
        { HOME: dir },
        SOURCE_ENTRY,
        // Run as root (as CI runs here), the test drops to nobody; otherwise it is not root already.
        process.getuid?.() === 0 ? { uid: nobody, gid: nobody } : undefined,
      );
      await expectPortUnavailable(child, { error: 'EACCES', port: 81, flag: '--management-port' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
