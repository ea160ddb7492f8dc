import { html, SafeHtml } from '../../common/http/html.js';
import { DATE_TIME_OPTIONS, type Translator } from '../../common/i18n/index.js';

/**
 * Dates show in the customer's own time zone. The server knows it only from a cookie this script
 * sets from the browser (`Intl...resolvedOptions().timeZone`, nothing else); until then it renders
 * UTC, named as such. When the page was rendered for another zone than the browser's, the script
 * also rewrites each `<time data-dt>` (and the title of each `<time data-dt-title>`) with the same
 * format options, so even the first page reads right. Without scripts the page stays correct in UTC.
 */
const SCRIPT = `(() => {
  const root = document.documentElement;
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!zone || zone === root.dataset.timeZone) return;
  const cookie = document.currentScript.dataset.cookie;
  const secure = location.protocol === 'https:' ? '; Secure' : '';
  document.cookie = cookie + '=' + encodeURIComponent(zone) + '; Path=/; Max-Age=31536000; SameSite=Lax' + secure;
  const format = new Intl.DateTimeFormat(root.lang, Object.assign(${JSON.stringify(DATE_TIME_OPTIONS)}, { timeZone: zone }));
  for (const el of document.querySelectorAll('time[data-dt]')) el.textContent = format.format(new Date(el.dateTime));
  for (const el of document.querySelectorAll('time[data-dt-title]')) el.title = format.format(new Date(el.dateTime));
})();`;

export function localTimeScript(nonce: string, cookieName: string): SafeHtml {
  return html`<script nonce="${nonce}" data-cookie="${cookieName}">${new SafeHtml(SCRIPT)}</script>`;
}

/** An instant as date and time in the customer's zone, e.g. `2 Dec 2026, 09:30 CET`. */
export function dateTime(i18n: Translator, iso: string | undefined): SafeHtml {
  const text = i18n.dateTime(iso);
  return text ? html`<time datetime="${new Date(iso!).toISOString()}" data-dt>${text}</time>` : html``;
}

/** An instant relative to now (`3 hours ago`), with the date and time as its title. */
export function relativeTime(i18n: Translator, iso: string | undefined): SafeHtml {
  const text = i18n.relative(iso);
  return text
    ? html`<time datetime="${new Date(iso!).toISOString()}" title="${i18n.dateTime(iso)}" data-dt-title>${text}</time>`
    : html``;
}
