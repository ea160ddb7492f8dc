import type { IncomingMessage } from 'node:http';

/**
 * The client's address for audit logs and the portal's activity view. With no trusted proxy it is
 * the socket's peer; behind `trustedProxyHops` reverse proxies (an Ingress is one), it is read from
 * X-Forwarded-For counting from the right, as Express's numeric `trust proxy` does: entries further
 * left were written by the client itself and prove nothing.
 */
export function clientIp(req: IncomingMessage, trustedProxyHops = 0): string {
  const socketAddress = req.socket.remoteAddress ?? 'unknown';
  if (trustedProxyHops <= 0) return socketAddress;
  const header = req.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  // [peer, last forwarded, ..., first forwarded]: the n-th hop from the front-facing proxy.
  const chain = [socketAddress, ...forwarded.reverse()];
  return chain[Math.min(trustedProxyHops, chain.length - 1)] ?? socketAddress;
}
