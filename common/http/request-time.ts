/**
 * The bounds of one request's time, each set here once and used where it bounds: a stopping process
 * gives its requests in flight as long as the longest may take, their sum (common/http/shutdown.ts,
 * ADR 0365), so a bound changed here changes that grace and the pods' terminationGracePeriodSeconds
 * with it. Here rather than in the parts because the operator and every process read the grace
 * without loading either part.
 */

/**
 * How long a client may take to send a whole request, headers and body: Node's requestTimeout
 * (common/http/server.ts). An upload form's file arrives within it, at the customer's pace.
 */
export const REQUEST_RECEIVE_MS = 60_000;

/**
 * How long a client may take no byte of an answer it asked for before its connection is cut (nginx's
 * send_timeout, 60 s by default, is the same bound): any answer (common/http/answers-not-taken.ts,
 * ADR 0394), a download too (portal/http/stream-through.ts). Not part of a stopping process's grace:
 * what is still unsent when the grace ends is cut with its connection.
 */
export const ANSWER_IDLE_MS = 60_000;

/**
 * A portal page's Atlassian work together (portal/atlassian/page-budget.ts, ADR 0185), and again
 * after an upload form has arrived (ADR 0362). 25 s: the shortest wait common in front of the portal
 * is 30 s (many load balancers; ingress-nginx 60 s), so the page answers itself, with its reason,
 * before the proxy's blank 504, with a few seconds for what follows its last call (a bulkhead wait,
 * rendering). It is two and a half per-call deadlines (10 s): one call that takes all of its own
 * still leaves room for the page's others.
 */
export const PORTAL_PAGE_BUDGET_MS = 25_000;

/**
 * A portal write under its key, its retries and reconciliation included (portal/write-once.ts,
 * ADR 0187): run outside its page's budget, after the page's reads.
 */
export const PORTAL_WRITE_BUDGET_MS = 20_000;

/**
 * A broker sign-in's IdP calls together (broker/sign-in-budget.ts, ADR 0276). 15 s: one and a half
 * call deadlines (10 s), so one call that takes all of its own still leaves room for the rest; below
 * the shortest wait common in front of the broker (30 s), with room for what follows the calls (the
 * store, signing the assertion).
 */
export const SIGN_IN_BUDGET_MS = 15_000;

/**
 * The longest a part works on a request once it has arrived whole: a portal page's Atlassian work
 * and its write (45 s); a sign-in's IdP calls take less. Also what a request may leave behind its
 * answer when its client goes away (a write whose customer closed the tab).
 */
export const LONGEST_WORK_AFTER_ARRIVAL_MS = Math.max(
  PORTAL_PAGE_BUDGET_MS + PORTAL_WRITE_BUDGET_MS,
  SIGN_IN_BUDGET_MS,
);
