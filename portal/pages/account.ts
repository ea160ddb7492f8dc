import { html, type SafeHtml } from '../html.js';
import type { Customer } from '../visibility.js';
import { csrfField, layout, type PageContext } from './layout.js';

export function profilePage(
  ctx: PageContext,
  customer: Customer,
  organizationNames: string[],
  csrf: string,
): SafeHtml {
  return layout(
    ctx,
    'Profile',
    html`<h1>Profile</h1>
    <section class="card"><dl>
      <dt><strong>Name</strong></dt><dd>${customer.displayName}</dd>
      <dt><strong>Organizations</strong></dt><dd>${organizationNames.length > 0 ? organizationNames.join(', ') : 'None'}</dd>
    </dl>
    <p class="muted">Your name and e-mail address are managed by your organization's sign-in.</p>
    <form method="post" action="/logout">${csrfField(csrf)}<button type="submit">Sign out</button></form></section>`,
  );
}

export function messagePage(
  ctx: PageContext,
  title: string,
  message: string,
  /** `signIn`: offer to sign in, coming back to `returnTo` (a same-origin path) afterwards. */
  options: { signIn?: boolean; returnTo?: string } = {},
): SafeHtml {
  return layout(
    ctx,
    title,
    html`<h1>${title}</h1><p>${message}</p>${options.signIn ? html`<p><a class="button" href="/login${options.returnTo ? `?return=${encodeURIComponent(options.returnTo)}` : ''}">Sign in</a></p>` : html`<p><a href="/">Back to the help center</a></p>`}`,
  );
}

/** The local session is gone; the browser continues to the broker's single logout. */
export function signingOutPage(ctx: PageContext, brokerLogoutUrl: string): SafeHtml {
  return layout(
    { ...ctx, user: undefined },
    'Signing out',
    html`<h1>Signing out</h1><p>You are signed out of the help center. <a id="continue" href="${brokerLogoutUrl}">Continue</a> to sign out of your organization's sign-in too.</p>`,
    { refreshTo: brokerLogoutUrl },
  );
}
