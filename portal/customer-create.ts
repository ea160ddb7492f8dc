/**
 * The customer's account made at her first sign-in (createOnFirstLogin), when the look that comes
 * before it found none (ADR 0372). Atlassian keeps one account per e-mail address and refuses a second
 * create (409 with `strictConflictStatusCode`), so a create whose outcome is unknown can be sent once
 * more, and its answer says whether the account is there. What it cannot say is which account: the
 * 409 carries none, and the platform user search, which finds it by e-mail, is eventually consistent
 * (an account just made is found seconds later, sometimes longer). So the sign-in looks again, a few
 * times, within its own budget, and past that answers a retryable 503: nothing is lost, since the
 * account exists and the next sign-in finds it.
 */

import { JsmSsoError } from '../common/errors.js';
import { sleepMs } from '../common/sleep.js';
import { AtlassianError } from './atlassian/errors.js';
import { pageDeadline } from './atlassian/page-budget.js';
import type { UserDTO } from './atlassian/types.js';
import type { AuditEvent } from './audit.js';
import { answeredUnreadable, mayHaveWritten, resourceLimitReached } from './write-once.js';

/** What the audit says of the account: made by this create, there already, or there after a create not heard. */
export type Provisioning = Extract<
  AuditEvent['action'],
  'customer_created' | 'customer_existed' | 'customer_create_unconfirmed'
>;

/** At most this long a sign-in waits for the search to find an account it knows is there. */
export const SEARCH_WAIT_MS = 10_000;
/** The first look again after the create, doubling to LOOK_DELAY_CAP_MS (a look is one user search, ADR 0387). */
const FIRST_LOOK_DELAY_MS = 250;
const LOOK_DELAY_CAP_MS = 2_000;
/** What the page tells the browser to wait: most accounts are found within seconds. */
const RETRY_AFTER_SECONDS = 10;

const isConflict = (err: unknown) => err instanceof AtlassianError && err.code === 'ATLASSIAN_CONFLICT';
/** Made (2xx) with an answer that cannot be read (ADR 0279): which account, the search says. */
const madeUnread = (err: unknown) => err instanceof AtlassianError && answeredUnreadable(err);

/** The account exists at Atlassian, but its user search did not show it within the sign-in's wait. */
export class CustomerNotSearchableError extends JsmSsoError {
  readonly retryAfterSeconds = RETRY_AFTER_SECONDS;
  constructor() {
    super('PORTAL_CUSTOMER_NOT_SEARCHABLE', 'the account was made but Atlassian does not find it yet', {
      status: 503,
    });
    this.name = 'CustomerNotSearchableError';
  }
}

/**
 * Sends the create, and once more when its outcome is unknown (a 5xx, a timeout, the connection
 * lost; not a 503 with Retry-After, which asks for a wait: an account made behind it, by a proxy
 * answering after the work, is met by the next sign-in's create as a conflict, an address being
 * one account). `user` is the account when Atlassian answered it readably; without it the account
 * exists and must be looked for.
 */
export async function createCustomerOnce(
  create: () => Promise<UserDTO>,
): Promise<{ user: UserDTO; provisioning: 'customer_created' } | { provisioning: Provisioning }> {
  try {
    return { user: await create(), provisioning: 'customer_created' };
  } catch (err) {
    // Someone (another replica, an agent, an earlier sign-in) made it.
    if (isConflict(err)) return { provisioning: 'customer_existed' };
    if (madeUnread(err)) return { provisioning: 'customer_created' };
    if (!mayHaveWritten(err) || resourceLimitReached(err)) throw err;
  }
  try {
    // Made now: the first was not.
    return { user: await create(), provisioning: 'customer_created' };
  } catch (err) {
    // Most likely the first create's, but one at the same moment elsewhere is not ruled out.
    if (isConflict(err)) return { provisioning: 'customer_create_unconfirmed' };
    if (madeUnread(err)) return { provisioning: 'customer_created' };
    throw err;
  }
}

/**
 * `find` until it finds the account, looking again after 250 ms, 0.5 s, 1 s, then every 2 s, for at
 * most SEARCH_WAIT_MS and half of what is left of the page's budget (the sign-in's other calls, the
 * desks and organizations, come after); then CustomerNotSearchableError.
 */
export async function awaitSearchable<T>(find: () => Promise<T | undefined>): Promise<T> {
  const start = performance.now();
  const pageLeft = (pageDeadline() ?? Number.POSITIVE_INFINITY) - start;
  const until = start + Math.min(SEARCH_WAIT_MS, pageLeft / 2);
  for (let round = 0; ; round++) {
    const found = await find();
    if (found) return found;
    const delay = Math.min(FIRST_LOOK_DELAY_MS * 2 ** round, LOOK_DELAY_CAP_MS);
    if (performance.now() + delay > until) throw new CustomerNotSearchableError();
    await sleepMs(delay);
  }
}
