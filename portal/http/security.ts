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

/**
 * Whether the browser asks for this as part of another origin's page (Fetch Metadata): an image, a
 * script, a frame, a fetch, as opposed to a page of the portal's own or a navigation to it (a link, a
 * form the broker posts). Nothing of such an answer can reach that page (Cross-Origin-Resource-Policy,
 * CORS, frame-ancestors), so it is not worth reading a session, counting a limit or asking Atlassian
 * for. A client that sends no Fetch Metadata (a server, an older browser) is not judged by it; a
 * browser that sends no `Sec-Fetch-Dest` (Chromium before 80) navigates to a document.
 */
export function forAnotherOriginsPage(req: Request): boolean {
  const site = req.get('sec-fetch-site');
  if (site === undefined || site === 'same-origin' || site === 'none') return false;
  return req.get('sec-fetch-mode') !== 'navigate' || (req.get('sec-fetch-dest') ?? 'document') !== 'document';
}
