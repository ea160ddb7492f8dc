import { expect } from 'chai';
import { addressGroup } from '../../portal/http/address-group.js';

describe('addressGroup: what a per-address limit counts as one client (portal/http/address-group.ts)', () => {
  const cases: [string, string][] = [
    ['192.0.2.1', '192.0.2.1'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff:ffff:ffff:ffff', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8::/64'],
    ['::1', '::/64'],
    ['', ''],
    ['not an address', 'not an address'],
  ];
  for (const [address, group] of cases)
    it(`counts ${JSON.stringify(address)} as ${JSON.stringify(group)}`, () => {
      expect(addressGroup(address)).to.equal(group);
    });
});
