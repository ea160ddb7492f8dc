import { type LookupAddress, type LookupAllOptions, lookup as systemLookup } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { JsmSsoError } from '../errors.js';

/**
 * How long a connection waits for its host name to resolve: one retry of glibc's default 5 s
 * resolver timeout fits, and it is below the 10 s deadlines of IdP and Atlassian calls (and undici's
 * connect timeout), so a name that does not resolve is what the call reports (ADR 0206).
 */
export const HOST_LOOKUP_DEADLINE_MS = 8_000;

/** How a name is resolved: `dns.lookup`'s shape, asked for every address. */
export type ResolveAll = (
  hostname: string,
  options: LookupAllOptions,
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

export interface HostLookupOptions {
  deadlineMs?: number;
  resolveAll?: ResolveAll;
}

/**
 * A `lookup` for outbound connections: the system resolver's answer (`dns.lookup`, getaddrinfo:
 * /etc/hosts, resolv.conf's `search` and `ndots`, nsswitch), as every connection had before, with
 * two bounds. getaddrinfo runs on libuv's threadpool, where lookups get at most half its threads
 * (2 of 4) and wait in one queue, and a lookup cannot be cancelled once started: a name whose DNS
 * server drops queries holds a thread until the resolver gives up (timeout x attempts x search
 * domains, tens of seconds), and each new connection to it queued one more. Every other lookup of the
 * process, every tenant's and /etc/hosts' included, then waited behind them.
 * - One lookup per name at a time: connections to a name being resolved share that lookup, so a
 *   name that never answers holds one thread, however many calls want it.
 * - Each connection waits at most `deadlineMs` (UPSTREAM_DNS_TIMEOUT); the shared lookup goes on
 *   and serves whoever asks after, once it ends.
 * No answer is kept past its lookup: getaddrinfo tells no TTL, and the node's resolver cache
 * (NodeLocal DNSCache, nscd, systemd-resolved) keeps answers as long as their records say.
 */
export function createHostLookup(options: HostLookupOptions = {}): LookupFunction {
  const deadlineMs = options.deadlineMs ?? HOST_LOOKUP_DEADLINE_MS;
  const resolveAll = options.resolveAll ?? (systemLookup as ResolveAll);
  const inFlight = new Map<string, Promise<LookupAddress[]>>();

  const shared = (hostname: string, asked: LookupAllOptions): Promise<LookupAddress[]> => {
    const key = `${asked.family ?? 0}/${asked.hints ?? 0}/${asked.order ?? ''}/${hostname}`;
    let answer = inFlight.get(key);
    if (!answer) {
      answer = new Promise<LookupAddress[]>((resolve, reject) => {
        resolveAll(hostname, asked, (err, addresses) => {
          inFlight.delete(key);
          if (err) reject(err);
          else resolve(addresses);
        });
      });
      inFlight.set(key, answer);
    }
    return answer;
  };

  return (hostname, lookupOptions, callback) => {
    const { family, hints, order, all } = lookupOptions;
    const asked: LookupAllOptions = {
      all: true,
      ...(family === undefined ? {} : { family }),
      ...(hints === undefined ? {} : { hints }),
      ...(order === undefined ? {} : { order }),
    };
    let answered = false;
    const timer = setTimeout(() => {
      answered = true;
      callback(lookupTimedOut(hostname, deadlineMs), '', 0);
    }, deadlineMs);
    // The lookup itself keeps the process up while it runs; the deadline need not.
    timer.unref();
    shared(hostname, asked).then(
      (addresses) => {
        if (answered) return;
        answered = true;
        clearTimeout(timer);
        // Node's own lookup asks for the whole list and hands on its first, as here.
        const [first] = addresses;
        if (all) callback(null, addresses);
        else if (first) callback(null, first.address, first.family);
        else callback(notFound(hostname), '', 0);
      },
      (err: NodeJS.ErrnoException) => {
        if (answered) return;
        answered = true;
        clearTimeout(timer);
        callback(err, '', 0);
      },
    );
  };
}

/** The one lookup of this process's outbound connections: one per name at a time, process-wide. */
export const hostLookup = createHostLookup();

function lookupTimedOut(hostname: string, deadlineMs: number): JsmSsoError {
  return new JsmSsoError(
    'UPSTREAM_DNS_TIMEOUT',
    `the name resolver gave no answer for ${hostname} within ${deadlineMs / 1000} s`,
    { status: 502, where: { host: hostname } },
  );
}

function notFound(hostname: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
    code: 'ENOTFOUND',
    hostname,
  });
}
