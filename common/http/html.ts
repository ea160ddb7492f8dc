import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/** Text and attribute values in HTML (element content or double-quoted attributes). */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A fresh CSP nonce for one response. */
export function cspNonce(): string {
  return randomBytes(16).toString('base64');
}

/**
 * Sends a complete HTML page with the headers every page of ours carries: a CSP that allows only
 * the page's own nonce-tagged script and style, no framing, no caching, no referrer.
 */
export function sendHtmlPage(
  res: ServerResponse,
  status: number,
  html: string,
  options: { nonce: string; formAction?: string },
): void {
  res.statusCode = status;
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.setHeader(
    'content-security-policy',
    `default-src 'none'; script-src 'nonce-${options.nonce}'; style-src 'nonce-${options.nonce}'; ` +
      `form-action ${options.formAction ?? "'self'"}; frame-ancestors 'none'; base-uri 'none'`,
  );
  res.setHeader('cache-control', 'no-store');
  res.setHeader('pragma', 'no-cache');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('x-frame-options', 'DENY');
  res.end(html);
}
