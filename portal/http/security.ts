import { randomBytes } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

/**
 * Headers on every portal response: a strict CSP with a per-response nonce (no inline code without
 * it, nothing loaded from elsewhere except the configured logo origin), no framing, no referrer,
 * no MIME sniffing, and no caching of customer pages.
 */
export function securityHeaders(options: {
  brokerUrl: string;
  logoUrl?: string | undefined;
  secure: boolean;
}) {
  const logoOrigin = options.logoUrl?.startsWith('https://') ? ` ${new URL(options.logoUrl).origin}` : '';
  return (_req: Request, res: Response, next: NextFunction) => {
    const nonce = randomBytes(16).toString('base64url');
    res.locals['nonce'] = nonce;
    res.setHeader(
      'Content-Security-Policy',
      [
        "default-src 'none'",
        `style-src 'nonce-${nonce}'`,
        `script-src 'nonce-${nonce}'`,
        `img-src 'self'${logoOrigin}`,
        `form-action 'self' ${options.brokerUrl}`,
        "frame-ancestors 'none'",
        "base-uri 'none'",
      ].join('; '),
    );
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    res.setHeader('Cache-Control', 'no-store');
    if (options.secure) res.setHeader('Strict-Transport-Security', 'max-age=31536000');
    next();
  };
}

/**
 * A state-changing request must come from our own pages: when the browser says where it comes
 * from, it must be us. With `Referrer-Policy: no-referrer` browsers send `Origin: null` on form
 * posts, so a null Origin says nothing and Sec-Fetch-Site decides. The synchronizer token is
 * checked separately; this is defence in depth.
 */
export function sameOrigin(req: Request, portalOrigin: string): boolean {
  const origin = req.get('origin');
  if (origin !== undefined && origin !== 'null' && origin !== portalOrigin) return false;
  const site = req.get('sec-fetch-site');
  return site === undefined || site === 'same-origin' || site === 'none';
}
