import type { IncomingMessage } from 'node:http';

/**
 * Which tenant a request is for: the Host header against each tenant's public URL. Both sides are
 * reduced to `hostname[:port]`, lower case, without a trailing dot and without port 80 or 443 (a
 * pool behind TLS termination sees either), so `Portal.Acme.example.:443` finds
 * `https://portal.acme.example`. X-Forwarded-Host is never read: an ingress passes Host through,
 * and a client could set the other.
 */
export function urlHostKey(url: string): string {
  const parsed = new URL(url);
  return hostKey(parsed.hostname, parsed.port);
}

/**
 * The host a request names, as `requestHostKey` reduces it, and its target in origin form; or why it
 * names none a pool can trust. RFC 9112 3.2: a request with two Host lines or an invalid one is a
 * 400, and one in absolute form (`GET http://b.example/x`) names its host twice. A pool answers only
 * when both agree: a proxy in front may have routed by either, so serving one would answer for a
 * tenant the proxy did not pick. The tenant's part then sees the origin form only (`/x`), as it
 * would from a browser, so nothing it builds can start from the target's authority.
 */
export type RequestHost =
  | { kind: 'named'; key: string; target: string }
  | { kind: 'none' }
  | { kind: 'invalid'; why: 'duplicate_host' | 'malformed_host' | 'target_host_differs' };

export function requestHost(req: IncomingMessage): RequestHost {
  const lines = req.rawHeaders.filter(
    (_value, i) => i % 2 === 0 && req.rawHeaders[i]!.toLowerCase() === 'host',
  );
  if (lines.length > 1) return { kind: 'invalid', why: 'duplicate_host' };
  const { host } = req.headers;
  // HTTP/1.0 may omit Host (Node refuses an HTTP/1.1 request without one).
  if (host === undefined) return { kind: 'none' };
  const key = requestHostKey(host);
  if (key === undefined) return { kind: 'invalid', why: 'malformed_host' };
  const target = req.url ?? '/';
  const absolute = ABSOLUTE_FORM.exec(target);
  if (!absolute) return { kind: 'named', key, target };
  if (requestHostKey(absolute[1]) !== key) return { kind: 'invalid', why: 'target_host_differs' };
  const rest = absolute[2] ?? '';
  return { kind: 'named', key, target: rest.startsWith('/') ? rest : `/${rest}` };
}

/** `scheme://authority` and the rest of an absolute-form request target. */
const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)(.*)$/s;

/** A host name or IP literal with an optional port, nothing else (no path, no user info). */
const HOST_HEADER = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/;

/** The key of a request's Host header, or undefined when it has none or it is malformed. */
function requestHostKey(host: string | undefined): string | undefined {
  const match = host === undefined ? null : HOST_HEADER.exec(host);
  if (!match) return undefined;
  try {
    // URL normalises IP literals and IDNs the same way for both sides.
    return hostKey(new URL(`http://${match[1]}`).hostname, match[2] ?? '');
  } catch {
    return undefined;
  }
}

function hostKey(hostname: string, port: string): string {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  const number = port === '' ? undefined : Number(port);
  return number === undefined || number === 80 || number === 443 ? name : `${name}:${number}`;
}

/**
 * The TLS server name (SNI) a client asks for to reach the tenant at `url`: its host name, lower
 * case, without a trailing dot. SNI carries no port, so tenants on one host name share it.
 */
export function urlServerName(url: string): string {
  return serverNameKey(new URL(url).hostname);
}

/** The server name of a host as urlHostKey gives it (`sso.acme.example:8443`): its name without the port. */
export function hostServerName(host: string): string {
  return host.replace(/:\d+$/, '');
}

/** A server name as a client sent it, reduced as urlServerName reduces a tenant's. */
export function serverNameKey(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}
