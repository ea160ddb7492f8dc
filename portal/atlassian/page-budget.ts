import { AsyncLocalStorage } from 'node:async_hooks';
import { AtlassianError } from './errors.js';

/**
 * One deadline for all the Atlassian work of one portal page (ADR 0185). Each call has its own
 * deadline (ADR 0178), but a page makes its calls in several rounds, one after another, so a site
 * answering each just within it held a page for several deadlines, past what a load balancer waits.
 * The page's deadline travels with its async context: the transport gives each call
 * min(its own deadline, what is left of the page's); a fetch shared between pages (a cache, a
 * single flight) runs outside any page (`outsidePage`), and each page stops waiting for it at its own
 * deadline (`waitWithinPage`), so no page's budget fails another page's wait. The portal's budget,
 * PORTAL_PAGE_BUDGET_MS, is set with the other bounds of a request's time (common/http/request-time.ts).
 */

interface Page {
  /** performance.now() at which the page's Atlassian work must be done. */
  deadline: number;
  /** The whole budget, which `pageStartsOver` gives the page again. */
  budgetMs: number;
}

const current = new AsyncLocalStorage<Page>();

/** Runs `fn` (and all it starts) as one page whose Atlassian work ends within `budgetMs`. */
export function withinPage<T>(budgetMs: number, fn: () => T): T {
  return current.run({ deadline: performance.now() + budgetMs, budgetMs }, fn);
}

/**
 * Gives the current page its whole budget again, from now: it waited on its customer, not on
 * Atlassian. An upload form arrives at the customer's pace (a large file on a slow uplink, passed
 * on by a balancer as it comes), and the balancer's wait for the answer starts once the form is
 * through; counted from the request's head, every read after a form slower than the budget was
 * refused ATLASSIAN_PAGE_TIMEOUT at once, no call slow (ADR 0362). Nothing outside a page.
 */
export function pageStartsOver(): void {
  const page = current.getStore();
  if (page) page.deadline = performance.now() + page.budgetMs;
}

/** The current page's deadline (performance.now() time), or undefined outside a page. */
export function pageDeadline(): number | undefined {
  return current.getStore()?.deadline;
}

/** The error of a page whose budget ran out: every call answered in its time, the page did not. */
export function pageTimedOut(cause?: unknown): AtlassianError {
  return new AtlassianError('ATLASSIAN_PAGE_TIMEOUT', 0, cause === undefined ? {} : { cause });
}

/**
 * Runs `fn` outside any page: its calls have their own deadlines only. For a fetch whose result
 * other pages share (a cache entry, a single flight): the page that happened to start it must not
 * end it for the others. And for a write under its key, which keeps its own budget (portal/write-once.ts):
 * cut off by the page, its outcome would be unknown and need looking for.
 */
export function outsidePage<T>(fn: () => T): T {
  return current.exit(fn);
}

/**
 * Waits for a shared fetch until the current page's deadline at most, then fails this page with
 * ATLASSIAN_PAGE_TIMEOUT; the fetch goes on for whoever else waits for it. Outside a page, the
 * fetch itself.
 */
export function waitWithinPage<T>(fetch: Promise<T>): Promise<T> {
  const deadline = pageDeadline();
  if (deadline === undefined) return fetch;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(pageTimedOut()), Math.max(0, deadline - performance.now()));
    fetch.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
