import { JsmSsoError } from '../errors.js';

/**
 * Where Redis is, from the one URL setting (`spec.redis.urlSecretRef`):
 * - `redis://[user:pass@]host:port[/db][?waitForReplica=yes]`, `rediss://…` (TLS)
 * - `sentinel://[user:pass@]h1:p1,h2:p2[/db]?name=mymaster`, `sentinels://…` (TLS to sentinels and master)
 * - `cluster://[user:pass@]h1:p1,h2:p2`, `clusters://…` (TLS to every node)
 * Credentials in the authority are for the Redis data nodes. Query parameters other than `name`
 * and `waitForReplica` are refused, so the URL can never carry options that weaken TLS.
 * `waitForReplica=yes`: one host with a failover behind it (a managed primary endpoint), whose
 * one-time markers wait for a replica as Sentinel's and Cluster's always do (ADR 0272).
 */
export interface RedisAddress {
  mode: 'standalone' | 'sentinel' | 'cluster';
  tls: boolean;
  nodes: { host: string; port: number }[];
  username?: string;
  password?: string;
  db?: number;
  /** Sentinel master group name. */
  name?: string;
  /** A standalone URL's one-time markers wait for a replica (Sentinel's and Cluster's always do). */
  waitForReplica?: true;
}

const SCHEMES: Record<string, { mode: RedisAddress['mode']; tls: boolean }> = {
  redis: { mode: 'standalone', tls: false },
  rediss: { mode: 'standalone', tls: true },
  sentinel: { mode: 'sentinel', tls: false },
  sentinels: { mode: 'sentinel', tls: true },
  cluster: { mode: 'cluster', tls: false },
  clusters: { mode: 'cluster', tls: true },
};

export function parseRedisAddress(url: string): RedisAddress {
  const match = /^([a-z]+):\/\/(?:([^@/?#]*)@)?([^/?#]+)(?:\/(\d*))?(?:\?([^#]*))?$/i.exec(url.trim());
  const scheme = SCHEMES[match?.[1]?.toLowerCase() ?? ''];
  if (!match || !scheme)
    throw invalid('use redis://, rediss://, sentinel(s)://host:port,…?name=… or cluster(s)://host:port,…');
  const [, , userinfo, hostList = '', db, query] = match;
  const defaultPort = scheme.mode === 'sentinel' ? 26379 : 6379;
  const nodes = hostList.split(',').map((node, index) => parseNode(node, index, defaultPort));
  if (scheme.mode === 'standalone' && nodes.length !== 1)
    throw invalid('redis:// names one host; use sentinel:// or cluster:// for several');
  const params = new URLSearchParams(query ?? '');
  for (const key of params.keys()) {
    if (key !== 'name' && key !== 'waitForReplica')
      throw invalid(`a query parameter other than ?name= or ?waitForReplica=${ENCODE_CREDENTIALS}`);
  }
  const waitForReplica = params.get('waitForReplica');
  if (waitForReplica !== null && waitForReplica !== 'yes')
    throw invalid(`?waitForReplica= takes yes only${ENCODE_CREDENTIALS}`);
  if (waitForReplica !== null && scheme.mode !== 'standalone')
    throw invalid('?waitForReplica= is for redis:// and rediss://; Sentinel and Cluster markers always wait');
  const name = params.get('name') ?? undefined;
  if (scheme.mode === 'sentinel' && !name) throw invalid('sentinel:// needs ?name=<master group>');
  if (scheme.mode !== 'sentinel' && name !== undefined) throw invalid('?name= is for sentinel:// only');
  if (scheme.mode === 'cluster' && db) throw invalid('Redis Cluster has no database numbers');
  const address: RedisAddress = { mode: scheme.mode, tls: scheme.tls, nodes };
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    const username = decodedCredential(colon < 0 ? userinfo : userinfo.slice(0, colon));
    if (username) address.username = username;
    if (colon >= 0) address.password = decodedCredential(userinfo.slice(colon + 1));
  }
  if (db) address.db = Number(db);
  if (name) address.name = name;
  if (waitForReplica) address.waitForReplica = true;
  return address;
}

function parseNode(node: string, index: number, defaultPort: number): { host: string; port: number } {
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec(node);
  const port = Number(match?.[2] ?? defaultPort);
  if (!match?.[1] || port < 1 || port > 65535)
    throw invalid(`host ${index + 1} is not host:port${ENCODE_CREDENTIALS}`);
  return { host: match[1].replace(/^\[|\]$/g, ''), port };
}

/**
 * A password with `?`, `#` or `/` not percent-encoded ends the authority early, so its first part is
 * read as a host and the rest as the query: neither is quoted back (ADR 0233).
 */
const ENCODE_CREDENTIALS = ' (a user name or password must have @ : / ? # percent-encoded)';

/** A user name or password, percent-decoded; a `%` that starts no escape is refused, not a URIError. */
function decodedCredential(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    throw invalid(`a % in the user name or password starts no escape${ENCODE_CREDENTIALS}`);
  }
}

/** The message never repeats any part of the URL: any part may hold a password. */
function invalid(why: string): JsmSsoError {
  return new JsmSsoError('REDIS_URL_INVALID', `the Redis URL is not usable: ${why}`);
}
