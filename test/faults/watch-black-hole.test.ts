import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect } from 'chai';
import { packageRoot } from '../../common/paths.js';

/**
 * A watch whose connection goes silent without a reset (a control-plane node lost, a load balancer
 * dropping its flows): every packet of it dropped in a network namespace of the test's own (root
 * only, as CI has it). client-go finds such a connection dead within about 45 s (HTTP/2 pings after
 * 30 s idle, 15 s to answer); the informer's watchdog alone waits 1.5 times the watch's timeout,
 * 450 s, during which a pool serves its tenants as they were (ADR 0251).
 */
describe('a watch whose packets are dropped (iptables in a network namespace)', function () {
  this.timeout(90_000);
  let child: ChildProcess | undefined;

  after(() => {
    if (child?.exitCode === null) child.kill('SIGKILL');
  });

  it('is found dead by TCP keepalive within a minute, and the informer retries', async () => {
    child = spawn(
      'unshare',
      [
        '-n',
        'sh',
        '-c',
        'ip link set lo up && exec "$@"',
        'sh',
        process.execPath,
        '--import=tsx',
        join(packageRoot(), 'testkit/watch-black-hole-child.ts'),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const lines: string[] = [];
    const dropped = await new Promise<Record<string, unknown>>((resolve, reject) => {
      createInterface({ input: child!.stdout! }).on('line', (line) => {
        lines.push(line);
        const parsed = JSON.parse(line) as Record<string, unknown>;
        if (parsed['event'] === 'dropped') resolve(parsed);
      });
      child!.once('exit', (code) => reject(new Error(`the child exited with ${code}: ${stderr}`)));
      const said = () => `the child said: ${lines.join(' ')}`;
      setTimeout(() => reject(new Error(`the watch was not found dead in 75 s; ${said()}`)), 75_000);
    });
    expect(dropped['ms']).to.be.below(60_000);
  });
});
