import { SafeHtml } from '../../common/http/html.js';

/**
 * Keeps what a customer types in a create or comment form in the browser tab (sessionStorage),
 * never on the server: if the session ended while they wrote (idle timeout, Redis restarted), the
 * form post is refused, they sign in again and come back to the same form with their text in it.
 * The draft keeps the form's write key too, so sending it again can never write twice
 * (portal/write-once.ts), unless the page gives a new key on purpose (`data-draft-new-key`: a form
 * that can never learn whether it wrote, ADR 0299), which the draft then keeps in place of the old
 * one (ADR 0309). A page that confirms a write (`data-written`) forgets the tab's drafts.
 * The CSRF token is never kept: the new session has its own. Files cannot be kept.
 * A tab is not a person (a shared computer, the next colleague signing in where the last one's
 * session ran out): a draft names its writer (`owner`, an opaque keyed hash of the account, ADR
 * 0190), is given back to that account only, and a page of another account forgets it; signing out
 * (`data-signed-out`, and the sign-out's Clear-Site-Data for the other tabs) forgets them all. A draft
 * lives `seconds` from the first send of its key (ADR 0309), no longer than a session of its writer
 * left idle: every page, of anyone or no one, forgets the older, and a page left open forgets each
 * as it goes stale. Nor does its key outlive that key's claim (the session's absolute timeout from its
 * post, ADR 0288, 0299), which a post after it would judge afresh.
 */
const SCRIPT = `(() => {
  const store = window.sessionStorage;
  const prefix = 'jsmsso-draft:';
  const { owner, seconds } = document.currentScript.dataset;
  const lifeMs = Number(seconds) * 1000;
  const read = (saved) => {
    try {
      return JSON.parse(saved);
    } catch {
      return undefined;
    }
  };
  const freshUntil = (draft) => (draft && Number.isFinite(draft.since) ? draft.since + lifeMs : 0);
  const forgetAll = document.querySelector('[data-written], [data-signed-out]');
  // Forgets what this page may not keep; when the next kept draft goes stale, again.
  const forget = () => {
    let next = Infinity;
    for (const key of Object.keys(store)) {
      if (!key.startsWith(prefix)) continue;
      const draft = read(store.getItem(key));
      const until = freshUntil(draft);
      // Not "<=": a time that is not a number is stale too, never a timer due at once, again and again.
      if (forgetAll || !(until > Date.now()) || (owner && draft.owner !== owner)) store.removeItem(key);
      else next = Math.min(next, until);
    }
    if (next !== Infinity) setTimeout(forget, next - Date.now());
  };
  forget();
  if (!owner) return;
  for (const form of document.querySelectorAll('form[data-draft]')) {
    const key = prefix + form.getAttribute('action');
    const keep = (values, since) => store.setItem(key, JSON.stringify({ owner, since, values }));
    form.addEventListener('submit', () => {
      const values = {};
      for (const [name, value] of new FormData(form)) {
        if (name === '_csrf' || typeof value !== 'string') continue;
        (values[name] = values[name] || []).push(value);
      }
      // Sent again under the same key, the draft keeps the time that key was first sent.
      const before = read(store.getItem(key));
      const sameKey = before && freshUntil(before) > Date.now() && String(before.values._write) === String(values._write);
      keep(values, sameKey ? before.since : Date.now());
    });
    const saved = read(store.getItem(key));
    if (!saved) continue;
    const { values } = saved;
    const newKey = form.hasAttribute('data-draft-new-key') && form.elements.namedItem('_write');
    for (const field of form.elements) {
      const kept = values[field.name];
      if (!kept || field.name === '_csrf' || field.type === 'file' || field === newKey) continue;
      if (field.type === 'checkbox' || field.type === 'radio') field.checked = kept.includes(field.value);
      else if (field.multiple) for (const o of field.options) o.selected = kept.includes(o.value);
      else if (field.type === 'hidden' || field.value === '') field.value = kept[0];
    }
    // The form opened again later (after checking My requests) is this one, not the old key's.
    if (newKey) keep({ ...values, _write: [newKey.value] }, Date.now());
  }
})();`;

/**
 * `owner`: the signed-in account's draft name (Session.draftOwner); undefined when no one is.
 * `seconds`: how long a draft lives from the first send of its key.
 */
export function draftScript(nonce: string, owner: string | undefined, seconds: number): SafeHtml {
  const token = (value: string) => value.replace(/[^A-Za-z0-9_-]/g, '');
  const ownerAttribute = owner === undefined ? '' : ` data-owner="${token(owner)}"`;
  return new SafeHtml(
    `<script nonce="${token(nonce)}"${ownerAttribute} data-seconds="${Math.trunc(seconds)}">${SCRIPT}</script>`,
  );
}
