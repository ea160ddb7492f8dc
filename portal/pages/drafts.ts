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
 * (`data-signed-out`) forgets them all.
 */
const SCRIPT = `(() => {
  const store = window.sessionStorage;
  const prefix = 'jsmsso-draft:';
  const owner = document.currentScript.dataset.owner;
  const ownerOf = (saved) => {
    try {
      return JSON.parse(saved).owner;
    } catch {
      return undefined;
    }
  };
  const forgetAll = document.querySelector('[data-written], [data-signed-out]');
  for (const key of Object.keys(store)) {
    if (key.startsWith(prefix) && (forgetAll || (owner && ownerOf(store.getItem(key)) !== owner))) store.removeItem(key);
  }
  if (!owner) return;
  for (const form of document.querySelectorAll('form[data-draft]')) {
    const key = prefix + form.getAttribute('action');
    form.addEventListener('submit', () => {
      const values = {};
      for (const [name, value] of new FormData(form)) {
        if (name === '_csrf' || typeof value !== 'string') continue;
        (values[name] = values[name] || []).push(value);
      }
      store.setItem(key, JSON.stringify({ owner, values }));
    });
    const saved = store.getItem(key);
    if (!saved) continue;
    const { values } = JSON.parse(saved);
    const newKey = form.hasAttribute('data-draft-new-key') && form.elements.namedItem('_write');
    for (const field of form.elements) {
      const kept = values[field.name];
      if (!kept || field.name === '_csrf' || field.type === 'file' || field === newKey) continue;
      if (field.type === 'checkbox' || field.type === 'radio') field.checked = kept.includes(field.value);
      else if (field.multiple) for (const o of field.options) o.selected = kept.includes(o.value);
      else if (field.type === 'hidden' || field.value === '') field.value = kept[0];
    }
    // The form opened again later (after checking My requests) is this one, not the old key's.
    if (newKey) store.setItem(key, JSON.stringify({ owner, values: { ...values, _write: [newKey.value] } }));
  }
})();`;

/** `owner`: the signed-in account's draft name (Session.draftOwner); undefined when no one is. */
export function draftScript(nonce: string, owner: string | undefined): SafeHtml {
  const token = (value: string) => value.replace(/[^A-Za-z0-9_-]/g, '');
  const ownerAttribute = owner === undefined ? '' : ` data-owner="${token(owner)}"`;
  return new SafeHtml(`<script nonce="${token(nonce)}"${ownerAttribute}>${SCRIPT}</script>`);
}
