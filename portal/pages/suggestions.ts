import { html, SafeHtml, seg } from '../../common/http/html.js';
import type { PageContext } from './layout.js';

/**
 * Knowledge base articles related to the summary a customer is typing on the raise-request form,
 * as the native portal suggests them (ADR 0168). A progressive enhancement: the form is whole
 * without script; with it, the summary is looked up once the customer pauses typing
 * (SUGGEST_DELAY_MS), never per keystroke, and only from SUGGEST_MIN_LENGTH characters, through the
 * portal's own `/desk/{id}/suggest` (the page's CSP allows fetching from its own origin only). The
 * answer is built into the page with textContent and only `/desk/` links: nothing it holds is read as
 * markup. A newer lookup cancels an older one still on its way, so the list is always the last one's.
 */
export const SUGGEST_MIN_LENGTH = 3;
export const SUGGEST_DELAY_MS = 400;

const SCRIPT = `(() => {
  const box = document.getElementById('kb-suggest');
  const input = box && document.getElementById(box.dataset.for);
  if (!input || !window.fetch) return;
  let timer;
  let asked = '';
  let inFlight;
  const clear = () => box.replaceChildren();
  const show = (articles) => {
    const items = (Array.isArray(articles) ? articles : []).filter(
      (a) => a && typeof a.href === 'string' && a.href.startsWith('/desk/'),
    );
    if (items.length === 0) return clear();
    const heading = document.createElement('h2');
    heading.textContent = box.dataset.heading;
    const help = document.createElement('p');
    help.className = 'muted';
    help.textContent = box.dataset.help;
    const list = document.createElement('ul');
    list.className = 'articles';
    for (const a of items) {
      const link = document.createElement('a');
      link.href = a.href;
      link.target = '_blank';
      link.rel = 'noopener noreferrer';
      const title = document.createElement('strong');
      title.textContent = String(a.title);
      link.append(title);
      const excerpt = document.createElement('span');
      excerpt.className = 'muted';
      excerpt.textContent = String(a.excerpt);
      const item = document.createElement('li');
      item.append(link, document.createElement('br'), excerpt);
      list.append(item);
    }
    box.replaceChildren(heading, help, list);
  };
  const lookup = async () => {
    const q = input.value.trim();
    if (q === asked) return;
    asked = q;
    if (inFlight) inFlight.abort();
    if (q.length < ${SUGGEST_MIN_LENGTH}) return clear();
    inFlight = new AbortController();
    try {
      const res = await fetch(box.dataset.src + '?' + new URLSearchParams({ q }), {
        signal: inFlight.signal,
        headers: { accept: 'application/json' },
        credentials: 'same-origin',
        redirect: 'error',
      });
      show(res.ok ? (await res.json()).articles : []);
    } catch (err) {
      if (!err || err.name !== 'AbortError') clear();
    }
  };
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(lookup, ${SUGGEST_DELAY_MS});
  });
})();`;

/**
 * Where the suggestions go, under the summary field whose input id is `inputId`, with the script
 * that fills it. Empty until there is something to suggest; a polite live region, so a screen
 * reader hears the list when it changes without losing its place in the form.
 */
export function suggestionsPanel(ctx: PageContext, deskId: string, inputId: string): SafeHtml {
  const { t } = ctx.i18n;
  return html`<div id="kb-suggest" class="suggestions" aria-live="polite" data-for="${inputId}" data-src="/desk/${seg(deskId)}/suggest" data-heading="${t('create.suggestedArticles')}" data-help="${t('create.suggestedArticlesHelp')}"></div>
<script nonce="${ctx.nonce}">${new SafeHtml(SCRIPT)}</script>`;
}
