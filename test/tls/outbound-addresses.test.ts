import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { expect } from 'chai';
import { AddressGate } from '../../common/tls/index.js';

/** A resolver that answers every name with `addresses` (or fails with `error`), as getaddrinfo would. */
function resolverAnswering(addresses: LookupAddress[], error?: NodeJS.ErrnoException): LookupFunction {
  return (_hostname, _options, callback) => {
    if (error) callback(error, '', 0);
    else callback(null, addresses);
  };
}

function lookUp(lookup: LookupFunction, all: boolean) {
  return new Promise<{ err: NodeJS.ErrnoException | null; answer: unknown; family: number | undefined }>(
    (resolve) => lookup('idp.example', { all }, (err, answer, family) => resolve({ err, answer, family })),
  );
}

const v4 = (address: string): LookupAddress => ({ address, family: 4 });

describe('outbound address gate (--outbound-public-only, ADR 0219)', () => {
  const gate = new AddressGate();

  it('refuses every address that is not publicly reachable, IPv4 and IPv6, mapped and NAT64 ones by their IPv4', () => {
    const refused = [
      '10.1.2.3', // a cluster's pods or Services
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '127.0.0.1',
      '127.8.9.10',
      '169.254.169.254', // the cloud metadata address
      '100.64.0.1', // carrier-grade NAT
      '0.0.0.0',
      '192.0.0.8',
      '192.0.2.1',
      '198.18.0.1',
      '198.51.100.7',
      '203.0.113.9',
      '224.0.0.1',
      '255.255.255.255',
      '::1',
      '::',
      'fe80::1',
      'fc00::1',
      'fd12:3456::1',
      'ff02::1',
      '100::1',
      '::ffff:10.0.0.1',
      '::ffff:169.254.169.254',
      '64:ff9b::a00:1', // NAT64 of 10.0.0.1
      '64:ff9b:1::a00:1', // local-use NAT64
      '2001:db8::1',
      '2001::1', // Teredo
      '2002:a00:1::1', // 6to4 of 10.0.0.1
      '3fff::1',
      'not-an-address',
      '',
    ];
    expect(refused.filter((address) => gate.permits(address))).to.deep.equal([]);
  });

  it('permits globally reachable unicast addresses', () => {
    const permitted = [
      '8.8.8.8',
      '1.1.1.1',
      '93.184.216.34',
      '172.32.0.1',
      '100.128.0.1',
      '2606:4700:4700::1111',
      '2a00:1450:4001:80b::200e',
      '::ffff:8.8.8.8',
      '64:ff9b::808:808', // NAT64 of 8.8.8.8
    ];
    expect(permitted.filter((address) => !gate.permits(address))).to.deep.equal([]);
  });

  it('permits the allowed networks, and nothing private beyond them', () => {
    const allowing = new AddressGate(['10.20.0.0/16', ' fd00:1::/64', '192.168.7.7/32']);
    for (const address of ['10.20.3.4', '::ffff:10.20.3.4', 'fd00:1::5', '192.168.7.7', '8.8.8.8'])
      expect(allowing.permits(address), address).to.equal(true);
    for (const address of ['10.21.0.1', 'fd00:2::1', '192.168.7.8', '169.254.169.254', '127.0.0.1'])
      expect(allowing.permits(address), address).to.equal(false);
  });

  it('refuses an allowed network that is not address/prefix, with CONFIG_INVALID', () => {
    for (const entry of [
      '10.0.0.0',
      '010.0.0.0/8',
      '10.0.0.0/33',
      'fd00::/129',
      'idp.example/8',
      '10.0.0.0/8/1',
      '10.0.0.0/x',
    ])
      expect(() => new AddressGate([entry]), entry)
        .to.throw()
        .with.property('code', 'CONFIG_INVALID');
  });

  it("leaves a name's refused addresses out of its lookup, and refuses a name that has no other", async () => {
    const mixed = gate.gated(
      resolverAnswering([v4('10.0.0.1'), v4('8.8.8.8'), { address: 'fd00::1', family: 6 }]),
    );
    expect((await lookUp(mixed, true)).answer).to.deep.equal([v4('8.8.8.8')]);
    expect(await lookUp(mixed, false)).to.deep.include({ err: null, answer: '8.8.8.8', family: 4 });

    const internal = await lookUp(
      gate.gated(resolverAnswering([v4('10.0.0.1'), v4('169.254.169.254')])),
      true,
    );
    expect(internal.err).to.include({ code: 'OUTBOUND_ADDRESS_FORBIDDEN', status: 502 });
    expect(internal.err?.message).to.include('idp.example');
  });

  it("hands on the resolver's own failure unchanged", async () => {
    const notFound = Object.assign(new Error('getaddrinfo ENOTFOUND idp.example'), { code: 'ENOTFOUND' });
    const { err } = await lookUp(gate.gated(resolverAnswering([], notFound)), true);
    expect(err).to.equal(notFound);
  });

  it('judges a URL host that is an address itself, brackets and all; names are left to the lookup', () => {
    expect(gate.refusalForHost('169.254.169.254')).to.include({ code: 'OUTBOUND_ADDRESS_FORBIDDEN' });
    expect(gate.refusalForHost('[::1]')).to.include({ code: 'OUTBOUND_ADDRESS_FORBIDDEN' });
    expect(gate.refusalForHost('[::ffff:a00:1]')).to.include({ code: 'OUTBOUND_ADDRESS_FORBIDDEN' });
    expect(gate.refusalForHost('8.8.8.8')).to.equal(undefined);
    expect(gate.refusalForHost('localhost')).to.equal(undefined);
  });
});
