import { expect } from 'chai';
import fc from 'fast-check';
import { JsmSsoError } from '../../common/errors.js';
import { matchesJql, parseJql } from '../../dev/jsm-emulator/jql.js';
import {
  type Customer,
  canAct,
  canSee,
  createdRequestJql,
  type DeskRef,
  organizationShareJql,
  type RequestFacts,
  sanitizeSearchText,
  visibleRequestsJql,
} from '../../portal/visibility.js';

const desks: DeskRef[] = [{ serviceDeskId: '1', projectId: '10001' }];
const alice: Customer = {
  accountId: 'qm:alice',
  displayName: 'Alice',
  organizationIds: ['1'],
  serviceDeskIds: ['1'],
};
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
  it('lets an approver see but not change a request they have no other tie to', () => {
    const approver = { ...base, approverAccountIds: ['qm:alice'] };
    expect(canSee(alice, approver, desks)).to.equal(true);
    expect(canAct(alice, approver, desks)).to.equal(false);
    expect(canAct(alice, { ...approver, participantAccountIds: ['qm:alice'] }, desks)).to.equal(true);
    expect(canAct(alice, { ...approver, organizationIds: ['1'] }, desks)).to.equal(true);
    expect(canSee(alice, { ...approver, projectId: '99999' }, desks)).to.equal(false);
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

  it('hides requests of a portal desk the customer may not use, and lists none of them', () => {
    const both: DeskRef[] = [...desks, { serviceDeskId: '2', projectId: '10002' }];
    const hr = { ...base, projectId: '10002' };
    for (const facts of [
      { ...hr, reporterAccountId: 'qm:alice' },
      { ...hr, participantAccountIds: ['qm:alice'] },
      { ...hr, approverAccountIds: ['qm:alice'] },
      { ...hr, organizationIds: ['1'] },
    ]) {
      expect(canSee(alice, facts, both)).to.equal(false);
      expect(canSee({ ...alice, serviceDeskIds: ['1', '2'] }, facts, both)).to.equal(true);
    }
    expect(visibleRequestsJql(alice, both, { ownership: 'mine', status: 'all' })).to.match(
      /^project in \("10001"\) AND/,
    );
    expect(
      visibleRequestsJql(alice, both, { ownership: 'mine', status: 'all', serviceDeskId: '2' }),
    ).to.equal(undefined);
  });

  it('builds list JQL from quoted identifiers only', () => {
    const jql = visibleRequestsJql(alice, desks, { ownership: 'all', status: 'open' });
    expect(jql).to.equal(
      'project in ("10001") AND "Request Type" IS NOT EMPTY AND (reporter = "qm:alice" OR "Request participants" = "qm:alice" OR approvers = "qm:alice" OR organizations in ("1")) AND statusCategory != Done ORDER BY created DESC',
    );
  });
  it('lists the requests the customer is asked to approve under Approvals, by their Approvers field', () => {
    expect(visibleRequestsJql(alice, desks, { ownership: 'approvals', status: 'open' })).to.equal(
      'project in ("10001") AND "Request Type" IS NOT EMPTY AND approvers = "qm:alice" AND statusCategory != Done ORDER BY created DESC',
    );
    expect(() =>
      visibleRequestsJql({ ...alice, accountId: 'qm:alice" OR approvers != "x' }, desks, {
        ownership: 'approvals',
        status: 'all',
      }),
    ).to.throw(/invalid identifier/);
  });
  it('lists exactly what canSee lets the customer open (JQL evaluated as Jira would)', () => {
    // The list JQL and the detail re-check are two expressions of one rule: run the JQL through the
    // emulator's strict JQL evaluator and compare with canSee on random requests.
    const people = fc.constantFrom('qm:alice', 'qm:bob', 'qm:mia');
    const orgs = fc.constantFrom('1', '2', '3');
    fc.assert(
      fc.property(
        fc.record({
          projectId: fc.constantFrom('10001', '10002'),
          reporterAccountId: people,
          participantAccountIds: fc.uniqueArray(people),
          approverAccountIds: fc.uniqueArray(people),
          organizationIds: fc.uniqueArray(orgs),
        }),
        fc.uniqueArray(orgs),
        (facts: RequestFacts, customerOrgs) => {
          const customer = { ...alice, organizationIds: customerOrgs };
          const jql = visibleRequestsJql(customer, desks, { ownership: 'all', status: 'all' })!;
          const listed = matchesJql(parseJql(jql).where, {
            id: '1',
            key: 'IT-1',
            reporterId: facts.reporterAccountId ?? '',
            participantIds: facts.participantAccountIds,
            approverIds: facts.approverAccountIds,
            organizations: facts.organizationIds.map((id) => ({ id, name: `Org ${id}` })),
            project: { id: facts.projectId, key: facts.projectId === '10001' ? 'IT' : 'HR' },
            statusCategory: { id: 2, key: 'new', name: 'To Do' },
            requestType: { id: '1', name: 'Get IT help' },
            text: '',
          });
          return listed === canSee(customer, facts, desks);
        },
      ),
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
    )
      .to.throw(/invalid identifier/)
      .with.property('code', 'PORTAL_INVALID_IDENTIFIER');
    expect(() => organizationShareJql(alice, '10001', 'a" OR reporter != "b'))
      .to.throw(/invalid identifier/)
      .with.property('code', 'PORTAL_INVALID_IDENTIFIER');
  });
  it('refuses to build JQL from an organization, project or marker that is not an identifier', () => {
    const refusals = [
      () => organizationShareJql({ ...alice, organizationIds: ['1") OR ("1'] }, '10001', 'qm:bob'),
      () => organizationShareJql(alice, '10001 OR project != 1', 'qm:bob'),
      () => createdRequestJql('qm:bob', '10001', 'jsmsso" OR text ~ "x'),
      () => createdRequestJql('qm:bob', '1" OR project = "2', `jsmsso${'a'.repeat(24)}`),
    ];
    for (const refusal of refusals)
      expect(refusal).to.throw(JsmSsoError).with.property('code', 'PORTAL_INVALID_IDENTIFIER');
    expect(createdRequestJql('qm:bob', '10001', `jsmsso${'a'.repeat(24)}`)).to.contain(
      `text ~ "jsmsso${'a'.repeat(24)}"`,
    );
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
      'project in ("10001") AND "Request Type" IS NOT EMPTY AND reporter = "qm:alice" AND text ~ "OR 1 1 OR text" ORDER BY created DESC',
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
