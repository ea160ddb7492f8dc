// The small JQL subset a customer portal needs, parsed strictly: anything outside it is refused
// (Jira answers 400 with `errorMessages`), so a client that builds JQL by string concatenation
// without quoting is caught instead of silently widening a search.
//
//   query   := [or] [ORDER BY (created | updated) (ASC|DESC)]
//   or      := and (OR and)*
//   and     := primary (AND primary)*
//   primary := '(' or ')' | clause
//   clause  := reporter = V | "Request participants" = V | approvers = V
//            | organizations (= V | in (V, ...)) | (issuekey | key) (= V | in (V, ...))
//            | project (= V | in (V, ...)) | statusCategory (= | !=) V | (text | summary) ~ "..."
//            | ("Request Type" | "Customer Request Type") (= V | in (V, ...) | IS [NOT] EMPTY)
//              (by name; EMPTY: an issue raised inside Jira, not through a request type)
//            | approvals (= | !=) fn '(' [V (, V)*] ')'
//
// `approvers` is JSM's Approvers field: the people asked to approve, whatever they decided.
// `approvals` is JSM's Approvals field (custom field of type Approval), which takes only JSM's
// approval functions, as Atlassian documents them ("JQL functions", Jira Service Management Cloud):
//   approved()               a request with an approval whose final decision is approved (= only)
//   approver(u, ...)         any u is an approver of a pending or completed step, answered or not (= only)
//   pending()                a request with a pending approval step
//   pendingBy(u, ...)        any u is an approver of a pending step, answered or not
//   pendingApprovalBy(u, ...) any u is an approver of a pending step and is yet to answer
// The caller-relative myApproval(), myPending() and myPendingApproval() are left out: a portal
// searching as its service account must name the customer. `!=` is the negation over requests
// whose Approvals field is not empty (Jira: "JQL searches do not return empty fields").

export class JqlError extends Error {}

type Token = { kind: 'word' | 'string' | 'op' | 'lparen' | 'rparen' | 'comma'; text: string; at: number };

function tokenize(jql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < jql.length) {
    const c = jql[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"' || c === "'") {
      const at = i;
      let text = '';
      i++;
      for (;;) {
        if (i >= jql.length)
          throw new JqlError(
            `Error in the JQL Query: The quoted string starting at character ${at} has not been completed.`,
          );
        const d = jql[i] as string;
        if (d === '\\') {
          const next = jql[i + 1];
          if (next === undefined)
            throw new JqlError(`Error in the JQL Query: Illegal escape sequence at character ${i}.`);
          text += next;
          i += 2;
        } else if (d === c) {
          i++;
          break;
        } else {
          text += d;
          i++;
        }
      }
      tokens.push({ kind: 'string', text, at });
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: c === '(' ? 'lparen' : c === ')' ? 'rparen' : 'comma', text: c, at: i });
      i++;
    } else if (/[=!~<>]/.test(c)) {
      const m = /^(!=|!~|<=|>=|=|~|<|>)/.exec(jql.slice(i));
      if (!m)
        throw new JqlError(
          `Error in the JQL Query: The character '${c}' is a reserved JQL character (at character ${i}).`,
        );
      tokens.push({ kind: 'op', text: m[0], at: i });
      i += m[0].length;
    } else {
      const m = /^[A-Za-z0-9_.:@-]+/.exec(jql.slice(i));
      if (!m)
        throw new JqlError(
          `Error in the JQL Query: The character '${c}' is a reserved JQL character (at character ${i}).`,
        );
      tokens.push({ kind: 'word', text: m[0], at: i });
      i += m[0].length;
    }
  }
  return tokens;
}

export type JqlField =
  | 'reporter'
  | 'participants'
  | 'approvers'
  | 'organizations'
  | 'issueKey'
  | 'project'
  | 'statusCategory'
  | 'requestType'
  | 'summary'
  | 'text';
