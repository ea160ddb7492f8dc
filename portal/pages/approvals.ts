// The approvals of a request, as the native portal shows them: each approval's outcome, its
// approvers and what each decided. There is no Approve/Decline here: Atlassian records an answer
// for the calling account only, and the portal calls as its service account
// (docs/decisions/0001-no-actions-on-the-customers-behalf.md). An approver is told where to answer.

import { html, type SafeHtml } from '../../common/http/html.js';
import type { MessageKey, Translator } from '../../common/i18n/index.js';
import type { ApprovalDTO, Decision } from '../atlassian/types.js';
import { relativeTime } from './local-time.js';
import { richText } from './rich-text.js';

const OUTCOME: Record<Decision, MessageKey> = {
  pending: 'approvals.outcome.pending',
  approved: 'request.decision.approved',
  declined: 'request.decision.declined',
};
const ANSWER: Record<Decision, MessageKey> = {
  pending: 'approvals.answer.pending',
  approved: 'request.decision.approved',
  declined: 'request.decision.declined',
};
const LOZENGE: Record<Decision, string> = {
  pending: 'indeterminate',
  approved: 'done',
  declined: 'declined',
};

const decisionOf = (value: string | undefined): Decision =>
  value === 'approved' || value === 'declined' ? value : 'pending';

/** True when this customer still owes an answer to this approval. */
export function awaitsAnswerFrom(approval: ApprovalDTO, accountId: string): boolean {
  return (
    decisionOf(approval.finalDecision) === 'pending' &&
    (approval.approvers ?? []).some(
      (a) => a.approver?.accountId === accountId && decisionOf(a.approverDecision) === 'pending',
    )
  );
}

export function approvalsSection(
  i18n: Translator,
  approvals: readonly ApprovalDTO[],
  customerAccountId: string,
): SafeHtml {
  if (approvals.length === 0) return html``;
  const owed = approvals.some((a) => awaitsAnswerFrom(a, customerAccountId));
  return html`<section class="card" aria-labelledby="appr-h"><h2 id="appr-h">${i18n.t('approvals.title')}</h2>
    ${
      owed
        ? html`<div class="notice" id="appr-how"><p>${richText(i18n, 'approvals.requested', { strong: (text) => html`<strong>${text}</strong>`, em: (text) => html`<em>${text}</em>` })}</p>
      <p class="muted">${i18n.t('approvals.whyNotHere')}</p></div>`
        : ''
    }
    ${approvals.map((a) => {
      const outcome = decisionOf(a.finalDecision);
      const decided = outcome === 'pending' ? '' : relativeTime(i18n, a.completedDate?.iso8601);
      return html`<div class="approval"><h3>${a.name || i18n.t('approvals.approval')}</h3>
      <p><span class="lozenge ${LOZENGE[outcome]}">${i18n.t(OUTCOME[outcome])}</span>${decided ? html` <span class="muted">${decided}</span>` : ''}</p>
      <ul class="approvers">${(a.approvers ?? []).map(
        (x) =>
          html`<li>${i18n.t('approvals.approver', {
            name: x.approver?.displayName ?? '',
            you: x.approver?.accountId === customerAccountId ? 'yes' : 'no',
            answer: i18n.t(ANSWER[decisionOf(x.approverDecision)]),
          })}</li>`,
      )}</ul></div>`;
    })}
  </section>`;
}
