import ipaddr from 'ipaddr.js';

/**
 * The prefix of an IPv6 address that per-address limits count as one client. A host, or a home or
 * office network, is given at least a /64 (RFC 6177), and the last 64 bits are the host's to choose
 * (RFC 4291, RFC 8981 temporary addresses): counted per address, one machine could draw a fresh
 * budget for every request. Cloudflare's and Fastly's rate limits group IPv6 clients the same way.
 */
const IPV6_CLIENT_PREFIX_BITS = 64;

/**
 * What a per-address limit counts a request's client address as: an IPv4 address itself, an
 * IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, as a dual-stack socket reports IPv4 clients) as that
 * IPv4 address, and any other IPv6 address as its /64 (`2001:db8:1:2::/64`). Anything else (no
 * address: a socket already closed) is counted as given.
 */
export function addressGroup(address: string): string {
  if (!ipaddr.isValid(address)) return address;
  const parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const parts = (parsed as ipaddr.IPv6).parts.slice(0, IPV6_CLIENT_PREFIX_BITS / 16);
  return `${new ipaddr.IPv6([...parts, 0, 0, 0, 0]).toString()}/${IPV6_CLIENT_PREFIX_BITS}`;
}
