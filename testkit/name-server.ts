// A DNS server on a loopback address of its own, port 53, for processes that read it from a
// resolv.conf bind-mounted over /etc/resolv.conf in a mount namespace of their own
// (`inResolverNamespace`): the machine's resolver is never touched. It answers the A queries of the
// names it is given (AAAA with no record) and swallows every other query, as a DNS server that
// drops packets does: the client's resolver waits its whole timeout.
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface NameServer {
  /** A resolv.conf naming this server, with `search` and `ndots` as a Kubernetes pod has them. */
  resolvConf: string;
  /** The queries that came, in order (the search domains' expansions included). */
  queries: { name: string; type: number }[];
  /** Resolves once a query for a name starting with `prefix` (under any search domain) has come. */
  asked(prefix: string): Promise<void>;
  close(): Promise<void>;
}

const A = 1;
const AAAA = 28;

/**
 * `answers` maps names (fully qualified, no trailing dot) to their IPv4 address. The resolver's own
 * timeout is `timeoutSeconds`, one attempt: a swallowed query holds its lookup that long.
 */
export async function startNameServer(options: {
  answers: Record<string, string>;
  search: string[];
  timeoutSeconds: number;
}): Promise<NameServer> {
  const socket = createSocket('udp4');
  const address = await bindOnFreeLoopback(socket);
  const queries: { name: string; type: number }[] = [];
  const waiters: { prefix: string; resolve: () => void }[] = [];
  socket.on('message', (message, peer) => {
    const question = parseQuestion(message);
    if (!question) return;
    queries.push({ name: question.name, type: question.type });
    for (const w of waiters.filter((w) => question.name.startsWith(w.prefix))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
    const known = options.answers[question.name.toLowerCase()];
    if (known === undefined || (question.type !== A && question.type !== AAAA)) return;
    socket.send(
      answer(message, question.end, question.type === A ? known : undefined),
      peer.port,
      peer.address,
    );
  });
  const dir = mkdtempSync(join(tmpdir(), 'jsm-sso-resolv-'));
  const resolvConf = join(dir, 'resolv.conf');
  writeFileSync(
    resolvConf,
    `nameserver ${address}\nsearch ${options.search.join(' ')}\noptions ndots:5 timeout:${options.timeoutSeconds} attempts:1\n`,
  );
  return {
    resolvConf,
    queries,
    asked: (prefix) =>
      queries.some((q) => q.name.startsWith(prefix))
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ prefix, resolve })),
    close: async () => {
      await new Promise<void>((resolve) => socket.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * `command args` as run in a mount namespace of its own whose /etc/resolv.conf is `resolvConf`
 * (root only: `unshare -m`, private propagation, so the machine's file stays as it is).
 */
export function underResolver(resolvConf: string, command: string, args: string[]): [string, string[]] {
  return [
    'unshare',
    ['-m', 'sh', '-c', 'mount --bind "$0" /etc/resolv.conf && exec "$@"', resolvConf, command, ...args],
  ];
}

/** Node with `args` under `resolvConf` (`underResolver`), its stdin, stdout and stderr piped. */
export function nodeWithResolver(resolvConf: string, args: string[]): ChildProcess {
  const [command, wrapped] = underResolver(resolvConf, process.execPath, args);
  return spawn(command, wrapped, { stdio: ['pipe', 'pipe', 'pipe'] });
}

/** 127.53.x.y, port 53: a loopback address no other server here uses (another test's taken: the next). */
async function bindOnFreeLoopback(socket: Socket): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const address = `127.53.${(process.pid + attempt) % 250}.${1 + ((attempt * 7) % 250)}`;
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(53, address, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      return address;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt > 20) throw err;
    }
  }
}

/** The first question's name and type, and where the question ends (RFC 1035 4.1.2). */
function parseQuestion(message: Buffer): { name: string; type: number; end: number } | undefined {
  const labels: string[] = [];
  let at = 12;
  while (at < message.length && message[at] !== 0) {
    const length = message[at]!;
    labels.push(message.subarray(at + 1, at + 1 + length).toString('latin1'));
    at += 1 + length;
  }
  if (at + 5 > message.length) return undefined;
  return {
    name: labels.join('.'),
    type: message.readUInt16BE(at + 1),
    end: at + 5,
  };
}

/** A reply to `query` holding its question and, when `ipv4` is given, one A record for it. */
function answer(query: Buffer, questionEnd: number, ipv4: string | undefined): Buffer {
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // the query's ID
  header.writeUInt16BE(0x8180, 2); // a response, recursion desired and available, NOERROR
  header.writeUInt16BE(1, 4); // one question
  header.writeUInt16BE(ipv4 === undefined ? 0 : 1, 6);
  const question = query.subarray(12, questionEnd);
  if (ipv4 === undefined) return Buffer.concat([header, question]);
  const record = Buffer.alloc(16);
  record.writeUInt16BE(0xc00c, 0); // the question's name
  record.writeUInt16BE(A, 2);
  record.writeUInt16BE(1, 4); // IN
  record.writeUInt32BE(30, 6); // TTL
  record.writeUInt16BE(4, 10);
  Buffer.from(ipv4.split('.').map(Number)).copy(record, 12);
  return Buffer.concat([header, question, record]);
}
