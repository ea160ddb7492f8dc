import type { LookupAddress, LookupOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { JsmSsoError } from '../errors.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Network = [Address, number];

/**
 * IPv4 blocks that are not globally reachable (IANA IPv4 Special-Purpose Address Registry, RFC 6890
 * and its updates), and multicast and the reserved 240/4: a cluster's pod, Service and node
 * networks, the cloud metadata address (169.254.169.254), loopback, carrier-grade NAT.
 */
const NOT_GLOBAL_IPV4 = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.88.99.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4',
  '240.0.0.0/4',
].map((cidr) => ipaddr.parseCIDR(cidr));

/** Global unicast IPv6 (RFC 4291): everything else (::1, fc00::/7, fe80::/10, multicast ...) is not. */
const GLOBAL_UNICAST_IPV6 = ipaddr.parseCIDR('2000::/3');

/**
 * Blocks inside 2000::/3 that are not globally reachable or carry an IPv4 address the check would
 * not see (IANA IPv6 Special-Purpose Address Registry): IETF protocol assignments (Teredo among
 * them), documentation (2001:db8::/32, 3fff::/20) and 6to4.
 */
const NOT_GLOBAL_IPV6 = ['2001::/23', '2001:db8::/32', '2002::/16', '3fff::/20'].map((cidr) =>
  ipaddr.parseCIDR(cidr),
);

/** NAT64's well-known prefix (RFC 6052): the last 32 bits are the IPv4 address the gateway calls. */
const NAT64_WELL_KNOWN = ipaddr.parseCIDR('64:ff9b::/96');

/**
 * Which addresses a process's outbound calls may connect to (`--outbound-public-only`, ADR 0219):
 * globally reachable unicast ones, and those in the networks the operator allowed
 * (`--outbound-allowed-networks`, a pool's `spec.egress.allowedNetworks`). An IPv4-mapped or a
 * NAT64 address is judged by the IPv4 address inside it.
 */
export class AddressGate {
  readonly #allowed: Network[];

  /** @throws JsmSsoError CONFIG_INVALID for an entry that is not an address/prefix CIDR. */
  constructor(allowedNetworks: readonly string[] = []) {
    this.#allowed = allowedNetworks.map(parseNetwork);
  }

  /** Whether a connection to `address` (an IP address, as a resolver answers) may be made. */
  permits(address: string): boolean {
    let parsed: Address;
    try {
      parsed = ipaddr.parse(address);
    } catch {
      return false;
    }
    const judged = embeddedIPv4(parsed) ?? parsed;
    return this.#allowed.some((network) => within(judged, network)) || isGlobalUnicast(judged);
  }

  /**
   * `lookup` with the addresses this gate refuses left out; a name with none left fails
   * OUTBOUND_ADDRESS_FORBIDDEN. Filtering where the connection resolves (not before the call) is
   * what holds against a name that answers differently the second time (DNS rebinding).
   */
  gated(lookup: LookupFunction): LookupFunction {
    return (hostname, options: LookupOptions, callback) => {
      lookup(hostname, { ...options, all: true }, (err, answer) => {
        if (err) {
          callback(err, '', 0);
          return;
        }
        const addresses = answer as unknown as LookupAddress[];
        const permitted = addresses.filter((a) => this.permits(a.address));
        const [first] = permitted;
        if (!first) callback(addressForbidden(hostname), '', 0);
        else if (options.all) callback(null, permitted);
        else callback(null, first.address, first.family);
      });
    };
  }

  /** The refusal for a URL whose host is an IP address this gate refuses (no lookup is made for one). */
  refusalForHost(hostname: string): JsmSsoError | undefined {
    const host = hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) === 0 || this.permits(host)) return undefined;
    return addressForbidden(host);
  }
}

/**
 * An `--outbound-allowed-networks` entry: `address/prefix`, the address in the form a resolver gives
 * (ipaddr.js alone would also read `010.0.0.0` as octal). An IPv4 network is given as IPv4: mapped
 * and NAT64 addresses are judged by their IPv4 address.
 */
function parseNetwork(entry: string): Network {
  const [address = '', prefix = '', ...rest] = entry.trim().split('/');
  if (rest.length === 0 && isIP(address) !== 0 && /^\d{1,3}$/.test(prefix)) {
    try {
      return ipaddr.parseCIDR(`${address}/${prefix}`);
    } catch {
      // A prefix longer than the address: the refusal below.
    }
  }
  throw new JsmSsoError(
    'CONFIG_INVALID',
    `${JSON.stringify(entry)} is not a network in CIDR notation (address/prefix, e.g. 10.20.0.0/16)`,
  );
}

function embeddedIPv4(address: Address): ipaddr.IPv4 | undefined {
  if (address.kind() !== 'ipv6') return undefined;
  const v6 = address as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address();
  if (within(v6, NAT64_WELL_KNOWN)) {
    const parts = v6.parts;
    return new ipaddr.IPv4([parts[6]! >> 8, parts[6]! & 0xff, parts[7]! >> 8, parts[7]! & 0xff]);
  }
  return undefined;
}

function isGlobalUnicast(address: Address): boolean {
  if (address.kind() === 'ipv4') return !NOT_GLOBAL_IPV4.some((network) => within(address, network));
  return within(address, GLOBAL_UNICAST_IPV6) && !NOT_GLOBAL_IPV6.some((network) => within(address, network));
}

/** Whether `address` is in `network`; never across families (ipaddr.js's `match` throws then). */
function within(address: Address, [base, bits]: Network): boolean {
  // Both of one family here; the cast only picks one of `match`'s two typings, alike at run time.
  return address.kind() === base.kind() && (address as ipaddr.IPv4).match(base as ipaddr.IPv4, bits);
}

function addressForbidden(host: string): JsmSsoError {
  return new JsmSsoError(
    'OUTBOUND_ADDRESS_FORBIDDEN',
    `refusing ${host}: it is or resolves to no publicly reachable address, nor one in --outbound-allowed-networks`,
    { status: 502, where: { host } },
  );
}
