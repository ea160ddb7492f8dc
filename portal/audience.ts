/**
 * Who a new request is for and whom it is shared with, read from the raise-request form. As in the
 * native portal, a customer may raise a request on behalf of a colleague and share it with
 * colleagues or with a whole organization of theirs. "Colleague" means a member of one of the
 * customer's own JSM organizations the desk has (portal/colleagues.ts): the service account could
 * name anyone in the site, so everything outside that circle is refused here, whatever the form says.
 */
import type { OrganizationDTO, UserDTO } from './atlassian/types.js';
import type { FieldProblems, Submitted } from './form.js';
import type { Customer } from './visibility.js';

export const ON_BEHALF_FIELD = 'onBehalfOf';
export const SHARE_PEOPLE_FIELD = 'shareWith';
export const SHARE_ORGANIZATIONS_FIELD = 'shareOrganization';

export interface Audience {
  /** `raiseOnBehalfOf`: the customer, or the colleague the request is for. */
  reporterAccountId: string;
  /** `requestParticipants`: the colleagues chosen, and the customer when raising for someone else. */
  participantAccountIds: string[];
  /** The customer's organizations the request is shared with. */
  organizationIds: string[];
}

const list = (v: string | string[] | undefined): string[] =>
  (v === undefined ? [] : Array.isArray(v) ? v : [v]).map((x) => x.trim()).filter((x) => x !== '');

/**
 * The audience, or the fields naming someone outside the customer's organizations (field id →
 * problem, said beside the control). An empty form is the customer alone, shared with nobody.
 */
export function audienceFrom(
  submitted: Submitted,
  customer: Customer,
  colleagues: { people: readonly UserDTO[]; organizations: readonly OrganizationDTO[] },
): { audience: Audience; errors: FieldProblems } {
  const errors: FieldProblems = {};
  const isColleague = (id: string) => colleagues.people.some((p) => p.accountId === id);
  const onBehalf = list(submitted[ON_BEHALF_FIELD]);
  let reporter = customer.accountId;
  if (onBehalf.length > 1 || (onBehalf[0] !== undefined && !isColleague(onBehalf[0]))) {
    errors[ON_BEHALF_FIELD] = { code: 'FIELD_NOT_A_COLLEAGUE', params: {} };
  } else if (onBehalf[0] !== undefined) {
    reporter = onBehalf[0];
  }
  const people = list(submitted[SHARE_PEOPLE_FIELD]);
  const organizations = list(submitted[SHARE_ORGANIZATIONS_FIELD]);
  if (
    !people.every(isColleague) ||
    !organizations.every((id) => colleagues.organizations.some((o) => o.id === id))
  ) {
    errors[SHARE_PEOPLE_FIELD] = { code: 'FIELD_SHARE_OUTSIDE_ORGANIZATIONS', params: {} };
  }
  // The customer who raises a request for someone else keeps it in their list, as a participant.
  const participants = new Set([...people, ...(reporter === customer.accountId ? [] : [customer.accountId])]);
  participants.delete(reporter);
  return {
    audience: {
      reporterAccountId: reporter,
      participantAccountIds: [...participants],
      organizationIds: [...new Set(organizations)],
    },
    errors,
  };
}
