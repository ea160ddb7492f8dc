// Who may see and do what on a customer request, as Atlassian documents it: agents see every
// request of their service desks; a customer sees the requests they reported (or that were raised
// on their behalf), participate in, are an approver of, or that are shared with one of their
// organizations — and only public comments.
import type { CustomerRequest, EmulatorState, ServiceDesk, User } from './state.js';

export type Ownership =
  | 'OWNED_REQUESTS'
  | 'PARTICIPATED_REQUESTS'
  | 'ORGANIZATION'
  | 'ALL_ORGANIZATIONS'
  | 'APPROVER'
  | 'ALL_REQUESTS';
export const OWNERSHIPS: readonly Ownership[] = [
  'OWNED_REQUESTS',
  'PARTICIPATED_REQUESTS',
  'ORGANIZATION',
  'ALL_ORGANIZATIONS',
  'APPROVER',
  'ALL_REQUESTS',
];

/** The ways a caller is tied to a request (empty: not tied at all). */
export function relationsTo(state: EmulatorState, caller: User, request: CustomerRequest): Set<Ownership> {
  const out = new Set<Ownership>();
  if (request.reporterId === caller.accountId) out.add('OWNED_REQUESTS');
  if (request.participantIds.includes(caller.accountId)) out.add('PARTICIPATED_REQUESTS');
  if (request.approvals.some((a) => a.approvers.some((x) => x.accountId === caller.accountId)))
    out.add('APPROVER');
  const mine = new Set(state.organizationsOf(caller.accountId).map((o) => o.id));
  if (request.organizationIds.some((id) => mine.has(id))) out.add('ALL_ORGANIZATIONS');
  return out;
}

export function canView(state: EmulatorState, caller: User, request: CustomerRequest): boolean {
  return caller.kind === 'agent' || relationsTo(state, caller, request).size > 0;
}

export function canSeeComment(caller: User, comment: { public: boolean }): boolean {
  return caller.kind === 'agent' || comment.public;
}

/** A customer sees public files only: none added with an internal comment, nor added as internal. */
export function canSeeAttachment(caller: User, request: CustomerRequest, attachmentId: string): boolean {
  return (
    caller.kind === 'agent' ||
    (request.attachments.find((a) => a.id === attachmentId)?.public !== false &&
      !request.comments.some((c) => !c.public && c.attachmentIds.includes(attachmentId)))
  );
}

/** Whether a request matches the requested ownership filters for this caller (any of them). */
export function matchesOwnership(
  state: EmulatorState,
  caller: User,
  request: CustomerRequest,
  ownerships: readonly Ownership[],
  organizationId?: string,
): boolean {
  const relations = relationsTo(state, caller, request);
  return ownerships.some((o) => {
    if (o === 'ALL_REQUESTS') return canView(state, caller, request);
    if (o === 'ORGANIZATION') {
      return (
        organizationId !== undefined &&
        relations.has('ALL_ORGANIZATIONS') &&
        request.organizationIds.includes(organizationId) &&
        state.organizations.get(organizationId)?.memberIds.includes(caller.accountId) === true
      );
    }
    return relations.has(o);
  });
}

/** JSM's default for GET /request without `requestOwnership`: what the caller reported or joins. */
export const DEFAULT_OWNERSHIP: readonly Ownership[] = [
  'OWNED_REQUESTS',
  'PARTICIPATED_REQUESTS',
  'ALL_ORGANIZATIONS',
  'APPROVER',
];

/** Agents work on every desk; a customer uses the desks they or their organizations were added to. */
export function canUseDesk(state: EmulatorState, caller: User, desk: ServiceDesk): boolean {
  if (caller.kind === 'agent') return true;
  if (desk.customerIds.includes(caller.accountId)) return true;
  const mine = state.organizationsOf(caller.accountId).map((o) => o.id);
  return desk.organizationIds.some((id) => mine.includes(id));
}
