// The approvals of a request, as the native portal shows them: each approval's outcome, its
// approvers and what each decided. There is no Approve/Decline here: Atlassian records an answer
// for the calling account only, and the portal calls as its service account
// (docs/decisions/0001-no-actions-on-the-customers-behalf.md). An approver is told where to answer.

import type { Translator } from '../../common/i18n/index.js';
import type { ApprovalDTO, Decision } from '../atlassian/types.js';
import { html, type SafeHtml } from '../html.js';
import { relativeTime } from './local-time.js';

const OUTCOME: Record<Decision, string> = {
  pending: 'Waiting for approval',
  approved: 'Approved',
  declined: 'Declined',
};
const ANSWER: Record<Decision, string> = {
  pending: 'Not answered yet',
  approved: 'Approved',
  declined: 'Declined',
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
  return html`<section class="card" aria-labelledby="appr-h"><h2 id="appr-h">Approvals</h2>
    ${
      owed
        ? html`<div class="notice" id="appr-how"><p><strong>Your approval is requested.</strong> Atlassian has sent you an e-mail about this request: answer with the <em>Approve</em> or <em>Decline</em> button in that e-mail.</p>
      <p class="muted">This help center cannot record your answer: Jira Service Management accepts an approval only from the approver’s own Atlassian account, and the help center works through a shared service account. If you cannot find the e-mail, say so in a comment below and the help desk will follow up.</p></div>`
        : ''
    }
    ${approvals.map((a) => {
      const outcome = decisionOf(a.finalDecision);
      const decided = outcome === 'pending' ? '' : relativeTime(i18n, a.completedDate?.iso8601);
      return html`<div class="approval"><h3>${a.name || 'Approval'}</h3>
      <p><span class="lozenge ${LOZENGE[outcome]}">${OUTCOME[outcome]}</span>${decided ? html` <span class="muted">${decided}</span>` : ''}</p>
      <ul class="approvers">${(a.approvers ?? []).map(
        (x) =>
          html`<li>${x.approver?.displayName ?? ''}${x.approver?.accountId === customerAccountId ? ' (you)' : ''}: ${ANSWER[decisionOf(x.approverDecision)]}</li>`,
      )}</ul></div>`;
    })}
  </section>`;
}
