/**
 * Exactly-once writes from the customer's point of view. Every form that creates something in
 * Atlassian (a request, a comment, an attachment) carries a write key made when the form was
 * rendered. The key travels inside what is written (the request's description, the comment's body)
 * as a "portal reference", so the portal can ask Atlassian whether a write already happened: before
 * writing, after a write whose outcome is unknown, and when the same form comes back (a resubmission
 * after a crash, a 502, a timeout or the back button). Whatever happens, one form yields one write.
 */
import { randomBytes } from 'node:crypto';
import { JsmSsoError } from '../common/errors.js';
import { sleepMs } from '../common/sleep.js';
import { AtlassianError } from './atlassian/errors.js';
import { withinPage } from './atlassian/page-budget.js';
import type { WriteClaims } from './write-claims.js';

export const WRITE_KEY = /^jsmsso[0-9a-f]{24}$/;
/** The form field that carries the key. */
export const WRITE_KEY_FIELD = '_write';

/**
 * A new key: when it was made (whole seconds since the epoch, 8 hex digits), then 8 random bytes. The
 * time tells a post of the form whether the form is older than a write claim lives, so that a claim it
 * may have had is gone (ADR 0435). The key is no secret: its claim and its look are the customer's own.
 */
export function newWriteKey(now = Date.now()): string {
  const seconds = Math.floor(now / 1000)
    .toString(16)
    .padStart(8, '0');
  return `jsmsso${seconds}${randomBytes(8).toString('hex')}`;
}

/**
 * When `key` was made (epoch ms, to the second, rounded down) as its first 8 hex digits say. A key of a
 * portal before ADR 0435 is random throughout: read so, its time is almost surely far in the future
 * or past, so that its form is taken as older than a claim (portal/write-claims.ts `formMadeAt`).
 */
export function writeKeyMadeAt(key: string): number {
  return Number.parseInt(key.slice('jsmsso'.length, 'jsmsso'.length + 8), 16) * 1000;
}

/** The submitted key when well-formed; else a fresh one (an old page without a key still writes once). */
export function writeKeyFrom(submitted: unknown): string {
  return typeof submitted === 'string' && WRITE_KEY.test(submitted) ? submitted : newWriteKey();
}

export function withWriteKey(text: string, key: string): string {
  return `${text}\n\n(portal reference ${key})`.trimStart();
}

/** The text as the customer wrote it: the portal reference is for the portal, not for reading. */
export function withoutWriteKey(text: string): string {
  return text.replace(/\s*\(portal reference jsmsso[0-9a-f]{24}\)/g, '');
}

export interface WriteOnceOptions<T> {
  /**
   * Looks in Atlassian for what this key wrote; undefined when nothing was. Absent when the write
   * cannot carry the key: then only a refused write (429) is repeated, never one whose outcome is
   * unknown.
   */
  find?: () => Promise<T | undefined>;
  /**
   * A look that sees the write the moment it is made, where `find` may not (Jira's search is
   * eventually consistent: a new issue may take seconds to minutes to be found), costlier than `find`;
   * run within LOOK_BUDGET_MS: after a failure whose outcome is unknown, when `find` did not see the
   * write, by a post of the same form after an earlier one gave up so (portal/write-claims.ts,
   * ADR 0240), and before the write of a form older than its claim (`formMadeAt`, ADR 0435).
   */
  confirm?: () => Promise<T | undefined>;
  /**
   * For a write with no `find` nor `confirm` that a post of the same form must never repeat (a step
   * offered again from where it leads, ADR 0288): how long its claim keeps what became of it
   * (portal/write-claims.ts `ClaimLooks.keepSeconds`): as long as the form can be posted.
   */
  keepSeconds?: number;
  /**
   * When the form that carries this write was made (writeKeyMadeAt): a form older than its claim may
   * have lost one, and `confirm` looks before it writes (portal/write-claims.ts, ADR 0435).
   */
  formMadeAt?: number;
  write: () => Promise<T>;
  /** Total time this may spend waiting before it gives up with the last error. */
  budgetMs: number;
  /**
   * After a timeout or a lost connection (the write may still be under way at Atlassian): when to
   * look for it before giving up.
   */
  reconcileDelaysMs: readonly number[];
  sleep?: (ms: number) => Promise<void>;
  /** Called before each new attempt, with why (for the retry metric). */
  onRetry?: (reason: string) => void;
  /**
   * Where a post of the same form that finds nothing yet (its twin is still writing) waits for
   * its twin instead of writing too: the claims and what this write's claim is called.
   */
  claim?: { claims: WriteClaims; scope: string };
}

