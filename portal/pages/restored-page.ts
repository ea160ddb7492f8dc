import { html, SafeHtml } from '../../common/http/html.js';

/**
 * A signed-in page is never shown again from the browser's back/forward cache (ADR 0271). Chromium
 * (136 and later) keeps pages served `Cache-Control: no-store` there for a few minutes and restores
 * them on Back without asking the portal, unless a cookie of the site changed meanwhile. A session
 * that ends at the portal (an admin's End sessions, the IdP's back-channel logout, a timeout)
 * changes no cookie in the tab, so Back on a shared computer showed the last customer's page.
 *
 * The page hides itself as it goes into the cache, and a restored page asks the portal for its
 * address again (a GET, in place of the restored entry, never a form sent twice): the portal then
 * shows the page as it is now, or sends to sign in.
 */
const SCRIPT = `(() => {
  addEventListener('pagehide', (e) => {
    if (e.persisted) document.documentElement.hidden = true;
  });
  addEventListener('pageshow', (e) => {
    if (e.persisted) location.replace(location.href.split('#')[0]);
  });
})();`;

export function restoredPageScript(nonce: string): SafeHtml {
  return html`<script nonce="${nonce}">${new SafeHtml(SCRIPT)}</script>`;
}
