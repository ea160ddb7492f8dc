import type { ServerResponse } from 'node:http';
import type { TenantSpec } from '../common/config/tenant.generated.js';
import {
  type HtmlTemplate,
  type HtmlValue,
  html,
  htmlTemplate,
  type SafeHtml,
  trustedCss,
} from '../common/http/html.js';
import { allowFormAction, pageNonce } from '../common/http/security-headers.js';
import type { Locale, MessageKey, Translator } from '../common/i18n/index.js';

/**
 * The few pages a person sees at the broker, in the tenant's colours, under its help center's name
 * and logo, each with a link back to the help center (the portal), where signing in starts again:
 * no page is a dead end. Every word comes from the message catalogue (common/i18n) in the page's
 * language (broker/language.ts). Rendered with `html`, so every value is escaped; scripts carry the nonce.
 */
export interface Branding {
  /** The help center's name (spec.portal.title); unset, the catalogue's name for a help center. */
  title?: string;
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
    ...(title ? { title } : {}),
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

/** What every page needs: the tenant's look and the language of this response. */
export interface PageContext {
  brand: Branding;
  i18n: Translator;
}

/** The help center's name as this page says it. */
const siteName = ({ brand, i18n }: PageContext) => brand.title ?? i18n.t('home.title');

function layout(nonce: HtmlValue, page: PageContext, title: string, body: HtmlValue): SafeHtml {
  const { brand, i18n } = page;
  const site = siteName(page);
  return html`<!DOCTYPE html><html lang="${i18n.locale}" dir="${i18n.dir}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${i18n.t('layout.pageTitle', { page: title, site })}</title>
<style nonce="${nonce}">${trustedCss(STYLE(brand.primaryColor))}</style></head>
<body><header><a href="${brand.helpCenterUrl}/">${brand.logoUrl ? html`<img src="${brand.logoUrl}" alt="">` : ''} ${site}</a></header>
<main>${body}</main></body></html>`;
}

/** The way back: the help center, where signing in starts again. */
const backLink = (page: PageContext) =>
  html`<p><a href="${page.brand.helpCenterUrl}/">${page.i18n.t('broker.backTo', { site: siteName(page) })}</a></p>`;

function sendPage(
  res: ServerResponse,
  page: PageContext,
  status: number,
  title: string,
  body: HtmlValue,
): void {
  sendHtml(res, page, status, layout(pageNonce(res), page, title, body).value);
}

function sendHtml(res: ServerResponse, page: PageContext, status: number, text: string): void {
  res.statusCode = status;
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.setHeader('content-language', page.i18n.locale);
  res.setHeader('vary', 'Accept-Language');
  res.end(text);
}

/** A message, and the way back to the help center; a refusal shows its reason code untranslated. */
export function sendMessagePage(
  res: ServerResponse,
  page: PageContext,
  status: number,
  content: { title: MessageKey; message: MessageKey; reason?: string },
): void {
  const { t } = page.i18n;
  const title = t(content.title);
  sendPage(
    res,
    page,
    status,
    title,
    html`<h1>${title}</h1><p>${t(content.message)}</p>
${backLink(page)}
${content.reason ? html`<p><small>${t('message.reference')} <code>${content.reason}</code></small></p>` : ''}`,
  );
}

export interface IdpChoice {
  name: string;
  displayName: string;
}

/** The IdP chooser: home-realm discovery by e-mail, or a button per IdP; posts to the broker. */
export function sendChoicePage(
  res: ServerResponse,
  page: PageContext,
  options: {
    idps: readonly IdpChoice[];
    csrf: string;
    /** Where the choice is posted: the broker's /saml/choose, under its base path. */
    action: string;
    /**
     * Why the e-mail given chose no IdP, said above the choice: its domain is one no IdP speaks for, or
     * that of an IdP the request's IDPList does not name (ADR 0420).
     */
    emailNotice?: 'noMethodForDomain' | 'methodNotOffered';
    idpOrigins: readonly string[];
  },
): void {
  const { t } = page.i18n;
  const csrf = html`<input type="hidden" name="csrf" value="${options.csrf}">`;
  allowFormAction(res, options.idpOrigins);
  sendPage(
    res,
    page,
    200,
    t('broker.choose.title'),
    html`<h1>${t('broker.choose.heading', { site: siteName(page) })}</h1>${options.emailNotice ? html`<p role="alert">${t(`broker.choose.${options.emailNotice}`)}</p>` : ''}
<form method="post" action="${options.action}">${csrf}<label>${t('broker.choose.email')} <input type="email" name="email" autocomplete="email" required></label> <button type="submit">${t('broker.continue')}</button></form>
<p>${t('broker.choose.or')}</p><form method="post" action="${options.action}">${csrf}${options.idps.map(
      (idp) => html`<button type="submit" name="idp" value="${idp.name}">${idp.displayName}</button><br>`,
    )}</form>
${backLink(page)}`,
  );
}

/** The HTTP-POST binding: an auto-submitting form to the SP's endpoint (bindings 3.5.4). */
export function sendPostBindingPage(
  res: ServerResponse,
  page: PageContext,
  options: { action: string; field: 'SAMLResponse' | 'SAMLRequest'; message: string; relayState?: string },
): void {
  allowFormAction(res, [new URL(options.action).origin]);
  sendHtml(
    res,
    page,
    200,
    postBindingPage(page).fill({
      nonce: pageNonce(res),
      action: options.action,
      field: options.field,
      message: options.message,
      relayState:
        options.relayState === undefined
          ? ''
          : html`<input type="hidden" name="RelayState" value="${options.relayState}">`,
    }),
  );
}

type PostBindingValue = 'nonce' | 'action' | 'field' | 'message' | 'relayState';

/**
 * The auto-submitting page ends every sign-in: its words and the tenant's look are drawn once per
 * help center look and language (four at most), and each Response only fills in its values. Kept
 * as long as the tenant's Branding (its broker) is.
 */
const postBindingPages = new WeakMap<Branding, Map<Locale, HtmlTemplate<PostBindingValue>>>();

function postBindingPage(page: PageContext): HtmlTemplate<PostBindingValue> {
  let byLocale = postBindingPages.get(page.brand);
  if (!byLocale) {
    byLocale = new Map();
    postBindingPages.set(page.brand, byLocale);
  }
  let template = byLocale.get(page.i18n.locale);
  if (!template) {
    const { t } = page.i18n;
    template = htmlTemplate(['nonce', 'action', 'field', 'message', 'relayState'], (hole) =>
      layout(
        hole.nonce,
        page,
        t('broker.post.title'),
        html`<form id="saml" method="post" action="${hole.action}"><input type="hidden" name="${hole.field}" value="${hole.message}">${hole.relayState}<noscript><p>${t('broker.post.noScript')}</p></noscript><button type="submit">${t('broker.continue')}</button></form>
<script nonce="${hole.nonce}">document.getElementById('saml').submit();</script>`,
      ),
    );
    byLocale.set(page.i18n.locale, template);
  }
  return template;
}

/**
 * What the IdP's logout page frames (Front-Channel Logout 1.0, ADR 0159): the sign-out is done by
 * the time it is sent, and the frame is usually hidden, so the page is a title and a line, with
 * nothing loaded from elsewhere (a third-party frame may not load the tenant's logo).
 */
export function sendFrontchannelLogoutPage(res: ServerResponse, page: PageContext): void {
  const { i18n } = page;
  const title = i18n.t('broker.signedOut.title');
  sendHtml(
    res,
    page,
    200,
    html`<!DOCTYPE html><html lang="${i18n.locale}" dir="${i18n.dir}"><head><meta charset="utf-8"><title>${title}</title></head><body><p>${title}</p></body></html>`
      .value,
  );
}
