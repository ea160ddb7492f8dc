import { html, type SafeHtml } from '../../common/http/html.js';
import type { PageReference } from '../reference.js';
import { SIGN_IN_PATH } from '../return-path.js';
import type { Customer } from '../visibility.js';
import { csrfField, layout, type PageContext } from './layout.js';
import { referenceLine } from './reference.js';
import { richText } from './rich-text.js';

export function profilePage(
  ctx: PageContext,
  customer: Customer,
  organizationNames: string[],
  csrf: string,
): SafeHtml {
  const { t } = ctx.i18n;
  return layout(
    ctx,
    t('profile.title'),
    html`<h1>${t('profile.title')}</h1>
    <section class="card"><dl>
      <dt><strong>${t('profile.name')}</strong></dt><dd>${customer.displayName}</dd>
      <dt><strong>${t('profile.organizations')}</strong></dt><dd>${organizationNames.length > 0 ? organizationNames.join(', ') : t('profile.none')}</dd>
    </dl>
    <p class="muted">${t('profile.managed')}</p>
    <form method="post" action="/logout">${csrfField(csrf)}<button type="submit">${t('profile.signOut')}</button></form></section>`,
  );
}

export function messagePage(
  ctx: PageContext,
  title: string,
  message: string,
  /**
   * `signIn`: offer to sign in, coming back to `returnTo` (a same-origin path) afterwards.
   * `reference`: a refusal's, shown untranslated as its log line carries it (ADR 0316).
   * `next`: where to go on, instead of back to the help center's home.
   */
  options: {
    signIn?: boolean;
    returnTo?: string;
    reference?: PageReference;
    next?: { href: string; label: string };
  } = {},
): SafeHtml {
  const again = ctx.signInAgainTo;
  const {
    signIn = again !== undefined,
    returnTo = again,
    reference,
    next = { href: '/', label: ctx.i18n.t('message.backHome') },
  } = options;
  return layout(
    ctx,
    title,
    html`<h1>${title}</h1><p>${message}</p>${signIn ? html`<p><a class="button" href="${SIGN_IN_PATH}${returnTo ? `?return=${encodeURIComponent(returnTo)}` : ''}">${ctx.i18n.t('message.signIn')}</a></p>` : html`<p><a href="${next.href}">${next.label}</a></p>`}${reference ? html`<p>${referenceLine(ctx, reference)}</p>` : ''}`,
  );
}

/** The local session is gone; the browser continues to the broker's single logout. */
export function signingOutPage(ctx: PageContext, brokerLogoutUrl: string): SafeHtml {
  return layout(
    { ...ctx, user: undefined },
    ctx.i18n.t('signingOut.title'),
    html`<h1 data-signed-out>${ctx.i18n.t('signingOut.title')}</h1><p>${richText(ctx.i18n, 'signingOut.message', { link: (text) => html`<a id="continue" href="${brokerLogoutUrl}">${text}</a>` })}</p>`,
    { refreshTo: brokerLogoutUrl },
  );
}
