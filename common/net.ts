import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * Where free ports are drawn from: below the kernel's ephemeral range and above the well-known
 * ports of what tests start beside us (kubelet 10250, controller-manager 10257, scheduler 10259).
 */
const LOWEST_DRAWN_PORT = 20_000;
/** Draws before falling back to a kernel-chosen port. */
const DRAWS = 64;
/** Ports this process handed out already: a second draw never hands out the same one. */
const handedOut = new Set<number>();

/**
 * The lowest port of the kernel's ephemeral range, where it binds outgoing connections and
 * listen(0); Linux's default when it cannot be read.
 */
function readEphemeralRangeStart(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(low)) return low;
  } catch {
    // Not Linux: its default is as good a guess as any.
  }
  return 32_768;
}
/** Read once, at the first draw. */
let ephemeralRangeStart: number | undefined;

/** Resolves to `port` if it can be listened on on loopback now, to undefined if not. */
function listenable(port: number): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) =>
      err.code === 'EADDRINUSE' || err.code === 'EACCES' ? resolve(undefined) : reject(err),
    );
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : undefined));
    });
  });
}

/**
 * A free TCP port on loopback for a server started later (the local stack, tests' child processes).
 * Drawn at random below the kernel's ephemeral range: a port the kernel chose (listen(0)) was in that
 * range, where every outgoing connection on the machine also takes its local port, so in the moment
 * between this check and the server's own listen a connection could take it, and the server failed
 * with EADDRINUSE (a test's child exited PORT_UNAVAILABLE about once in a hundred under load). Below
 * the range only a listener takes a port, and this process never hands out one twice. A kernel-chosen
 * port when no drawn one is free.
 */
export async function freePort(): Promise<number> {
  ephemeralRangeStart ??= readEphemeralRangeStart();
  const span = ephemeralRangeStart - LOWEST_DRAWN_PORT;
  for (let draw = 0; draw < DRAWS && span > DRAWS; draw++) {
    const candidate = LOWEST_DRAWN_PORT + Math.floor(Math.random() * span);
    if (handedOut.has(candidate)) continue;
    // Taken before the check, so a draw running beside this one cannot pick it meanwhile.
    handedOut.add(candidate);
    if ((await listenable(candidate)) !== undefined) return candidate;
  }
  const port = await listenable(0);
  if (port === undefined) throw new Error('no free TCP port on loopback');
  return port;
}

/** True for hosts that never leave the machine: where plain HTTP is tolerated. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
