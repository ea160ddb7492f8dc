import type { ServerResponse } from 'node:http';
import type { TenantSpec } from '../common/config/tenant.generated.js';
import { type HtmlValue, html, trustedCss } from '../common/http/html.js';
import { allowFormAction, pageNonce } from '../common/http/security-headers.js';

/**
 * The few pages a person sees at the broker, in the tenant's colours, under its help center's name
 * and logo, each with a link back to the help center (the portal), where signing in starts again:
 * no page is a dead end. Rendered with `html`, so every value is escaped; scripts carry the nonce.
 */
export interface Branding {
  /** The help center's name (spec.portal.title). */
  title: string;
  /** The help center's address, where every page links back to. */
  helpCenterUrl: string;
  /** Absolute (a logo path on the portal is resolved against the portal's URL). */
  logoUrl?: string;
  /** Validated #rrggbb. */
  primaryColor: string;
}

const DEFAULT_COLOUR = '#0052cc';

export function brandingOf(spec: TenantSpec): Branding {
  const { title, branding, url } = spec.portal;
  const colour = branding?.primaryColor;
  return {
    title: title ?? 'Help Center',
    helpCenterUrl: url,
    ...(branding?.logoUrl ? { logoUrl: new URL(branding.logoUrl, `${url}/`).href } : {}),
    primaryColor: colour && /^#[0-9a-fA-F]{6}$/.test(colour) ? colour : DEFAULT_COLOUR,
  };
}

const STYLE = (primary: string) =>
  `:root{--primary:${primary}}body{margin:0;font:15px/1.5 system-ui,sans-serif;color:#172b4d;background:#f4f5f7}` +
  'header{background:var(--primary);color:#fff;padding:12px 16px;display:flex;gap:12px;align-items:center}' +
  'header a{color:#fff;font-weight:600;text-decoration:none}header img{height:32px}' +
  'main{max-width:32em;margin:2em auto;padding:16px;background:#fff;border:1px solid #dfe1e6;border-radius:6px}' +
  'a{color:var(--primary)}a:focus,button:focus,input:focus{outline:3px solid #4c9aff;outline-offset:2px}' +
  'button{background:var(--primary);color:#fff;border:0;border-radius:4px;padding:.5em 1em;margin:.25em 0;font:inherit;font-weight:600;cursor:pointer}' +
  'input{padding:.4em;font:inherit}';

function layout(res: ServerResponse, brand: Branding, title: string, body: HtmlValue): string {
  const nonce = pageNonce(res);
  return html`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title} - ${brand.title}</title>
<style nonce="${nonce}">${trustedCss(STYLE(brand.primaryColor))}</style></head>
<body><header><a href="${brand.helpCenterUrl}/">${brand.logoUrl ? html`<img src="${brand.logoUrl}" alt="">` : ''} ${brand.title}</a></header>
<main>${body}</main></body></html>`.value;
}

/** The way back: the help center, where signing in starts again. */
const backLink = (brand: Branding) =>
  html`<p><a href="${brand.helpCenterUrl}/">Back to ${brand.title}</a></p>`;

function sendPage(
  res: ServerResponse,
  brand: Branding,
  status: number,
  title: string,
  body: HtmlValue,
): void {
  res.statusCode = status;
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.end(layout(res, brand, title, body));
}

/** A message, and the way back to the help center. */
export function sendMessagePage(
  res: ServerResponse,
  brand: Branding,
  status: number,
  page: { title: string; message: string; reason?: string },
): void {
  sendPage(
    res,
    brand,
    status,
    page.title,
    html`<h1>${page.title}</h1><p>${page.message}</p>
${backLink(brand)}
${page.reason ? html`<p><small>Reference: <code>${page.reason}</code></small></p>` : ''}`,
  );
}

export interface IdpChoice {
  name: string;
  displayName: string;
}

/** The IdP chooser: home-realm discovery by e-mail, or a button per IdP; posts to the broker. */
export function sendChoicePage(
  res: ServerResponse,
  brand: Branding,
  options: { idps: readonly IdpChoice[]; csrf: string; notice?: string; idpOrigins: readonly string[] },
): void {
  const csrf = html`<input type="hidden" name="csrf" value="${options.csrf}">`;
  allowFormAction(res, options.idpOrigins);
  sendPage(
    res,
    brand,
    200,
    'Sign in',
    html`<h1>Sign in to ${brand.title}</h1>${options.notice ? html`<p role="alert">${options.notice}</p>` : ''}
<form method="post" action="/saml/choose">${csrf}<label>Work e-mail <input type="email" name="email" autocomplete="email" required></label> <button type="submit">Continue</button></form>
<p>or choose where you sign in:</p><form method="post" action="/saml/choose">${csrf}${options.idps.map(
      (idp) => html`<button type="submit" name="idp" value="${idp.name}">${idp.displayName}</button><br>`,
    )}</form>
${backLink(brand)}`,
  );
}

/** The HTTP-POST binding: an auto-submitting form to the SP's endpoint (bindings 3.5.4). */
export function sendPostBindingPage(
  res: ServerResponse,
  brand: Branding,
  options: { action: string; field: 'SAMLResponse' | 'SAMLRequest'; message: string; relayState?: string },
): void {
  allowFormAction(res, [new URL(options.action).origin]);
  sendPage(
    res,
    brand,
    200,
    'Signing you in',
    html`<form id="saml" method="post" action="${options.action}"><input type="hidden" name="${options.field}" value="${options.message}">${
      options.relayState === undefined
        ? ''
        : html`<input type="hidden" name="RelayState" value="${options.relayState}">`
    }<noscript><p>Your browser does not run scripts; press Continue.</p></noscript><button type="submit">Continue</button></form>
<script nonce="${pageNonce(res)}">document.getElementById('saml').submit();</script>`,
  );
}
