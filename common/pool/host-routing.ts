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

/** A host name or IP literal with an optional port, nothing else (no path, no user info). */
const HOST_HEADER = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/;

/** The key of a request's Host header, or undefined when it has none or it is malformed. */
export function requestHostKey(host: string | undefined): string | undefined {
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

/** A server name as a client sent it, reduced as urlServerName reduces a tenant's. */
export function serverNameKey(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}
