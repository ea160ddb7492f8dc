import { html, type SafeHtml } from '../../common/http/html.js';
import type { PageReference } from '../reference.js';
import type { PageContext } from './layout.js';

/**
 * A refusal's reason code and the answer's reference, untranslated as its log line carries them: what
 * the customer reads out to the help desk (ADR 0316). Inline, so it can close an alert.
 */
export function referenceLine(ctx: PageContext, { reason, id }: PageReference): SafeHtml {
  return html`<small>${ctx.i18n.t('message.reference')} <code data-reason>${reason}</code> <code data-reference>${id}</code></small>`;
}
