import { type HtmlValue, html, type SafeHtml, trustedCss } from '../../common/http/html.js';
import { catalogueOf, type Locale, PSEUDO_LOCALES, type Translator } from '../../common/i18n/index.js';
import { WRITE_KEY_FIELD } from '../write-once.js';
import { draftScript } from './drafts.js';
import { localTimeScript } from './local-time.js';
import { restoredPageScript } from './restored-page.js';
import { uploadLimitScript } from './upload-limits.js';

/**
 * What every page needs: the tenant's branding, the CSP nonce, who is signed in, and the
 * response's language (`i18n.t` for every string a person reads, common/i18n).
 */
export interface PageContext {
  title: string;
  logoUrl?: string | undefined;
  primaryColor: string;
  /** The help center's announcement in the customer's language, when the tenant has one. */
  announcement?: string | undefined;
  nonce: string;
  /** `draftOwner`: the account's name for the drafts its tab keeps (pages/drafts.ts). */
  user?: { displayName: string; isAdmin: boolean; draftOwner: string } | undefined;
  i18n: Translator;
  /** The locales the switcher offers, and the page it comes back to. */
  locales: readonly Locale[];
  returnPath: string;
  timeZoneCookie: string;
  /** How long the tab keeps a draft (pages/drafts.ts). */
  draftSeconds: number;
  /** A message page offers to sign in again, back to this path (web.ts SIGN_IN_AGAIN_TO). */
  signInAgainTo?: string | undefined;
  /** The Atlassian site's origin: in a text Atlassian gives as markup, a link there is its text alone. */
  siteOrigin: string;
}

