import { expect } from 'chai';

/**
 * The headers common/http/security-headers.ts puts on every page, asserted the same way on broker
 * and portal pages: one module sets them, so both parts must show the same set.
 */
export function expectPageSecurityHeaders(
  res: Response,
  expected: { formAction: string; https: boolean },
): string {
  const csp = res.headers.get('content-security-policy') ?? '';
  const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
  expect(nonce, csp).to.be.a('string');
  expect(csp).to.include("default-src 'none'");
  expect(csp).to.include(`style-src 'nonce-${nonce}'`);
  expect(csp).to.include(`form-action ${expected.formAction};`);
  expect(csp).to.include("frame-ancestors 'none'");
  expect(csp).to.include("base-uri 'none'");
  expect(res.headers.get('x-frame-options')).to.equal('DENY');
  expect(res.headers.get('referrer-policy')).to.equal('no-referrer');
  expect(res.headers.get('x-content-type-options')).to.equal('nosniff');
  expect(res.headers.get('cross-origin-opener-policy')).to.equal('same-origin');
  expect(res.headers.get('cache-control')).to.equal('no-store');
  expect(res.headers.get('strict-transport-security')).to.equal(
    expected.https ? 'max-age=31536000; includeSubDomains' : null,
  );
  return nonce!;
}