export interface WriteOutcome<T> {
  value: T;
  /** True when the key had already been written (a resubmission): nothing new was written. */
  existed: boolean;
}

/** The least wait before a write is sent again, in its first round; it doubles each round, to the cap. */
const LEAST_WAIT_MS = 100;
const LEAST_WAIT_CAP_MS = 5_000;

/**
 * What `confirm` may take in all (its calls, in rounds), as one page's Atlassian work (ADR 0185): a
 * post then stays within the work a stopping process waits for once a request has arrived, 45 s
 * (common/http/request-time.ts: its first look 10 s, this, and the write's budget, 20 s, which a
 * write's own confirm shares). Cut short, it is a failed look.
 */
const LOOK_BUDGET_MS = 10_000;

/** `confirm` within at most `ms` (and LOOK_BUDGET_MS). */
function confirmWithin<T>(confirm: () => Promise<T | undefined>, ms: number): Promise<T | undefined> {
  return withinPage(Math.max(0, Math.min(LOOK_BUDGET_MS, ms)), confirm);
}

/**
 * Writes once under a key: looks first, then writes; a 429 (Atlassian refused before doing
 * anything) is retried after Retry-After; a 5xx, timeout or lost connection is looked for and, not
 * found, given up with: it may still be made. A 503 with Retry-After (a resource limit, which
 * Atlassian says may be handled as a 429, but which a proxy in front of it also answers once the work
 * was committed) is looked for after its Retry-After, past a lagging search too (`confirm`), and sent
 * again once when neither look sees it (ADR 0408). Gives up with the last error when the next wait
 * would exceed the budget.
 *
 * Such a give-up is never sent again by this post, whatever `find` is: a write that timed out may
 * commit after every look this post can afford, and one sent again then makes two (ADR 0393; a create
 * so since ADR 0187). The page says it could not confirm, keeps what was typed under the same key, and
 * the claim says the write may have been made: for 30 s a post of the same form writes nothing, and
 * later it looks first (portal/write-claims.ts, ADR 0378). A write lost on its way costs the customer
 * that one post; a duplicate comment would be mailed to everyone on the request.
 */
export async function writeOnce<T>(options: WriteOnceOptions<T>): Promise<WriteOutcome<T>> {
  const { find: look } = options;
  const existing = look && (await readBeforeWrite(look));
  if (existing !== undefined) return { value: existing, existed: true };
  const write = () => writeLooked(options);
  if (!options.claim) return write();
  const { claims, scope } = options.claim;
  const { find, confirm, keepSeconds, formMadeAt } = options;
  return claims.once(scope, write, {
    ...(find ? { find } : {}),
    ...(keepSeconds === undefined ? {} : { keepSeconds }),
    ...(formMadeAt === undefined ? {} : { formMadeAt }),
    mayHaveWritten,
    ...(confirm ? { confirm: () => confirmWithin(confirm, LOOK_BUDGET_MS) } : {}),
  });
}

/** writeOnce once the key was looked for and not found. */
async function writeLooked<T>(options: WriteOnceOptions<T>): Promise<WriteOutcome<T>> {
  const sleep = options.sleep ?? sleepMs;
  const find = options.find;
  const deadline = Date.now() + options.budgetMs;
  const fits = (ms: number) => Date.now() + ms <= deadline;
  /** The failure of a write sent in an earlier round that may have been made. */
  let mayBeMade: AtlassianError | undefined;
  /** Whether a write answered 503 with Retry-After was sent again: at most once (ADR 0408). */
  let resentAfterLimit = false;
  // The least wait before the next write, doubling each round: Atlassian's Retry-After may ask for
  // none (`0`), and a write answered 503 at once every time was sent back to back, with its look,
  // until the budget ended (92 comments in 1.5 s).
  for (let round = 0; ; round++) {
    const least = Math.min(LEAST_WAIT_MS * 2 ** round, LEAST_WAIT_CAP_MS);
    try {
      return { value: await options.write(), existed: false };
    } catch (err) {
      if (!(err instanceof AtlassianError)) throw err;
      // A read of this round failed before its write: an earlier round's write is the one to answer.
      if (mayBeMade && readBeforeTheWrite.has(err)) throw mayBeMade;
      if (err.upstreamStatus === 429) {
        const wait = Math.max(least, err.retryAfterMs ?? 1000);
        if (!fits(wait)) throw err;
        await sleep(wait);
        options.onRetry?.('429');
        continue;
      }
      if (!outcomeUnknown(err) || !find) throw err;
      mayBeMade = err;
      // A 5xx is Atlassian's last word on that call: one look after Retry-After is enough, and as
      // much for a 2xx it answered unreadably (the work was done). A timeout may still be
      // processed, so it is looked for more than once.
      const lastWord = err.upstreamStatus >= 500 || answeredUnreadable(err);
      const delays = lastWord ? [Math.max(least, err.retryAfterMs ?? 500)] : options.reconcileDelaysMs;
      for (const delay of delays) {
        if (!fits(delay)) throw err;
        await sleep(delay);
        const found = await lookAfter(err, find);
        if (found !== undefined) return { value: found, existed: false };
      }
      // Where the write can be seen at once, the customer lands on it, rather than being told to
      // check My requests, a search that lags too: finding nothing there, they would raise it anew.
      // A look that fails tells nothing: the write's failure is answered, as one that may be made.
      const { confirm } = options;
      const seen = confirm && (await lookAfter(err, () => confirmWithin(confirm, deadline - Date.now())));
      if (seen !== undefined) return { value: seen, existed: false };
      // Not seen proves nothing of a write that may still be under way (ADR 0393). A 503 with
      // Retry-After alone is sent again, once: made behind it, Atlassian would have shown it to the
      // look after the wait; and each more send would be one more write a look may miss (ADR 0408).
      if (!resourceLimitReached(err) || resentAfterLimit) throw err;
      resentAfterLimit = true;
      options.onRetry?.(String(err.upstreamStatus));
    }
  }
}