export type ApprovalFunction = 'approved' | 'approver' | 'pending' | 'pendingBy' | 'pendingApprovalBy';
export type JqlNode =
  | { kind: 'and' | 'or'; left: JqlNode; right: JqlNode }
  | { kind: 'clause'; field: JqlField; op: '=' | '!=' | 'in' | '~' | 'is' | 'is not'; values: string[] }
  | { kind: 'approval'; op: '=' | '!='; fn: ApprovalFunction; users: string[] };
export interface JqlQuery {
  where?: JqlNode;
  orderBy: { field: 'created' | 'updated'; direction: 'ASC' | 'DESC' };
}

const FIELDS: Record<string, { field: JqlField; ops: readonly string[] }> = {
  reporter: { field: 'reporter', ops: ['='] },
  'request participants': { field: 'participants', ops: ['='] },
  approvers: { field: 'approvers', ops: ['='] },
  issuekey: { field: 'issueKey', ops: ['=', 'in'] },
  key: { field: 'issueKey', ops: ['=', 'in'] },
  organizations: { field: 'organizations', ops: ['=', 'in'] },
  project: { field: 'project', ops: ['=', 'in'] },
  statuscategory: { field: 'statusCategory', ops: ['=', '!='] },
  summary: { field: 'summary', ops: ['~'] },
  text: { field: 'text', ops: ['~'] },
  'request type': { field: 'requestType', ops: ['=', 'in', 'is'] },
  'customer request type': { field: 'requestType', ops: ['=', 'in', 'is'] },
};
/** Each approval function: whether it names users, and the operators Atlassian lists for it. */
const APPROVAL_FUNCTIONS: Record<string, { fn: ApprovalFunction; users: boolean; ops: readonly string[] }> = {
  approved: { fn: 'approved', users: false, ops: ['='] },
  approver: { fn: 'approver', users: true, ops: ['='] },
  pending: { fn: 'pending', users: false, ops: ['=', '!='] },
  pendingby: { fn: 'pendingBy', users: true, ops: ['=', '!='] },
  pendingapprovalby: { fn: 'pendingApprovalBy', users: true, ops: ['=', '!='] },
};
const STATUS_CATEGORIES = new Set(['to do', 'in progress', 'done', 'new', 'indeterminate', '2', '3', '4']);
const ISSUE_KEY_OR_ID = /^([A-Za-z][A-Za-z0-9_]*-[0-9]+|[0-9]+)$/;
const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'is', 'was', 'changed', 'order', 'by', 'empty', 'null']);

/** What a query is checked against besides its syntax: the issues the caller may see. */
export interface JqlContext {
  /** Whether an issue with this key or id exists for the caller (Jira says the same of one hidden from it). */
  issueExists?: (keyOrId: string) => boolean;
}

/** Values Jira refuses for the field itself, whatever the issues hold. */
function checkValue(field: JqlField, name: string, v: string, context: JqlContext): void {
  if (field === 'summary' || field === 'text') textQuery(v, name);
  if (field === 'statusCategory' && !STATUS_CATEGORIES.has(v.toLowerCase())) {
    throw new JqlError(`The value '${v}' does not exist for the field 'statusCategory'.`);
  }
  if (field === 'issueKey' && !ISSUE_KEY_OR_ID.test(v)) {
    throw new JqlError(`The issue key '${v}' for field '${name}' is invalid.`);
  }
  // Jira validates a query before it searches: a key no issue has is refused, not matched by none.
  if (field === 'issueKey' && context.issueExists && !context.issueExists(v)) {
    throw new JqlError(`An issue with key '${v}' does not exist for field '${name}'.`);
  }
}

