import { expect } from 'chai';
import { safeReturnPath } from '../../portal/return-path.js';

describe('portal return path after sign-in', () => {
  it('keeps a relative path with its query', () => {
    expect(safeReturnPath('/requests/IT-1?created=1')).to.equal('/requests/IT-1?created=1');
  });
  for (const attack of [
    '//evil.test',
    '/\\evil.test',
    'https://evil.test/',
    'javascript:alert(1)',
    '/%2F/evil.test',
    '/\t/evil.test',
    '\\\\evil',
    'evil',
    '/%5Cevil.test',
  ]) {
    it(`refuses the open redirect ${JSON.stringify(attack)}`, () => {
      expect(safeReturnPath(attack)).to.equal('/');
    });
  }
  it('refuses a non-string', () => {
    expect(safeReturnPath(['/a', '/b'])).to.equal('/');
  });
});
