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
 * - Names whose last lookup outlasted that deadline are looked up one at a time (`slowNameLane`).
 * No answer is kept past its lookup: getaddrinfo tells no TTL, and the node's resolver cache
 * (NodeLocal DNSCache, nscd, systemd-resolved) keeps answers as long as their records say.
 */
export function createHostLookup(options: HostLookupOptions = {}): LookupFunction {
  const deadlineMs = options.deadlineMs ?? HOST_LOOKUP_DEADLINE_MS;
  const resolveAll = options.resolveAll ?? (systemLookup as ResolveAll);
  const inFlight = new Map<string, SharedLookup>();
  const slow = slowNameLane();

  const shared = (hostname: string, asked: LookupAllOptions): SharedLookup => {
    const key = `${asked.family ?? 0}/${asked.hints ?? 0}/${asked.order ?? ''}/${hostname}`;
    let lookup = inFlight.get(key);
    if (!lookup) {
      const started: SharedLookup = { answer: Promise.resolve([]), outlastedDeadline: false };
      started.answer = new Promise<LookupAddress[]>((resolve, reject) => {
        slow.run(hostname, (ended) =>
          resolveAll(hostname, asked, (err, addresses) => {
            ended(started.outlastedDeadline);
            inFlight.delete(key);
            if (err) reject(err);
            else resolve(addresses);
          }),
        );
      });
      inFlight.set(key, started);
      lookup = started;
    }
    return lookup;
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
    const lookup = shared(hostname, asked);
    const timer = setTimeout(() => {
      answered = true;
      lookup.outlastedDeadline = true;
      callback(lookupTimedOut(hostname, deadlineMs), '', 0);
    }, deadlineMs);
    // The lookup itself keeps the process up while it runs; the deadline need not.
    timer.unref();
    lookup.answer.then(
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

/**
 * One lookup at a time among names whose last lookup outlasted the deadline (ADR 0212). Sharing a
 * lookup per name bounds each name to one of libuv's two lookup threads, but two names that hang
 * (two tenants' IdPs whose DNS is gone) took both at every retry of their customers, and every other
 * name of the process failed its deadline for as long as they did. A name seen slow now waits its
 * turn in this one lane (its callers still end at their deadline), so the other thread stays for the
 * names that answer; a lookup that ends within the deadline takes its name out. Only a name's first
 * slow lookup, before it is known, can hold a second thread.
 */
function slowNameLane() {
  const slowNames = new Set<string>();
  const waiting: (() => void)[] = [];
  let busy = false;
  const next = () => {
    busy = false;
    waiting.shift()?.();
  };
  return {
    /** Runs `lookup` now, or in the lane when `hostname` is slow; it says at its end whether a caller gave up on it. */
    run(hostname: string, lookup: (ended: (outlastedDeadline: boolean) => void) => void): void {
      const inLane = slowNames.has(hostname);
      const start = () => {
        if (inLane) busy = true;
        lookup((outlastedDeadline) => {
          if (outlastedDeadline) slowNames.add(hostname);
          else slowNames.delete(hostname);
          if (inLane) next();
        });
      };
      if (inLane && busy) waiting.push(start);
      else start();
    },
  };
}

/** A lookup under way, shared by the connections to its name; marked when a caller's deadline passed first. */
interface SharedLookup {
  answer: Promise<LookupAddress[]>;
  outlastedDeadline: boolean;
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
