import type { Request } from 'express';

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
