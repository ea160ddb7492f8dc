import { expect } from 'chai';
import fc from 'fast-check';
import {
  type Customer,
  canSee,
  type DeskRef,
  organizationShareJql,
  sanitizeSearchText,
  visibleRequestsJql,
} from '../../portal/visibility.js';

const desks: DeskRef[] = [{ serviceDeskId: '1', projectId: '10001' }];
const alice: Customer = { accountId: 'qm:alice', displayName: 'Alice', organizationIds: ['1'], groups: [] };
const base = {
  projectId: '10001',
  reporterAccountId: 'qm:bob',
  participantAccountIds: [],
  approverAccountIds: [],
  organizationIds: [],
};

describe('portal visibility', () => {
  it('lets a customer see what they reported', () => {
    expect(canSee(alice, { ...base, reporterAccountId: 'qm:alice' }, desks)).to.equal(true);
  });
  it('lets a participant and an approver see the request', () => {
    expect(canSee(alice, { ...base, participantAccountIds: ['qm:alice'] }, desks)).to.equal(true);
    expect(canSee(alice, { ...base, approverAccountIds: ['qm:alice'] }, desks)).to.equal(true);
  });
  it('shows a request shared with an organization to its members only', () => {
    expect(canSee(alice, { ...base, organizationIds: ['1'] }, desks)).to.equal(true);
    expect(canSee({ ...alice, organizationIds: ['2'] }, { ...base, organizationIds: ['1'] }, desks)).to.equal(
      false,
    );
  });
  it('hides another customer’s request', () => {
    expect(canSee(alice, base, desks)).to.equal(false);
  });
  it('hides requests of service desks outside the portal, even the customer’s own', () => {
    expect(canSee(alice, { ...base, projectId: '99999', reporterAccountId: 'qm:alice' }, desks)).to.equal(
      false,
    );
  });

  it('builds list JQL from quoted identifiers only', () => {
    const jql = visibleRequestsJql(alice, desks, { ownership: 'all', status: 'open' });
    expect(jql).to.equal(
      'project in ("10001") AND (reporter = "qm:alice" OR "Request participants" = "qm:alice" OR organizations in ("1")) AND statusCategory != Done ORDER BY created DESC',
    );
  });
  it('matches nothing for the organization filter when the customer has no organization', () => {
    expect(
      visibleRequestsJql({ ...alice, organizationIds: [] }, desks, {
        ownership: 'organization',
        status: 'all',
      }),
    ).to.equal(undefined);
  });
  it('refuses to build JQL from an account id that is not one', () => {
    expect(() =>
      visibleRequestsJql({ ...alice, accountId: 'x" OR project = "1' }, desks, {
        ownership: 'mine',
        status: 'all',
      }),
    ).to.throw(/invalid identifier/);
    expect(() => organizationShareJql(alice, '10001', 'a" OR reporter != "b')).to.throw(/invalid identifier/);
  });

  it('reduces search text to letters, digits and spaces (JQL injection)', () => {
    expect(sanitizeSearchText('printer" OR reporter != "x')).to.equal('printer OR reporter x');
    expect(sanitizeSearchText('a\\" ) OR (project = "HR')).to.equal('a OR project HR');
    const jql = visibleRequestsJql(alice, desks, {
      ownership: 'mine',
      status: 'all',
      search: '" OR 1=1 OR text ~ "',
    })!;
    expect(jql).to.equal(
      'project in ("10001") AND reporter = "qm:alice" AND text ~ "OR 1 1 OR text" ORDER BY created DESC',
    );
  });
  it('never lets search text close the quoted string, whatever it is', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const jql = visibleRequestsJql(alice, desks, { ownership: 'mine', status: 'all', search: text })!;
        const clause = /AND text ~ "([^"]*)" ORDER BY created DESC$/.exec(jql);
        const cleaned = sanitizeSearchText(text);
        return cleaned === ''
          ? !jql.includes('text ~')
          : clause !== null && clause[1] === cleaned && !/["\\]/.test(cleaned);
      }),
    );
  });
});
