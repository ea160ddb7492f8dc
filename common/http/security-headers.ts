import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HSTS_HEADER_VALUE } from '../tls/versions.js';

/**
 * The headers every response of ours carries, for the broker, the portal and the dev IdP alike: a
 * strict CSP (a page gets a per-response nonce for its own script and style, nothing loaded from
 * elsewhere but the tenant's logo; any other answer may run nothing at all), no framing, no
 * referrer, no MIME sniffing, no caching, and HSTS when the part is served over https (its public
 * URL: TLS may end at the Ingress, where browsers still see https).
 */
export interface SecurityHeaderOptions {
  /** Where forms may post besides this origin (the portal's broker; the broker's IdPs, per page). */
  formAction?: readonly string[];
  /** The tenant's logo: when an absolute URL, its origin may serve images (a path is 'self'). */
  logoUrl?: string | undefined;
  /** Whether the public URL is https (then HSTS). */
  secure: boolean;
}

/** What this response's CSP allows; kept on the response so a page can add its nonce and targets. */
interface PagePolicy {
  /** Made when a page first asks for it: redirects and XML need none (and cost no random bytes). */
  nonce?: string;
  formAction: readonly string[];
  images: readonly string[];
  /** The origins that may frame this response; none but on the one route framed by design. */
  frameAncestors: readonly string[];
  /** The origins this page may frame; none but on the dev IdP's front-channel logout page. */
  frameSources: readonly string[];
  /** Whether this page's script may fetch from its own origin (`connect-src 'self'`); no other page's may. */
  connectSelf: boolean;
}

const POLICY = Symbol('jsm-sso page policy');
type WithPolicy = ServerResponse & { [POLICY]?: PagePolicy };

/** Sets the headers on one response. */
export function setSecurityHeaders(res: ServerResponse, options: SecurityHeaderOptions): void {
  applyHeaders(res, options, imagesOf(options.logoUrl));
}

/** A setter for every response of one server (the logo's origin worked out once). */
export function securityHeaderSetter(options: SecurityHeaderOptions): (res: ServerResponse) => void {
  const images = imagesOf(options.logoUrl);
  return (res) => applyHeaders(res, options, images);
}

/** The same, as Express middleware run before every route. */
export function securityHeaders(options: SecurityHeaderOptions) {
  const set = securityHeaderSetter(options);
  return (_req: IncomingMessage, res: ServerResponse, next: () => void) => {
    set(res);
    next();
  };
}

function imagesOf(logoUrl: string | undefined): string[] {
  return logoUrl && URL.canParse(logoUrl) ? [new URL(logoUrl).origin] : [];
}

function applyHeaders(res: ServerResponse, options: SecurityHeaderOptions, images: readonly string[]): void {
  const policy: PagePolicy = {
    formAction: options.formAction ?? [],
    images,
    frameAncestors: [],
    frameSources: [],
    connectSelf: false,
  };
  (res as WithPolicy)[POLICY] = policy;
  res.setHeader('Content-Security-Policy', contentSecurityPolicy(policy));
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('Cache-Control', 'no-store');
  if (options.secure) res.setHeader('Strict-Transport-Security', HSTS_HEADER_VALUE);
}

/**
 * The nonce of this response's page, for `<script nonce>` and `<style nonce>`: made on first use,
 * when the CSP gains the page's `script-src`, `style-src` and `img-src`.
 */
export function pageNonce(res: ServerResponse): string {
  const policy = policyOf(res);
  if (policy.nonce === undefined) {
    policy.nonce = randomBytes(16).toString('base64url');
    res.setHeader('Content-Security-Policy', contentSecurityPolicy(policy));
  }
  return policy.nonce;
}

/**
 * Widens `form-action` for the one page whose form posts elsewhere (the broker's choice page to the
 * IdPs, its auto-submitting Response to the portal's ACS); every other directive stays.
 */
export function allowFormAction(res: ServerResponse, sources: readonly string[]): void {
  const policy = policyOf(res);
  policy.formAction = sources;
  res.setHeader('Content-Security-Policy', contentSecurityPolicy(policy));
}

/**
 * Lets `origins` (and only them) frame this response: the broker's front-channel logout page, which
 * the IdP's logout page frames by design (OpenID Connect Front-Channel Logout 1.0, ADR 0159). CSP
 * `frame-ancestors` names them; X-Frame-Options goes: it can name no origin (ALLOW-FROM is gone from
 * browsers), a browser that reads frame-ancestors ignores it, and the page has nothing to click for
 * a clickjacker in one that reads neither. Such an answer is never cached, by the spec's own two
 * headers (section 4).
 */
export function allowFramingBy(res: ServerResponse, origins: readonly string[]): void {
  const policy = policyOf(res);
  policy.frameAncestors = origins;
  res.setHeader('Content-Security-Policy', contentSecurityPolicy(policy));
  res.removeHeader('X-Frame-Options');
  res.setHeader('Cache-Control', 'no-cache, no-store');
  res.setHeader('Pragma', 'no-cache');
}

/**
 * Lets this page frame `origins`: the development IdP's logout page, which frames each client's
 * front-channel logout URI as an OP of Front-Channel Logout 1.0 does (dev/idp/frontchannel-logout.ts).
 */
export function allowFrameSources(res: ServerResponse, origins: readonly string[]): void {
  const policy = policyOf(res);
  policy.frameSources = origins;
  res.setHeader('Content-Security-Policy', contentSecurityPolicy(policy));
}

/**
 * Lets this page's script fetch from the page's own origin: the raise-request form, whose script
 * asks the portal for articles related to the summary being typed (ADR 0168). Nowhere else.
 */
export function allowFetchFromSelf(res: ServerResponse): void {
  const policy = policyOf(res);
  policy.connectSelf = true;
  res.setHeader('Content-Security-Policy', contentSecurityPolicy(policy));
}

function policyOf(res: ServerResponse): PagePolicy {
  const policy = (res as WithPolicy)[POLICY];
  if (!policy) throw new Error('setSecurityHeaders has not run for this response');
  return policy;
}

function contentSecurityPolicy({
  nonce,
  formAction,
  images,
  frameAncestors,
  frameSources,
  connectSelf,
}: PagePolicy): string {
  return [
    "default-src 'none'",
    ...(nonce === undefined
      ? []
      : [
          `style-src 'nonce-${nonce}'`,
          `script-src 'nonce-${nonce}'`,
          `img-src ${["'self'", ...images].join(' ')}`,
        ]),
    ...(frameSources.length ? [`frame-src ${frameSources.join(' ')}`] : []),
    ...(connectSelf ? ["connect-src 'self'"] : []),
    `form-action ${["'self'", ...formAction].join(' ')}`,
    `frame-ancestors ${frameAncestors.length ? frameAncestors.join(' ') : "'none'"}`,
    "base-uri 'none'",
  ].join('; ');
}
