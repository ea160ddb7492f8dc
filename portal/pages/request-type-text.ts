/**
 * A request type's description and help text, and its fields' descriptions (the hint under a field),
 * as the native portal shows them: JSM keeps them as wiki markup and its portal renders them (its page
 * model's `descriptionHtml`, `introHtml`; Atlassian's KB on text formatting in the portal names field
 * descriptions too), while the servicedeskapi's RequestTypeDTO and RequestTypeFieldDTO give only the
 * markup, with no rendered form. So the portal renders the markup itself (common/wiki-render.ts) and
 * cleans the HTML as a customer's own text is cleaned (portal/sanitize.ts): no script or foreign markup,
 * no file or account of the site, a link to the site its text alone (ADR 0375, 0384).
 */
import { html, SafeHtml } from '../../common/http/html.js';
import { renderWiki } from '../../common/wiki-render.js';
import type { RequestTypeDTO, RequestTypeFieldDTO } from '../atlassian/types.js';
import { sanitizeCommentHtml } from '../sanitize.js';
import type { PageContext } from './layout.js';

function rendered(ctx: PageContext, markup: string): SafeHtml {
  const { siteOrigin } = ctx;
  const dirty = renderWiki(markup, { base: siteOrigin, issueKey: '', attachments: [] });
  const clean = sanitizeCommentHtml(dirty, { siteOrigin, file: () => undefined, typedByCustomer: true });
  return new SafeHtml(clean.value.replace(/\s*<p>\s*<\/p>/g, '').trim());
}

/** The description under a request type's name: in a list, and atop its raise form. */
export const typeDescription = (ctx: PageContext, type: RequestTypeDTO): SafeHtml =>
  type.description ? html`<div class="muted">${rendered(ctx, type.description)}</div>` : html``;

/** The help text atop a request type's raise form. */
export const typeHelpText = (ctx: PageContext, type: RequestTypeDTO): SafeHtml =>
  type.helpText ? html`<div class="help-text">${rendered(ctx, type.helpText)}</div>` : html``;

/** A field's description, the hint under it on the raise form (none: nothing). */
export const fieldDescription = (ctx: PageContext, field: RequestTypeFieldDTO): SafeHtml =>
  field.description ? rendered(ctx, field.description) : html``;