/**
 * `find` or `confirm` after a write whose outcome is unknown. A look that fails tells nothing of the
 * write, so the write's own failure is the one to answer. Answered in its place, a look refused 429
 * (or 503 with Retry-After) read as "Atlassian did nothing": the form's claim was dropped and its page
 * said it could be sent again, which a lagging search then let write twice (ADR 0377).
 */
async function lookAfter<T>(err: AtlassianError, find: () => Promise<T | undefined>): Promise<T | undefined> {
  try {
    return await find();
  } catch (lookFailed) {
    throw lookFailed instanceof JsmSsoError ? err : lookFailed;
  }
}

/**
 * A write that failed so may have been made (what a lagging look-up cannot yet tell): a post of the
 * same form finds its claim saying so (portal/write-claims.ts). A 503 with Retry-After too: a proxy
 * in front of Atlassian answers it after the work as well (ADR 0408; before, it dropped the claim).
 */
export function mayHaveWritten(err: unknown): err is AtlassianError {
  return err instanceof AtlassianError && outcomeUnknown(err);
}

/**
 * A 503 with Retry-After: Atlassian's "a resource limit has been reached", which it says may be
 * handled as a 429, but not that nothing was done; a proxy or load balancer in front of it answers
 * the same after the work was committed, and Atlassian documents no header that tells them apart.
 */
export function resourceLimitReached(err: AtlassianError): boolean {
  return err.upstreamStatus === 503 && err.retryAfterMs !== undefined;
}

/**
 * The failures of reads made before a write was sent (readBeforeWrite). Kept beside the error, not in
 * it: the error stays Atlassian's, its code, status and Retry-After as the page and the log show them.
 */
const readBeforeTheWrite = new WeakSet<AtlassianError>();

/**
 * `read`, made before a write is sent (the look for its key, the request's visibility, what the write
 * depends on): when it fails, nothing was sent, whatever Atlassian answered, so its failure leaves the
 * write's outcome known (outcomeUnknown is false). Before ADR 0389 a 5xx or a timeout of such a read
 * was said as "could not confirm whether it was done", and a step's claim kept it as maybe made.
 */
export async function readBeforeWrite<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof AtlassianError) readBeforeTheWrite.add(err);
    throw err;
  }
}

/**
 * A rejected call (4xx, or 429 which Atlassian did not process) is safe; anything else may have
 * happened, and a write answered 2xx with what cannot be read did happen (ADR 0279): the portal
 * cannot tell what it made, so it looks for it as for a write whose outcome is unknown. A read that
 * failed before its write was sent (readBeforeWrite), and a call none of whose attempts reached a
 * connection (`sentNothing`: refused, a name not found, ADR 0397), left nothing done.
 */
export function outcomeUnknown(err: AtlassianError): boolean {
  if (readBeforeTheWrite.has(err) || err.sentNothing) return false;
  if (err.code === 'ATLASSIAN_TIMEOUT' || err.code === 'ATLASSIAN_UNREACHABLE') return true;
  return err.upstreamStatus >= 500 || answeredUnreadable(err);
}

/** Atlassian answered the write 2xx (it did the work) with an answer of another shape, or none. */
export function answeredUnreadable(err: AtlassianError): boolean {
  return err.code === 'ATLASSIAN_ERROR' && err.upstreamStatus >= 200 && err.upstreamStatus < 300;
}
