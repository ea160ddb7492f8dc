import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A free TCP port on loopback, chosen by the kernel. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface LocalRedis {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts a throwaway redis-server on loopback (no persistence). Extra args, e.g. TLS flags, pass through. */
export async function startLocalRedis(extraArgs: string[] = [], port?: number): Promise<LocalRedis> {
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    throw new Error('redis-server is not installed (apt-get install redis-server)');
  }
  const chosen = port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'jsm-sso-redis-'));
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(chosen),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      ...extraArgs,
    ],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${chosen}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (
      spawnSync('redis-cli', ['-p', String(chosen), 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG'
    )
      break;
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`redis-server did not start on port ${chosen}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    port: chosen,
    process: child,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