const STYLE = (primary: string) => `
:root{--primary:${primary};--text:#172b4d;--muted:#5e6c84;--line:#dfe1e6;--bg:#f4f5f7;--danger:#de350b;--ok:#00875a}
*{box-sizing:border-box}body{margin:0;overflow-wrap:anywhere;hyphens:auto;font:15px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,sans-serif;color:var(--text);background:var(--bg)}
a{color:var(--primary)}a:focus,button:focus,input:focus,select:focus,textarea:focus,summary:focus{outline:3px solid #4c9aff;outline-offset:2px}
.skip{position:absolute;inset-inline-start:-999px}.skip:focus{inset-inline-start:8px;top:8px;background:#fff;padding:8px;z-index:9}
header.banner{background:var(--primary);color:#fff}header.banner .bar{max-width:1040px;margin:0 auto;display:flex;gap:16px;align-items:center;padding:12px 16px;flex-wrap:wrap}
header.banner a{color:#fff;text-decoration:none;font-weight:600}header.banner img{height:32px}header.banner nav{margin-inline-start:auto;display:flex;gap:16px;flex-wrap:wrap}
.hero{background:var(--primary);color:#fff;padding:24px 16px 40px}.hero>div{max-width:1040px;margin:0 auto;padding:0 16px}
.hero form{display:flex;flex-wrap:wrap;gap:8px;align-items:center}.hero label{flex-basis:100%}.hero input[type=search]{flex:1 1 240px;margin:0}
.hero button{background:#fff;color:var(--primary);border:2px solid #fff}
main{max-width:1040px;margin:0 auto;padding:24px 16px}
.card{background:#fff;border:1px solid var(--line);border-radius:6px;padding:16px;margin-bottom:16px}
.announcement{border-inline-start:4px solid var(--primary)}.announcement h2{margin-top:0}.announcement p{white-space:pre-line;margin-bottom:0}
.grid{display:grid;gap:16px;grid-template-columns:repeat(auto-fill,minmax(240px,1fr));list-style:none;padding:0}
.muted{color:var(--muted)}.error{color:var(--danger)}.notice{border-inline-start:4px solid var(--ok);padding:8px 12px;background:#e3fcef}
.alert{border-inline-start:4px solid var(--danger);padding:8px 12px;background:#ffebe6}
label{display:block;font-weight:600;margin:12px 0 4px}.field-help{font-size:13px;color:var(--muted)}.field-help p{margin:0}
input[type=text],input[type=search],input[type=url],input[type=number],input[type=date],input[type=datetime-local],select,textarea{width:100%;max-width:640px;padding:8px;border:2px solid var(--line);border-radius:4px;font:inherit;background:#fafbfc}
textarea{min-height:120px}fieldset{border:0;padding:0;margin:12px 0}legend{font-weight:600}
button,.button{display:inline-block;background:var(--primary);color:#fff;border:0;border-radius:4px;padding:8px 14px;font:inherit;font-weight:600;cursor:pointer;text-decoration:none}
button.secondary,.button.secondary{background:#ebecf0;color:var(--text)}
table{width:100%;border-collapse:collapse;background:#fff}th,td{text-align:start;padding:8px;border-bottom:1px solid var(--line)}
.lozenge{display:inline-block;font-size:12px;font-weight:700;text-transform:uppercase;padding:0 6px;border-radius:3px;background:#dfe1e6}
.lozenge.done{background:#e3fcef;color:#006644}.lozenge.indeterminate{background:#deebff;color:#0747a6}.lozenge.declined{background:#ffebe6;color:#bf2600}
.filters{display:flex;gap:12px;flex-wrap:wrap;align-items:end}.filters label{margin:0}
.comment{border-top:1px solid var(--line);padding:12px 0}.inline{display:inline}
.desk-layout{display:grid;grid-template-columns:minmax(160px,220px) 1fr;gap:24px;align-items:start}
.groups ul,.types{list-style:none;padding:0;margin:0}.groups a{display:block;padding:8px 12px;border-radius:4px;text-decoration:none;color:var(--text)}
.groups a[aria-current=page]{background:#fff;font-weight:700;border-inline-start:4px solid var(--primary)}
.type-title img{vertical-align:middle;border-radius:4px}.type{display:flex;gap:12px;align-items:flex-start}.type img{flex:0 0 32px;border-radius:4px}
@media(max-width:760px){.desk-layout{grid-template-columns:1fr}.groups ul{display:flex;flex-wrap:wrap;gap:4px}}
.activity{list-style:none;padding:0;margin:0}.activity>li{border-top:1px solid var(--line);padding:10px 0}.activity>li:first-child{border-top:0}.activity-head{margin:0}
.comment-body{overflow-wrap:anywhere}.comment-body img{max-width:100%;height:auto}.comment-body pre{white-space:pre-wrap}
.files{list-style:none;padding:0;display:flex;flex-wrap:wrap;align-items:flex-start;gap:8px}.files li{border:1px solid var(--line);border-radius:4px;padding:6px 8px;max-width:100%;overflow-wrap:anywhere}.files img{display:block;width:120px;height:80px;object-fit:cover;margin-bottom:4px;background:var(--bg)}
.layout-2{display:grid;grid-template-columns:2fr 1fr;gap:16px}@media(max-width:760px){.layout-2{grid-template-columns:1fr}}
footer{text-align:center;color:var(--muted);padding:24px}footer ul{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:4px 16px;justify-content:center}
td{overflow-wrap:anywhere}.kb-article{overflow-wrap:anywhere}.kb-article table{width:auto}
@media(max-width:600px){table.cards,table.cards tbody,table.cards tr,table.cards td{display:block}table.cards{background:none}
table.cards caption{display:block;text-align:start}table.cards thead{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%)}
table.cards tr{background:#fff;border:1px solid var(--line);border-radius:6px;margin-bottom:12px;padding:8px 12px}
table.cards td{border:0;padding:4px 0;display:flex;gap:12px}table.cards td::before{content:attr(data-label);flex:0 0 96px;font-weight:600;color:var(--muted);overflow-wrap:normal}
:lang(de) table.cards td::before{flex-basis:9.5em}}
`;

