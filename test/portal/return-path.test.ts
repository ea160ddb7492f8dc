import { expect } from 'chai';
import fc from 'fast-check';
import { safeReturnPath } from '../../portal/return-path.js';

/** How a browser resolves a Location header sent by the portal: its origin must stay the portal's. */
const browserOrigin = (location: string) => new URL(location, 'https://portal.acme.test/a/b').origin;

describe('portal return path after sign-in', () => {
  it('keeps a relative path with its query', () => {
    expect(safeReturnPath('/requests/IT-1?created=1')).to.equal('/requests/IT-1?created=1');
  });
  it('keeps an encoded query as it came (search text stays encoded)', () => {
    expect(safeReturnPath('/requests?q=r%C3%A9sum%C3%A9&status=all')).to.equal(
      '/requests?q=r%C3%A9sum%C3%A9&status=all',
    );
  });
  it('resolves harmless dot segments to the canonical path', () => {
    expect(safeReturnPath('/desk/1/../../requests')).to.equal('/requests');
    expect(safeReturnPath('/requests/%2e/IT-1')).to.equal('/requests/IT-1');
  });
  it('drops a fragment', () => {
    expect(safeReturnPath('/requests#top')).to.equal('/requests');
  });

  const attacks: Record<string, string> = {
    'protocol-relative': '//evil.test',
    'backslash after slash': '/\\evil.test',
    'absolute URL': 'https://evil.test/',
    'javascript scheme': 'javascript:alert(1)',
    'relative without slash': 'evil',
    'two backslashes': '\\\\evil',
    'encoded slash': '/%2F/evil.test',
    'encoded slash, lower case': '/%2f%2fevil.test',
    'encoded backslash': '/%5Cevil.test',
    'double-encoded slash': '/%252F/evil.test',
    'triple-encoded slash': '/%25252F%25252Fevil.test',
    tab: '/\t/evil.test',
    'encoded tab': '/%09/evil.test',
    newline: '/\n/evil.test',
    'encoded CR LF': '/%0d%0a/evil.test',
    'dot then double slash': '/.//evil.example/',
    'dot-dot then double slash': '/..//evil.example/',
    'segment, dot-dot, double slash': '/x/..//evil.example/',
    'encoded dot': '/%2e//evil.example/',
    'encoded dot-dot, upper case': '/%2E%2E//evil.example/',
    'encoded dot-dot and slash': '/%2e%2e%2f%2fevil.example/',
    'dot segment then backslash': '/./\\evil.example',
    'fullwidth solidus': '/\uFF0Fevil.example',
    'encoded fullwidth solidus': '/%EF%BC%8Fevil.example',
    'fullwidth reverse solidus': '/\uFF3Cevil.example',
    'division slash': '/\u2215evil.example',
    'fraction slash': '/\u2044evil.example',
    'fullwidth full stops': '/\uFF0E\uFF0E//evil.example',
    'line separator': '/\u2028/evil.example',
    'encoded question mark hiding a path': '/%3F//evil.example',
    'malformed escape': '/%E0%A4%A',
    'query with a CR LF': '/requests?x=%0d%0aSet-Cookie:a=b',
  };
  for (const [name, attack] of Object.entries(attacks)) {
    it(`refuses the open redirect: ${name} ${JSON.stringify(attack)}`, () => {
      expect(safeReturnPath(attack)).to.equal('/');
    });
  }

  it('refuses the sign-in itself, however written: no page to come back to, a sign-in more (ADR 0326)', () => {
    for (const candidate of [
      '/login',
      '/login?return=/login?return=/requests',
      '/LOGIN/',
      '/Login?return=/x',
      '/%6cogin',
      '/%256Cogin',
      '/requests/../login',
      '/./login/',
    ])
      expect(safeReturnPath(candidate), candidate).to.equal('/');
    expect(safeReturnPath('/login-help')).to.equal('/login-help');
    expect(safeReturnPath('/requests?return=/login')).to.equal('/requests?return=/login');
  });

  it('refuses a non-string, an empty and an overlong candidate', () => {
    expect(safeReturnPath(['/a', '/b'])).to.equal('/');
    expect(safeReturnPath('')).to.equal('/');
    expect(safeReturnPath(`/${'a'.repeat(1100)}`)).to.equal('/');
  });

  it('never returns a location a browser would resolve to another origin (property)', () => {
    const pieces = fc.constantFrom(
      '/',
      '\\',
      '.',
      '..',
      '%2e',
      '%2E',
      '%2f',
      '%5c',
      '%252f',
      '\t',
      '\n',
      '\uFF0F',
      'evil.test',
      '@',
      ':',
      '?',
      '#',
      'x',
    );
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 10 }), (parts) => {
        const result = safeReturnPath(`/${parts.join('')}`);
        expect(result.startsWith('/')).to.equal(true);
        expect(result.startsWith('//')).to.equal(false);
        expect(/[\\\s]/.test(result)).to.equal(false);
        expect(browserOrigin(result)).to.equal('https://portal.acme.test');
      }),
      { numRuns: 2000 },
    );
  });
});