export function parseJql(jql: string, context: JqlContext = {}): JqlQuery {
  const tokens = tokenize(jql);
  let pos = 0;
  const peek = () => tokens[pos];
  const isWord = (t: Token | undefined, w: string) => t?.kind === 'word' && t.text.toLowerCase() === w;
  const describe = (t: Token | undefined) =>
    t ? `'${t.text}' at character ${t.at}` : 'the end of the query';
  const fail = (expected: string): never => {
    throw new JqlError(`Error in the JQL Query: Expecting ${expected} but got ${describe(peek())}.`);
  };

  const value = (): string => {
    const t = peek();
    if (t?.kind === 'string' || (t?.kind === 'word' && !KEYWORDS.has(t.text.toLowerCase()))) {
      pos++;
      return t.text;
    }
    if (t?.kind === 'word' && /\(/.test(tokens[pos + 1]?.text ?? '')) fail('a value');
    return fail('either a value, an operand or a function');
  };
  const clause = (): JqlNode => {
    const t = peek();
    if (t?.kind !== 'word' && t?.kind !== 'string') return fail('a field name');
    if (t.text.toLowerCase() === 'approvals') {
      pos++;
      return approvalClause(t.text);
    }
    const spec = FIELDS[t.text.toLowerCase()];
    if (!spec)
      throw new JqlError(`Field '${t.text}' does not exist or you do not have permission to view it.`);
    pos++;
    const opToken = peek();
    const op =
      opToken?.kind === 'op'
        ? opToken.text
        : isWord(opToken, 'in')
          ? 'in'
          : isWord(opToken, 'is')
            ? 'is'
            : undefined;
    if (op === undefined) return fail('an operator');
    if (!spec.ops.includes(op)) {
      throw new JqlError(
        `The operator '${op}' is not supported by the '${t.text}' field (supported here: ${spec.ops.join(', ')}).`,
      );
    }
    pos++;
    if (op === 'is') {
      const not = isWord(peek(), 'not');
      if (not) pos++;
      if (!isWord(peek(), 'empty') && !isWord(peek(), 'null')) fail("'EMPTY'");
      pos++;
      return { kind: 'clause', field: spec.field, op: not ? 'is not' : 'is', values: [] };
    }
    if (op === 'in') {
      if (peek()?.kind !== 'lparen') fail("'('");
      pos++;
      const values = [value()];
      while (peek()?.kind === 'comma') {
        pos++;
        values.push(value());
      }
      if (peek()?.kind !== 'rparen') fail("')' or ','");
      pos++;
      for (const v of values) checkValue(spec.field, t.text, v, context);
      return { kind: 'clause', field: spec.field, op: 'in', values };
    }
    const v = value();
    if (peek()?.kind === 'lparen') throw new JqlError(`Function '${v}' is not supported.`);
    checkValue(spec.field, t.text, v, context);
    return { kind: 'clause', field: spec.field, op: op as '=' | '!=' | '~', values: [v] };
  };
  // `approvals = fn(args)`: the Approvals field takes its functions and nothing else.
  const approvalClause = (name: string): JqlNode => {
    const opToken = peek();
    if (opToken?.kind !== 'op') return fail('an operator');
    pos++;
    const fnToken = peek();
    const spec = fnToken?.kind === 'word' ? APPROVAL_FUNCTIONS[fnToken.text.toLowerCase()] : undefined;
    if (!fnToken || tokens[pos + 1]?.kind !== 'lparen')
      throw new JqlError(`The field '${name}' takes only approval functions, such as pendingApprovalBy().`);
    if (!spec) throw new JqlError(`Unable to find JQL function '${fnToken.text}()'.`);
    if (!spec.ops.includes(opToken.text))
      throw new JqlError(
        `The operator '${opToken.text}' is not supported by the '${spec.fn}' function (supported here: ${spec.ops.join(', ')}).`,
      );
    pos += 2;
    const users: string[] = [];
    if (peek()?.kind !== 'rparen') {
      users.push(value());
      while (peek()?.kind === 'comma') {
        pos++;
        users.push(value());
      }
    }
    if (peek()?.kind !== 'rparen') fail("')' or ','");
    pos++;
    if (spec.users && users.length === 0)
      throw new JqlError(`Function '${spec.fn}' expects at least one user, but got none.`);
    if (!spec.users && users.length > 0)
      throw new JqlError(`Function '${spec.fn}' expects no arguments, but got ${users.length}.`);
    return { kind: 'approval', op: opToken.text as '=' | '!=', fn: spec.fn, users };
  };
  const primary = (): JqlNode => {
    if (peek()?.kind === 'lparen') {
      pos++;
      const inner = or();
      if (peek()?.kind !== 'rparen') fail("')'");
      pos++;
      return inner;
    }
    return clause();
  };
  const and = (): JqlNode => {
    let left = primary();
    while (isWord(peek(), 'and')) {
      pos++;
      left = { kind: 'and', left, right: primary() };
    }
    return left;
  };
  const or = (): JqlNode => {
    let left = and();
    while (isWord(peek(), 'or')) {
      pos++;
      left = { kind: 'or', left, right: and() };
    }
    return left;
  };

  const where = tokens.length === 0 || isWord(peek(), 'order') ? undefined : or();
  let direction: 'ASC' | 'DESC' = 'DESC';
  let field: 'created' | 'updated' = 'created';
  if (isWord(peek(), 'order')) {
    pos++;
    if (!isWord(peek(), 'by')) fail("'by'");
    pos++;
    if (!isWord(peek(), 'created') && !isWord(peek(), 'updated'))
      throw new JqlError(
        `Ordering by ${describe(peek())} is not supported; only 'created' and 'updated' are.`,
      );
    field = (peek() as Token).text.toLowerCase() as 'created' | 'updated';
    pos++;
    const d = peek();
    if (isWord(d, 'asc') || isWord(d, 'desc')) {
      direction = (d as Token).text.toUpperCase() as 'ASC' | 'DESC';
      pos++;
    }
  }
  if (pos < tokens.length) fail("'AND', 'OR' or 'ORDER BY'");
  return where ? { where, orderBy: { field, direction } } : { orderBy: { field, direction } };
}

/** What a JQL clause can look at on an issue. */
export interface JqlIssue {
  id: string;
  key: string;
  /** Keys it had before a move; `issuekey = OLD-1` still finds it. */
  previousKeys?: readonly string[];
  reporterId: string;
  participantIds: readonly string[];
  approverIds: readonly string[];
  /** The request's approvals (JSM's Approvals field): each step's outcome and each approver's answer. */
  approvals: readonly JqlApproval[];
  organizations: readonly { id: string; name: string }[];
  project: { id: string; key: string };
  statusCategory: { id: number; key: string; name: string };
  requestType: { id: string; name: string };
  summary: string;
  /** What Jira's `text` searches: summary, description and every comment, internal ones included. */
  text: string;
}

export type JqlDecision = 'approved' | 'declined' | 'pending';
export interface JqlApproval {
  finalDecision: JqlDecision;
  approvers: readonly { accountId: string; decision: JqlDecision }[];
}

/** Whether one approval function holds for the request, as Atlassian documents each. */
function approvalHolds(
  fn: ApprovalFunction,
  users: readonly string[],
  approvals: readonly JqlApproval[],
): boolean {
  const named = (a: JqlApproval) => a.approvers.filter((x) => users.includes(x.accountId));
  switch (fn) {
    case 'approved':
      return approvals.some((a) => a.finalDecision === 'approved');
    case 'approver':
      return approvals.some((a) => named(a).length > 0);
    case 'pending':
      return approvals.some((a) => a.finalDecision === 'pending');
    case 'pendingBy':
      return approvals.some((a) => a.finalDecision === 'pending' && named(a).length > 0);
    case 'pendingApprovalBy':
      return approvals.some(
        (a) => a.finalDecision === 'pending' && named(a).some((x) => x.decision === 'pending'),
      );
  }
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * A text query as Jira's text search reads it ("Search syntax for text fields"): terms joined by
 * the Boolean operators AND, OR and NOT, which count only in ALL CAPS (a lower-case `or` is a
 * term); terms side by side are joined with AND. Read as alternatives (OR), each a set of terms
 * that must all appear and terms that must not. An operator with no term on one side cannot be
 * parsed, and Jira answers 400.
 */
interface TextAlternative {
  all: string[];
  none: string[];
}
const TEXT_OPERATORS = new Set(['AND', 'OR', 'NOT']);

function textQuery(query: string, field: string): TextAlternative[] {
  const alternatives: TextAlternative[] = [{ all: [], none: [] }];
  // What the next term is joined by: nothing yet (the query's start), a term just read (undefined),
  // or the operators read since the last term.
  let joinedBy: 'start' | 'AND' | 'OR' | 'NOT' | 'OR NOT' | undefined = 'start';
  for (const token of query.split(/\s+/).filter((t) => t !== '')) {
    if (TEXT_OPERATORS.has(token)) {
      if (token === 'NOT' && joinedBy !== 'NOT' && joinedBy !== 'OR NOT')
        joinedBy = joinedBy === 'OR' ? 'OR NOT' : 'NOT';
      else if (token !== 'NOT' && joinedBy === undefined) joinedBy = token as 'AND' | 'OR';
      else throw new JqlError(`Unable to parse the text '${query}' for field '${field}'.`);
      continue;
    }
    if (joinedBy === 'OR' || joinedBy === 'OR NOT') alternatives.push({ all: [], none: [] });
    const current = alternatives.at(-1)!;
    (joinedBy === 'NOT' || joinedBy === 'OR NOT' ? current.none : current.all).push(...termWords(token));
    joinedBy = undefined;
  }
  if (joinedBy !== undefined && joinedBy !== 'start')
    throw new JqlError(`Unable to parse the text '${query}' for field '${field}'.`);
  return alternatives;
}

/** The words of one term: wildcards (`*`, `?`) dropped, split where Jira's index splits words. */
function termWords(term: string): string[] {
  return term
    .toLowerCase()
    .replace(/[*?]/g, ' ')
    .split(/[^\p{L}\p{N}@._-]+/u)
    .filter((w) => w !== '');
}

/** Jira's `~` on text: one alternative of the query holds (its terms appear, its excluded ones do not). */
function textMatches(haystack: string, query: string): boolean {
  const text = haystack.toLowerCase();
  return textQuery(query, 'text').some(
    (a) => a.all.length > 0 && a.all.every((w) => text.includes(w)) && !a.none.some((w) => text.includes(w)),
  );
}

export function matchesJql(node: JqlNode | undefined, issue: JqlIssue): boolean {
  if (!node) return true;
  if (node.kind === 'approval') {
    const holds = approvalHolds(node.fn, node.users, issue.approvals);
    // An empty Approvals field matches no clause on it, `!=` included.
    return node.op === '=' ? holds : issue.approvals.length > 0 && !holds;
  }
  if (node.kind !== 'clause') {
    return node.kind === 'and'
      ? matchesJql(node.left, issue) && matchesJql(node.right, issue)
      : matchesJql(node.left, issue) || matchesJql(node.right, issue);
  }
  const any = (test: (v: string) => boolean) => node.values.some(test);
  switch (node.field) {
    case 'reporter':
      return any((v) => v === issue.reporterId);
    case 'participants':
      return any((v) => issue.participantIds.includes(v));
    case 'approvers':
      return any((v) => issue.approverIds.includes(v));
    case 'issueKey':
      return any(
        (v) => same(issue.key, v) || issue.id === v || (issue.previousKeys ?? []).some((k) => same(k, v)),
      );
    case 'organizations':
      return any((v) => issue.organizations.some((o) => o.id === v || same(o.name, v)));
    case 'project':
      return any((v) => same(issue.project.key, v) || issue.project.id === v);
    case 'statusCategory': {
      const c = issue.statusCategory;
      const hit = any((v) => same(c.name, v) || same(c.key, v) || String(c.id) === v);
      return node.op === '!=' ? !hit : hit;
    }
    case 'requestType':
      if (node.op === 'is' || node.op === 'is not')
        return (issue.requestType.id === '') === (node.op === 'is');
      return issue.requestType.id !== '' && any((v) => same(issue.requestType.name, v));
    case 'summary':
      return any((v) => textMatches(issue.summary, v));
    case 'text':
      return any((v) => textMatches(issue.text, v));
  }
}

/** Quotes a value for a JQL string literal (what a client must do with user input). */
export function quoteJql(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