export function layout(
  ctx: PageContext,
  pageTitle: string,
  body: HtmlValue,
  options: { hero?: SafeHtml; refreshTo?: string } = {},
): SafeHtml {
  const { t, locale, dir } = ctx.i18n;
  return html`<!doctype html>
<html lang="${locale}" dir="${dir}" data-time-zone="${ctx.i18n.timeZone}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${options.refreshTo ? html`<meta http-equiv="refresh" content="0;url=${options.refreshTo}">` : ''}
<title>${t('layout.pageTitle', { page: pageTitle, site: ctx.title })}</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<style nonce="${ctx.nonce}">${trustedCss(STYLE(/^#[0-9a-fA-F]{6}$/.test(ctx.primaryColor) ? ctx.primaryColor : '#0052cc'))}</style>
</head>
<body>
<a class="skip" href="#main">${t('layout.skipToContent')}</a>
<header class="banner" role="banner"><div class="bar">
  <a href="/">${ctx.logoUrl ? html`<img src="${ctx.logoUrl}" alt="">` : ''} ${ctx.title}</a>
  ${
    ctx.user
      ? html`<nav aria-label="${t('layout.accountNav')}"><a href="/requests">${t('layout.requests')}</a>${ctx.user.isAdmin ? html`<a href="/activity">${t('layout.activity')}</a>` : ''}<a href="/profile">${ctx.user.displayName}</a></nav>`
      : ''
  }
</div></header>
${options.hero ?? ''}
<main id="main" tabindex="-1">
${body}
</main>
<footer role="contentinfo"><p>${t('layout.poweredBy')}</p>${languageSwitcher(ctx)}</footer>
${draftScript(ctx.nonce, ctx.user?.draftOwner, ctx.draftSeconds)}
${localTimeScript(ctx.nonce, ctx.timeZoneCookie)}
${uploadLimitScript(ctx.nonce)}
${ctx.user ? restoredPageScript(ctx.nonce) : ''}
</body>
</html>`;
}

/** Links, not a form: they work without scripts, and each names its language in that language. */
function languageSwitcher(ctx: PageContext): SafeHtml {
  const back = encodeURIComponent(ctx.returnPath);
  const name = (l: Locale) =>
    (PSEUDO_LOCALES as readonly string[]).includes(l) ? l : catalogueOf(l)['locale.name'];
  return html`<nav aria-label="${ctx.i18n.t('layout.language')}"><ul>${ctx.locales.map((l) =>
    l === ctx.i18n.locale
      ? html`<li><a href="/locale?lang=${l}&amp;return=${back}" lang="${l}" hreflang="${l}" aria-current="true"><strong>${name(l)}</strong></a></li>`
      : html`<li><a href="/locale?lang=${l}&amp;return=${back}" lang="${l}" hreflang="${l}">${name(l)}</a></li>`,
  )}</ul></nav>`;
}

/** The tab icon: a speech bubble in the tenant's colour (validated #rrggbb, else Atlassian blue). */
export function faviconSvg(primaryColor: string): string {
  const fill = /^#[0-9a-fA-F]{6}$/.test(primaryColor) ? primaryColor : '#0052cc';
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="${fill}"/><path d="M8 9h16a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2h-9l-5 4v-4H8a2 2 0 0 1-2-2v-9a2 2 0 0 1 2-2z" fill="#fff"/></svg>`;
}

export function csrfField(token: string): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${token}">`;
}

/** The write key of a form that creates something (portal/write-once.ts). */
export function writeKeyField(key: string): SafeHtml {
  return html`<input type="hidden" name="${WRITE_KEY_FIELD}" value="${key}">`;
}

export function statusLozenge(status: string, category: string): SafeHtml {
  const cls = category === 'done' ? 'done' : category === 'indeterminate' ? 'indeterminate' : '';
  return html`<span class="lozenge ${cls}">${status}</span>`;
}
