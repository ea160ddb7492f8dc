import { expect } from 'chai';
import fc from 'fast-check';
import { JsmSsoError } from '../../common/errors.js';
import { matchesJql, parseJql } from '../../dev/jsm-emulator/jql.js';
import type { Decision } from '../../portal/atlassian/types.js';
import { awaitsAnswerFrom } from '../../portal/pages/approvals.js';
import {
  type Customer,
  canAct,
  canSee,
  createdRequestJql,
  type DeskRef,
  type Ownership,
  organizationShareJql,
  type RequestFacts,
  sanitizeSearchText,
  visibleRequestsJql,
  visibleRequestsSearch,
} from '../../portal/visibility.js';

const desks: DeskRef[] = [{ serviceDeskId: '1', projectId: '10001' }];
const alice: Customer = {
  accountId: 'qm:alice',
  displayName: 'Alice',
  organizationIds: ['1'],
  serviceDeskIds: ['1'],
  organizationIdsByDesk: { '1': ['1'] },
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
  it('shows a request shared with an organization only on a desk that organization is added to (ADR 0312)', () => {
    const both: DeskRef[] = [...desks, { serviceDeskId: '2', projectId: '10002' }];
    // Alice uses both desks (IT as its own customer); Acme (1) is on HR only, not on IT.
    const customer = { ...alice, serviceDeskIds: ['1', '2'], organizationIdsByDesk: { '2': ['1'] } };
    const shared = { ...base, organizationIds: ['1'] };
    expect(canSee(customer, shared, both), 'IT').to.equal(false);
    expect(canSee(customer, { ...shared, projectId: '10002' }, both), 'HR').to.equal(true);
    expect(canSee({ ...alice, organizationIdsByDesk: undefined }, shared, desks), 'none known').to.equal(
      false,
    );
    expect(visibleRequestsJql(customer, both, { ownership: 'all', status: 'all' })).to.equal(
      'project in ("10001", "10002") AND "Request Type" IS NOT EMPTY AND (reporter = "qm:alice" OR "Request participants" = "qm:alice" OR approvers = "qm:alice" OR (project = "10002" AND organizations in ("1"))) ORDER BY created DESC',
    );
    expect(
      visibleRequestsJql(customer, both, {
        ownership: 'organization',
        organizationId: '1',
        status: 'all',
        serviceDeskId: '1',
      }),
      'Acme on IT',
    ).to.equal(undefined);
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
      expect(
        canSee(
          { ...alice, serviceDeskIds: ['1', '2'], organizationIdsByDesk: { '1': ['1'], '2': ['1'] } },
          facts,
          both,
        ),
      ).to.equal(true);
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
      'project in ("10001") AND "Request Type" IS NOT EMPTY AND (reporter = "qm:alice" OR "Request participants" = "qm:alice" OR approvers = "qm:alice" OR (project = "10001" AND organizations in ("1"))) AND statusCategory != Done ORDER BY created DESC',
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
  // Random requests for the JQL-against-canSee properties: the approvals are steps with their
  // approvers' answers, and the approvers canSee is told of are theirs (as RequestService.visible reads them).
  const people = fc.constantFrom('qm:alice', 'qm:bob', 'qm:mia');
  const orgs = fc.constantFrom('1', '2', '3');
  const decision = fc.constantFrom<Decision>('approved', 'declined', 'pending');
  const approval = fc.record({
    finalDecision: decision,
    approvers: fc.uniqueArray(fc.record({ accountId: people, decision }), {
      selector: (a) => a.accountId,
      minLength: 1,
    }),
  });
  const request = fc.record({
    projectId: fc.constantFrom('10001', '10002'),
    reporterAccountId: people,
    participantAccountIds: fc.uniqueArray(people),
    approvals: fc.array(approval, { maxLength: 2 }),
    organizationIds: fc.uniqueArray(orgs),
  });
  type RandomRequest = typeof request extends fc.Arbitrary<infer T> ? T : never;
  const factsOf = (r: RandomRequest): RequestFacts => ({
    projectId: r.projectId,
    reporterAccountId: r.reporterAccountId,
    participantAccountIds: r.participantAccountIds,
    approverAccountIds: [...new Set(r.approvals.flatMap((a) => a.approvers.map((x) => x.accountId)))],
    organizationIds: r.organizationIds,
  });
  const listedBy = (customer: Customer, ownership: Ownership, r: RandomRequest): boolean => {
    const facts = factsOf(r);
    const jql = visibleRequestsJql(customer, desks, { ownership, status: 'all' });
    return (
      jql !== undefined &&
      matchesJql(parseJql(jql).where, {
        id: '1',
        key: 'IT-1',
        reporterId: facts.reporterAccountId ?? '',
        participantIds: facts.participantAccountIds,
        approverIds: facts.approverAccountIds,
        approvals: r.approvals,
        organizations: facts.organizationIds.map((id) => ({ id, name: `Org ${id}` })),
        project: { id: facts.projectId, key: facts.projectId === '10001' ? 'IT' : 'HR' },
        statusCategory: { id: 2, key: 'new', name: 'To Do' },
        requestType: { id: '1', name: 'Get IT help' },
        summary: '',
        text: '',
      })
    );
  };

  it('lists exactly what canSee lets the customer open (JQL evaluated as Jira would)', () => {
    // The list JQL and the detail re-check are two expressions of one rule: run the JQL through the
    // emulator's strict JQL evaluator and compare with canSee on random requests.
    fc.assert(
      fc.property(request, fc.uniqueArray(orgs), fc.uniqueArray(orgs), (r, customerOrgs, onDesk) => {
        const customer = { ...alice, organizationIds: customerOrgs, organizationIdsByDesk: { '1': onDesk } };
        return listedBy(customer, 'all', r) === canSee(customer, factsOf(r), desks);
      }),
    );
  });
  it('splits Approvals into waiting for my answer and the rest, each only what canSee lets open', () => {
    // "Waiting for my approval" is what the request page calls "Your approval is requested"
    // (awaitsAnswerFrom), on the customer's desks; the rest is every other request they approve.
    fc.assert(
      fc.property(request, (r) => {
        const pending = listedBy(alice, 'approvals-pending', r);
        const done = listedBy(alice, 'approvals-done', r);
        const owed =
          r.projectId === '10001' &&
          r.approvals.some((a) =>
            awaitsAnswerFrom(
              {
                id: '1',
                finalDecision: a.finalDecision,
                approvers: a.approvers.map((x) => ({
                  approver: { accountId: x.accountId, displayName: x.accountId },
                  approverDecision: x.decision,
                })),
              },
              alice.accountId,
            ),
          );
        expect(pending, 'waiting for my approval').to.equal(owed);
        expect(pending && done, 'in both').to.equal(false);
        expect(pending || done, 'the two make up Approvals').to.equal(listedBy(alice, 'approvals', r));
        if (pending || done)
          expect(canSee(alice, factsOf(r), desks), 'listed but not visible').to.equal(true);
      }),
    );
  });
  it('builds the approval filters from the Approvers clause narrowed by pendingApprovalBy()', () => {
    const where = (ownership: Ownership) =>
      visibleRequestsSearch(alice, desks, { ownership, status: 'all' })!.where;
    expect(where('approvals-pending')).to.equal(
      'project in ("10001") AND "Request Type" IS NOT EMPTY AND approvers = "qm:alice" AND approvals = pendingApprovalBy("qm:alice")',
    );
    expect(where('approvals-done')).to.equal(
      'project in ("10001") AND "Request Type" IS NOT EMPTY AND approvers = "qm:alice" AND approvals != pendingApprovalBy("qm:alice")',
    );
    for (const ownership of ['approvals-pending', 'approvals-done'] as const)
      expect(() =>
        visibleRequestsJql({ ...alice, accountId: 'qm:alice") OR approvals = pending("' }, desks, {
          ownership,
          status: 'all',
        }),
      )
        .to.throw(/invalid identifier/)
        .with.property('code', 'PORTAL_INVALID_IDENTIFIER');
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
  });
  it('refuses to build JQL from an organization, project, issue key or marker that is not an identifier', () => {
    const refusals = [
      () => organizationShareJql(['1") OR ("1'], '10001', 'IT-1'),
      () => organizationShareJql(['1'], '10001 OR project != 1', 'IT-1'),
      () => organizationShareJql(['1'], '10001', 'IT-1" OR issuekey != "IT-2'),
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
    expect(sanitizeSearchText('printer" OR reporter != "x')).to.equal('printer or reporter x');
    expect(sanitizeSearchText('a\\" ) OR (project = "HR')).to.equal('a or project HR');
    const jql = visibleRequestsJql(alice, desks, {
      ownership: 'mine',
      status: 'all',
      search: '" OR 1=1 OR text ~ "',
    })!;
    expect(jql).to.equal(
      'project in ("10001") AND "Request Type" IS NOT EMPTY AND reporter = "qm:alice" AND summary ~ "or 1 1 or text" ORDER BY created DESC',
    );
  });
  it('writes the text search operators AND, OR and NOT in lower case, as words', () => {
    expect(sanitizeSearchText('toner OR laptop NOT AND')).to.equal('toner or laptop not and');
    // Only the ALL-CAPS words are operators: every other word is left as written.
    expect(sanitizeSearchText('ORDER Not android ORacle')).to.equal('ORDER Not android ORacle');
  });
  it('never lets search text close the quoted string, whatever it is', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const jql = visibleRequestsJql(alice, desks, { ownership: 'mine', status: 'all', search: text });
        const cleaned = sanitizeSearchText(text);
        if (cleaned === '')
          // Nothing searchable: no search at all, or none of the text (blank) in it.
          return text.trim() === '' ? !jql!.includes('summary ~') : jql === undefined;
        const clause = /AND summary ~ "([^"]*)" ORDER BY created DESC$/.exec(jql!);
        return clause !== null && clause[1] === cleaned && !/["\\]/.test(cleaned);
      }),
    );
  });
});
