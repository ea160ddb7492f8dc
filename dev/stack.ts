// The local stack's process keeping, shared by `npm start` and `npm start -- --pool`: every child is
// this same CLI (so the real entry points run), its log lines echoed with its name, progress lines
// timed from the start, and Ctrl-C (or one child dying) stops every child and removes the stack's
// temporary folder.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prettyFactory } from 'pino-pretty';
import { Agent, fetch as undiciFetch } from 'undici';
import { DEV_CLIENT_ID } from './tenant.js';

/** The last line a stack prints: this prefix, then its URLs as JSON (tests and scripts read it). */
export const READY_LINE = 'jsm-sso dev stack ready: ';

export interface Stack {
  /** The stack's temporary folder, removed when it stops. */
  readonly dir: string;
  /** `[dev] message (N.N s)`: what the stack is doing, so a slow start is never silent. */
  progress(message: string): void;
  /** Runs `jsm-sso ...args` as the child `name`. */
  start(name: string, args: string[]): void;
  /**
   * Stops every child and removes the folder, for a start that failed: the error is the caller's
   * to report, and no child (nor the folder's keys) may outlive the command that made it.
   */
  close(): Promise<void>;
}

export function createStack(options: { quiet: boolean }): Stack {
  const began = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'jsm-sso-dev-'));
  const children: { name: string; child: ChildProcess }[] = [];
  let stopping = false;
  const close = async () => {
    stopping = true;
    for (const { child } of [...children].reverse()) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        child.kill('SIGKILL');
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const stopAll = async (code: number) => {
    if (stopping) return;
    await close();
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  // JSON log lines are made readable in a terminal; piped output stays JSON for tools.
  const format = process.stdout.isTTY ? readableLogLine() : (line: string) => line;
  return {
    dir,
    close,
    progress: (message) => console.log(`[dev] ${message} (${((Date.now() - began) / 1000).toFixed(1)} s)`),
    start: (name, args) => {
      const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      for (const stream of [child.stdout, child.stderr]) {
        let buffered = '';
        stream?.on('data', (chunk: Buffer) => {
          buffered += chunk;
          const lines = buffered.split('\n');
          buffered = lines.pop() ?? '';
          if (!options.quiet) for (const line of lines) process.stdout.write(`[${name}] ${format(line)}\n`);
        });
      }
      child.once('exit', (code, signal) => {
        if (stopping) return;
        console.error(`[dev] ${name} exited (${signal ?? code}); stopping the stack`);
        void stopAll(1);
      });
      children.push({ name, child });
    },
  };
}

function readableLogLine(): (line: string) => string {
  const pretty = prettyFactory({ colorize: true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss' });
  return (line) => {
    if (!line.startsWith('{')) return line;
    try {
      return pretty(JSON.parse(line)).trimEnd();
    } catch {
      return line;
    }
  };
}

/**
 * Connections to `localhost` and names under `.localhost` go to 127.0.0.1, as browsers resolve them
 * (RFC 6761): the system resolver need not know `acme.localhost`. Any other name is refused, so this
 * never reaches past the machine.
 */
const loopbackNames = new Agent({
  connect: {
    lookup: (hostname, options, callback) => {
      const name = hostname.toLowerCase();
      if (name !== 'localhost' && !name.endsWith('.localhost')) {
        callback(
          Object.assign(new Error(`${hostname} is not a loopback name`), { code: 'ENOTFOUND' }),
          '',
          0,
        );
      } else if (options.all) {
        (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [
          { address: '127.0.0.1', family: 4 },
        ]);
      } else callback(null, '127.0.0.1', 4);
    },
  },
});

/** A fetch to `http://127.0.0.1:…` or to a `.localhost` name of the local stack. */
export function fetchLocal(
  url: string,
  init: { headers?: Record<string, string>; redirect?: 'follow' | 'manual' } = {},
) {
  const { hostname } = new URL(url);
  return undiciFetch(url, {
    ...init,
    signal: AbortSignal.timeout(2000),
    ...(hostname === '127.0.0.1' ? {} : { dispatcher: loopbackNames }),
  });
}

/** Waits until `url` answers below 500 (a part's /readyz, an IdP's discovery, a tenant of a pool). */
export async function waitFor(
  url: string,
  name: string,
  headers: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const response = await fetchLocal(url, { headers });
      if (response.status < 500) {
        await response.body?.cancel();
        return;
      }
      // A part's /readyz says why ("not ready: the shared state store cannot be reached"): the one
      // line a developer needs when, say, REDIS_URL names a Redis that is not running.
      const why = (await response.text().catch(() => '')).split('\n')[0]?.trim();
      last = `HTTP ${response.status}${why ? ` (${why})` : ''}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} did not become ready at ${url}: ${last}`);
}

/**
 * `jsm-sso dev idp` for a realm on `port`, with one client for the brokers at `redirectUris`, and
 * the one broker's logout addresses, when there is one: where it posts back-channel logout tokens
 * (ADR 0150) and what its sign-out page frames (ADR 0159).
 */
export function devIdpArgs(
  realm: string,
  port: number,
  clientSecret: string,
  redirectUris: string[],
  logoutUris?: { backchannel: string; frontchannel: string },
): string[] {
  return [
    'dev',
    'idp',
    '--realm',
    realm,
    '--port',
    String(port),
    '--client-id',
    DEV_CLIENT_ID,
    // One argument: a random base64url secret starts with '-' one time in 64, and a separate value
    // that looks like an option is refused by the argument parser ("argument is ambiguous").
    `--client-secret=${clientSecret}`,
    ...redirectUris.flatMap((uri) => ['--redirect-uri', uri]),
    ...(logoutUris === undefined
      ? []
      : [
          '--backchannel-logout-uri',
          logoutUris.backchannel,
          '--frontchannel-logout-uri',
          logoutUris.frontchannel,
        ]),
  ];
}

/** A part's listening flags on loopback; no load balancer to wait for, so Ctrl-C stops at once. */
export function listenArgs(port: number, management: number): string[] {
  return [
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--management-port',
    String(management),
    '--drain-seconds',
    '0',
  ];
}
