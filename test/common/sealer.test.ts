import { expect } from 'chai';
import { createSealer } from '../../common/sealer.js';

describe('sealer', () => {
  const sealer = createSealer('secret material', 'jsm-sso-test', 'purpose');

  it('opens what it sealed, and every seal of one text differs (a fresh IV each)', () => {
    const sealed = sealer.seal('{"relayState":"/activity?q=alice@acme.test"}');
    expect(sealer.open(sealed)).to.equal('{"relayState":"/activity?q=alice@acme.test"}');
    expect(sealer.openOrUndefined(sealed)).to.equal('{"relayState":"/activity?q=alice@acme.test"}');
    expect(sealer.seal('same')).not.to.equal(sealer.seal('same'));
  });

  it('opens nothing sealed for another purpose or with other material, altered, or never sealed', () => {
    const otherPurpose = createSealer('secret material', 'jsm-sso-test', 'another purpose').seal('x');
    const otherMaterial = createSealer('other material', 'jsm-sso-test', 'purpose').seal('x');
    const sealed = sealer.seal('x');
    const altered = `${sealed.slice(0, -2)}${sealed.endsWith('AA') ? 'AB' : 'AA'}`;
    for (const value of [otherPurpose, otherMaterial, altered, '{"relayState":"/"}', '']) {
      expect(() => sealer.open(value), value).to.throw();
      expect(sealer.openOrUndefined(value), value).to.equal(undefined);
    }
    expect(sealer.openOrUndefined(undefined)).to.equal(undefined);
  });

  it('opens under a previous material too, seals under the first only, and no longer once it is dropped (ADR 0298)', () => {
    const before = createSealer('old material', 'jsm-sso-test', 'purpose').seal('x');
    const during = createSealer(['new material', 'old material'], 'jsm-sso-test', 'purpose');
    expect(during.open(before)).to.equal('x');
    const after = createSealer('new material', 'jsm-sso-test', 'purpose');
    expect(after.open(during.seal('y'))).to.equal('y');
    expect(after.openOrUndefined(before)).to.equal(undefined);
    expect(() => during.open('altered')).to.throw();
  });
});
