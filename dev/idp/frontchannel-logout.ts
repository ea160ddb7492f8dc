import type { ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { html } from '../../common/http/html.js';
import { allowFrameSources, pageNonce, setSecurityHeaders } from '../../common/http/security-headers.js';

/**
 * OpenID Connect Front-Channel Logout 1.0, the OP's side, for the development IdP. oidc-provider had
 * it as a draft feature and removed it in 7.0.0 ("front-channel becoming more and more unreliable due
 * to browsers blocking third-party cookie access"); the broker's side (ADR 0159) still needs a real
 * IdP session, a real `sid` in a real ID token and a real logout page framing it to be tried and
 * tested against. So, from oidc-provider's own session:
 * - a client registered with `frontchannel_logout_uri` and `frontchannel_logout_session_required`
 *   gets the `sid` claim in its ID tokens (section 3), as oidc-provider gives it to back-channel ones;
 * - when the person signs out here (end_session, confirmed), the answer is a page that frames each
 *   such client's URI with `iss` and `sid` (sections 2 and 4), then goes on where oidc-provider
 *   would have redirected, once the frames have loaded (or after a few seconds).
 */

/** The client metadata of section 2, accepted by the provider as extra metadata. */
export const FRONTCHANNEL_CLIENT_METADATA = [
  'frontchannel_logout_uri',
  'frontchannel_logout_session_required',
];

/** oidc-provider's extraClientMetadata validator for the two fields. */
export function validateFrontchannelMetadata(key: string, value: unknown): void {
  if (value === undefined) return;
  if (key === 'frontchannel_logout_session_required' && typeof value !== 'boolean')
    throw new TypeError('frontchannel_logout_session_required must be a boolean');
  if (key === 'frontchannel_logout_uri' && !(typeof value === 'string' && /^https?:\/\//.test(value)))
    throw new TypeError('frontchannel_logout_uri must be an http(s) URL');
}

/** How long the logout page waits for the frames before it goes on regardless. */
const FRAME_WAIT_MS = 5000;

export function enableFrontchannelLogout(provider: Provider): void {
  // oidc-provider's own rule for the sid claim (Client#includeSid), widened to section 3's.
  const clients = provider.Client.prototype as unknown as { includeSid(this: ClientFields): boolean };
  const includeSid = clients.includeSid;
  clients.includeSid = function () {
    return includeSid.call(this) || sessionLogoutUri(this) !== undefined;
  };
  provider.use(async (ctx, next) => {
    await next();
    const oidc = (ctx as KoaContextWithOIDC).oidc;
    const location = ctx.response.get('location');
    // A whole sign-out (every client's): oidc-provider destroyed the session (its `destroyed`, not
    // in the types), which is still in memory here.
    const session = oidc?.session as (typeof oidc)['session'] & { destroyed?: boolean };
    if (oidc?.route !== 'end_session_confirm' || !location || !session?.destroyed) return;
    const frames: string[] = [];
    for (const clientId of Object.keys(session.authorizations ?? {})) {
      const uri = sessionLogoutUri((await provider.Client.find(clientId)) as unknown as ClientFields);
      const sid = session.sidFor(clientId);
      if (!uri || !sid) continue;
      const url = new URL(uri);
      url.searchParams.set('iss', provider.issuer);
      url.searchParams.set('sid', sid);
      frames.push(url.href);
    }
    if (frames.length === 0) return;
    ctx.status = 200;
    ctx.remove('location');
    ctx.type = 'html';
    ctx.body = logoutPage(ctx.res, frames, location, provider.issuer.startsWith('https:'));
  });
}

type ClientFields = Record<string, unknown> | undefined;

/** The client's frontchannel_logout_uri when it asks for `iss` and `sid` (the only kind served here). */
function sessionLogoutUri(client: ClientFields): string | undefined {
  const uri = client?.['frontchannel_logout_uri'];
  return typeof uri === 'string' && client?.['frontchannel_logout_session_required'] === true
    ? uri
    : undefined;
}

function logoutPage(res: ServerResponse, frames: string[], next: string, secure: boolean): string {
  setSecurityHeaders(res, { secure });
  allowFrameSources(res, [...new Set(frames.map((url) => new URL(url).origin))]);
  const nonce = pageNonce(res);
  return html`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>DEVELOPMENT IdP - signing out</title></head>
<body data-next="${next}"><p>DEVELOPMENT IdP - not for production use</p><p>Signing you out of the applications you used…</p>
${frames.map((src) => html`<iframe src="${src}" title="sign-out" width="0" height="0"></iframe>`)}
<script nonce="${nonce}">(() => {
  const frames = [...document.querySelectorAll('iframe')];
  let left = frames.length;
  const next = () => location.replace(document.body.dataset.next);
  for (const frame of frames) frame.addEventListener('load', () => { if (--left === 0) next(); });
  setTimeout(next, ${String(FRAME_WAIT_MS)});
})();</script></body></html>`.value;
}
