// Redis connections resolve their host names through the process's one host lookup (ADR 0206, 0212):
// one getaddrinfo per name at a time, each connection waiting 8 s at most. ioredis 5 leaves
// resolution to net/tls.connect's default, a lookup of its own per connection attempt: a Redis name
// that never answers took a libuv lookup thread at every reconnect (every 0.2-2 s), and with two
// taken every other lookup of the process (IdPs', Atlassian's) waited behind them.
import { createConnection } from 'node:net';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import { AbstractConnector, type ClusterOptions } from 'ioredis';
import { hostLookup } from '../tls/host-lookup.js';
import { droppedOnlyWhenSilent } from './silent-connection.js';

/** What ioredis hands a Connector: the connection's options (RedisOptions), of which these count. */
interface StandaloneOptions {
  host?: string;
  port?: number;
  family?: number;
  path?: string;
  tls?: ConnectionOptions;
  disconnectTimeout?: number;
}

/** ioredis's own default, and its message for an attempt a disconnect overtook. */
const DISCONNECT_TIMEOUT_MS = 2000;
const CONNECTION_CLOSED = 'Connection is closed.';

/**
 * ioredis's standalone connector (its `Connector` option) with `lookup` set: the same sockets
 * (plain TCP, TLS with the given options, a Unix socket), the same way of failing.
 */
export class SharedLookupConnector extends AbstractConnector {
  readonly #options: StandaloneOptions;

  constructor(options: unknown) {
    const given = options as StandaloneOptions;
    super(given.disconnectTimeout ?? DISCONNECT_TIMEOUT_MS);
    this.#options = given;
  }

  connect(): Promise<ReturnType<typeof createConnection>> {
    this.connecting = true;
    const { host, port, family, path, tls } = this.#options;
    const where = {
      host: host ?? 'localhost',
      port: port ?? 6379,
      ...(family ? { family } : {}),
      lookup: hostLookup,
    };
    // As ioredis: the socket is made on the next tick, unless a disconnect came first.
    return new Promise((resolve, reject) => {
      process.nextTick(() => {
        if (!this.connecting) return reject(new Error(CONNECTION_CLOSED));
        try {
          this.stream = droppedOnlyWhenSilent(
            path
              ? createConnection({ path })
              : tls
                ? tlsConnect({ ...where, ...tls })
                : createConnection(where),
          );
        } catch (err) {
          return reject(err);
        }
        this.stream.once('error', (err: Error) => {
          this.firstError = err;
        });
        resolve(this.stream);
      });
    });
  }
}

/** A Cluster's `dnsLookup` (its startup nodes' names, at every (re)connect) through the same lookup. */
export const clusterDnsLookup: NonNullable<ClusterOptions['dnsLookup']> = (hostname, callback) =>
  hostLookup(hostname, {}, (err, address, family) => callback(err, address as string, family));
