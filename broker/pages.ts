import type { ServerResponse } from 'node:http';
import { cspNonce, escapeHtml, sendHtmlPage } from '../common/http/html.js';

/** The few pages a person sees at the broker. Every value is HTML-escaped; scripts carry a nonce. */

function layout(nonce: string, title: string, body: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title>
<style nonce="${nonce}">body{font-family:system-ui,sans-serif;max-width:32em;margin:3em auto;padding:0 1em;color:#172b4d}button{padding:.5em 1em;margin:.25em 0}input{padding:.4em}</style></head>
<body><main>${body}</main></body></html>`;
}

/**
 * A message, and the way back: every page the broker shows links to the tenant's help center
 * (`helpCenterUrl`, the portal), where signing in starts again. No page is a dead end.
 */
export function sendMessagePage(
  res: ServerResponse,
  status: number,
  page: { title: string; message: string; helpCenterUrl: string; reason?: string },
): void {
  const nonce = cspNonce();
  const detail = page.reason
    ? `<p><small>Reference: <code>${escapeHtml(page.reason)}</code></small></p>`
    : '';
  const back = `<p><a href="${escapeHtml(page.helpCenterUrl)}/">Back to the help center</a></p>`;
  sendHtmlPage(
    res,
    status,
    layout(
      nonce,
      page.title,
      `<h1>${escapeHtml(page.title)}</h1><p>${escapeHtml(page.message)}</p>${back}${detail}`,
    ),
    { nonce },
  );
}

export interface IdpChoice {
  name: string;
  displayName: string;
}

export function sendChoicePage(
  res: ServerResponse,
  options: { idps: readonly IdpChoice[]; csrf: string; notice?: string; formAction: string },
): void {
  const nonce = cspNonce();
  const csrf = `<input type="hidden" name="csrf" value="${escapeHtml(options.csrf)}">`;
  const buttons = options.idps
    .map(
      (idp) =>
        `<button type="submit" name="idp" value="${escapeHtml(idp.name)}">${escapeHtml(idp.displayName)}</button><br>`,
    )
    .join('');
  const notice = options.notice ? `<p role="alert">${escapeHtml(options.notice)}</p>` : '';
  const body =
    `<h1>Sign in</h1>${notice}<form method="post" action="/saml/choose">${csrf}` +
    '<label>Work e-mail <input type="email" name="email" autocomplete="email" required></label> <button type="submit">Continue</button></form>' +
    `<p>or choose where you sign in:</p><form method="post" action="/saml/choose">${csrf}${buttons}</form>`;
  sendHtmlPage(res, 200, layout(nonce, 'Sign in', body), { nonce, formAction: options.formAction });
}

/** The HTTP-POST binding: an auto-submitting form to the SP's endpoint (bindings 3.5.4). */
export function sendPostBindingPage(
  res: ServerResponse,
  options: { action: string; field: 'SAMLResponse' | 'SAMLRequest'; message: string; relayState?: string },
): void {
  const nonce = cspNonce();
  const relay =
    options.relayState === undefined
      ? ''
      : `<input type="hidden" name="RelayState" value="${escapeHtml(options.relayState)}">`;
  const body =
    `<form id="saml" method="post" action="${escapeHtml(options.action)}"><input type="hidden" name="${options.field}" value="${escapeHtml(options.message)}">${relay}` +
    '<noscript><p>Your browser does not run scripts; press Continue.</p></noscript><button type="submit">Continue</button></form>' +
    `<script nonce="${nonce}">document.getElementById('saml').submit();</script>`;
  sendHtmlPage(res, 200, layout(nonce, 'Signing you in', body), {
    nonce,
    formAction: new URL(options.action).origin,
  });
}
