import { expect } from 'chai';
import { JqlError, type JqlIssue, matchesJql, parseJql, quoteJql } from '../../dev/jsm-emulator/jql.js';

const issue: JqlIssue = {
  id: '10042',
  key: 'IT-7',
  reporterId: 'qm:alice',
  participantIds: ['qm:bob'],
  approverIds: ['qm:mia'],
  approvals: [{ finalDecision: 'approved', approvers: [{ accountId: 'qm:mia', decision: 'approved' }] }],
  organizations: [{ id: '1', name: 'Acme Corp' }],
  project: { id: '10001', key: 'IT' },
  statusCategory: { id: 3, key: 'done', name: 'Done' },
  requestType: { id: '12', name: 'Get IT help' },
  summary: 'Printer jams',
  text: 'Printer jams every morning',
};
const matches = (jql: string) => matchesJql(parseJql(jql).where, issue);

describe('JQL subset', () => {
  it('matches the request type by name, as "Request Type" or "Customer Request Type"', () => {
    expect(matches('"Request Type" = "get it help"')).to.equal(true);
    expect(matches('"Customer Request Type" in ("Other", "Get IT help")')).to.equal(true);
    expect(matches('"Request Type" = "Report a broken laptop"')).to.equal(false);
  });

  it('tells a request from an issue raised inside Jira with "Request Type" IS [NOT] EMPTY', () => {
    const raisedInJira = { ...issue, requestType: { id: '', name: '' } };
    const where = (jql: string) => parseJql(jql).where;
    expect(matchesJql(where('"Request Type" IS NOT EMPTY'), issue)).to.equal(true);
    expect(matchesJql(where('"Request Type" IS NOT EMPTY'), raisedInJira)).to.equal(false);
    expect(matchesJql(where('"Customer Request Type" is empty'), raisedInJira)).to.equal(true);
    expect(matchesJql(where('"Request Type" = ""'), raisedInJira)).to.equal(false);
    expect(() => parseJql('"Request Type" IS NOT "x"')).to.throw(JqlError);
    expect(() => parseJql('reporter IS EMPTY')).to.throw(JqlError);
  });

  it('orders by created or updated, in either direction, and by nothing else', () => {
    expect(parseJql('project = IT ORDER BY updated ASC').orderBy).to.deep.equal({
      field: 'updated',
      direction: 'ASC',
    });
    expect(parseJql('project = IT ORDER BY created').orderBy).to.deep.equal({
      field: 'created',
      direction: 'DESC',
    });
    expect(() => parseJql('project = IT ORDER BY summary')).to.throw(JqlError);
  });

  it('matches reporter, participants, organizations, project, statusCategory and text', () => {
    expect(matches('reporter = "qm:alice"')).to.equal(true);
    expect(matches('"Request participants" = "qm:bob"')).to.equal(true);
    expect(matches('organizations in (1, 2)')).to.equal(true);
    expect(matches('organizations = "Acme Corp"')).to.equal(true);
    expect(matches('project in (IT, HR) AND statusCategory = Done')).to.equal(true);
    expect(matches('statusCategory != Done')).to.equal(false);
    expect(matches('text ~ "printer morning"')).to.equal(true);
    expect(matches('summary ~ "printer jams"')).to.equal(true);
    expect(matches('summary ~ "printer morning"'), 'summary ~ reads the summary only').to.equal(false);
    expect(matches('(reporter = "qm:zed" OR "Request participants" = "qm:bob") AND project = IT')).to.equal(
      true,
    );
    expect(matches('reporter = "qm:zed" OR reporter = "qm:zoe"')).to.equal(false);
  });
  it('matches an issue by key or id with issuekey (and its alias key), = and in', () => {
    expect(parseJql('issuekey = IT-7').where).to.deep.equal({
      kind: 'clause',
      field: 'issueKey',
      op: '=',
      values: ['IT-7'],
    });
    expect(matches('issuekey = IT-7')).to.equal(true);
    expect(matches('issuekey = "it-7"')).to.equal(true);
    expect(matches('issueKey = 10042')).to.equal(true);
    expect(matches('key = IT-7')).to.equal(true);
    expect(matches('issuekey = IT-8')).to.equal(false);
    expect(matches('issuekey in (HR-1, IT-7)')).to.equal(true);
    expect(matches('issuekey in (HR-1, IT-8)')).to.equal(false);
    expect(matches('project = IT AND issuekey = IT-7')).to.equal(true);
  });
  it('evaluates the approval functions on the Approvals field as Atlassian documents them', () => {
    // One step still waiting: mia approved, sam has not answered; an earlier step zoe declined.
    const stepped: JqlIssue = {
      ...issue,
      approvals: [
        {
          finalDecision: 'declined',
          approvers: [{ accountId: 'qm:zoe', decision: 'declined' }],
        },
        {
          finalDecision: 'pending',
          approvers: [
            { accountId: 'qm:mia', decision: 'approved' },
            { accountId: 'qm:sam', decision: 'pending' },
          ],
        },
      ],
    };
    const on = (jql: string, target: JqlIssue = stepped) => matchesJql(parseJql(jql).where, target);
    // pendingApprovalBy(): an approver of a pending step who is yet to answer.
    expect(on('approvals = pendingApprovalBy("qm:sam")')).to.equal(true);
    expect(on('approvals = pendingApprovalBy("qm:mia")'), 'mia has answered').to.equal(false);
    expect(on('approvals = pendingApprovalBy("qm:zoe")'), 'her step is done').to.equal(false);
    expect(on('approvals = pendingApprovalBy("qm:mia", "qm:sam")')).to.equal(true);
    // pendingBy(): an approver of a pending step, "may or may not have already approved or declined".
    expect(on('approvals = pendingBy("qm:mia")')).to.equal(true);
    expect(on('approvals = pendingBy("qm:zoe")')).to.equal(false);
    // approver(): of a pending or completed step, answered or not.
    expect(on('approvals = approver("qm:zoe")')).to.equal(true);
    expect(on('approvals = approver("qm:alice")')).to.equal(false);
    expect(on('approvals = pending()')).to.equal(true);
    expect(on('approvals = approved()')).to.equal(false);
    expect(on('approvals = approved()', issue)).to.equal(true);
    // != negates, on requests that have approvals only (JQL leaves out empty fields).
    expect(on('approvals != pendingApprovalBy("qm:mia")')).to.equal(true);
    expect(on('approvals != pendingApprovalBy("qm:sam")')).to.equal(false);
    expect(on('approvals != pendingApprovalBy("qm:mia")', { ...issue, approvals: [] })).to.equal(false);
    expect(on('approvals = pendingApprovalBy("qm:mia")', { ...issue, approvals: [] })).to.equal(false);
    expect(on('approvals != pending()', issue)).to.equal(true);
    expect(on('approvers = "qm:mia" AND approvals = PENDINGAPPROVALBY("qm:sam")')).to.equal(true);
  });

  it('matches JSM approvers by account id, whatever they decided', () => {
    expect(parseJql('approvers = "qm:mia"').where).to.deep.equal({
      kind: 'clause',
      field: 'approvers',
      op: '=',
      values: ['qm:mia'],
    });
    expect(matches('approvers = "qm:mia"')).to.equal(true);
    expect(matches('Approvers = "qm:mia"')).to.equal(true);
    expect(matches('approvers = "qm:alice"')).to.equal(false);
    expect(matches('reporter = "qm:zed" OR approvers = "qm:mia"')).to.equal(true);
  });
  it('binds AND tighter than OR', () => {
    expect(matches('reporter = "qm:alice" OR reporter = "x" AND project = HR')).to.equal(true);
    expect(matches('(reporter = "qm:alice" OR reporter = "x") AND project = HR')).to.equal(false);
  });
  it('orders by created, descending by default', () => {
    expect(parseJql('project = IT').orderBy.direction).to.equal('DESC');
    expect(parseJql('project = IT ORDER BY created ASC').orderBy.direction).to.equal('ASC');
  });
  it('keeps a quoted search term containing JQL as plain text', () => {
    const term = '" OR reporter != "x';
    const query = parseJql(`reporter = "qm:alice" AND text ~ ${quoteJql(term)}`);
    expect(query.where).to.deep.include({ kind: 'and' });
    expect(matchesJql(query.where, issue)).to.equal(false);
  });
  it('refuses a search term concatenated without quoting', () => {
    expect(() => parseJql('reporter = "qm:alice" AND text ~ "" OR reporter != "x"')).to.throw(
      JqlError,
      /operator '!='/,
    );
  });
  it('refuses anything outside the subset', () => {
    for (const jql of [
      'assignee = x',
      'reporter = currentUser()',
      'reporter in (a, b)',
      'NOT project = IT',
      'project = IT ORDER BY priority',
      'project = IT )',
      'text ~ "open',
      'statusCategory = Bogus',
      'project ==',
      'issuekey != IT-7',
      'issuekey ~ IT',
      'issuekey = "IT 7"',
      'issuekey in (IT-7, "x" )',
      'issuekey = IT-7 OR',
      'approvers in ("qm:mia")',
      'approvers != "qm:mia"',
      'approvers = currentUser()',
      'approver = "qm:mia"',
      'approvals = "qm:mia"',
      'approvals in (pendingApprovalBy("qm:mia"))',
      'approvals = myPendingApproval()',
      'approvals != approver("qm:mia")',
      'approvals != approved()',
      'approvals = pendingApprovalBy()',
      'approvals = pending("qm:mia")',
      'approvals ~ pendingBy("qm:mia")',
      'approvals = pendingBy("qm:mia"',
    ]) {
      expect(() => parseJql(jql), jql).to.throw(JqlError);
    }
  });

  it('reads ALL-CAPS AND, OR and NOT in a text search as Jira’s Boolean operators, other spellings as words', () => {
    expect(matches('summary ~ "printer OR laptop"')).to.equal(true);
    expect(matches('summary ~ "laptop OR monitor"')).to.equal(false);
    expect(matches('summary ~ "printer NOT jams"')).to.equal(false);
    expect(matches('summary ~ "printer AND NOT laptop"')).to.equal(true);
    expect(matches('summary ~ "printer AND jams"')).to.equal(true);
    expect(matches('summary ~ "printer or laptop"'), 'a lower-case or is a word').to.equal(false);
  });
  it('refuses a text search with an operator missing a term, as Jira cannot parse it', () => {
    for (const text of ['printer NOT', 'AND printer', 'OR', 'printer OR', 'printer AND OR jams', 'NOT NOT x'])
      expect(() => parseJql(`summary ~ "${text}"`), text)
        .to.throw(JqlError)
        .with.property('message', `Unable to parse the text '${text}' for field 'summary'.`);
  });
});
