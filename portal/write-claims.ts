/**
 * One writer per write key at a time. A double click posts the same form twice, the second before
 * the first has an answer: looking for the key (portal/write-once.ts) cannot tell them apart, as
 * neither is written yet. So the first post claims the key in the flow store (shared by the
 * tenant's replicas, wherever the balancer sends each post), and a second post of the same form
 * waits for the first's outcome instead of writing: the written thing when it succeeds, its own
 * turn (looking first, then writing) when it failed. A claim whose holder died expires.
 */
import { JsmSsoError } from '../common/errors.js';
import type { FlowStore } from '../common/flowstore/index.js';
import { sleepMs } from '../common/sleep.js';
import type { WriteOutcome } from './write-once.js';

const PENDING = 'pending';
/**
 * Left by a holder that gave up on a write that may have been made after all (ADR 0187), with when:
 * `unconfirmed:<epoch ms>` (a bare `unconfirmed`, from a portal before ADR 0240, is taken as new).
 */
const UNCONFIRMED = 'unconfirmed';
/**
 * How long after such a give-up a post of the same form writes nothing unless it finds the write: a
 * write that timed out may still be made at Atlassian meanwhile.
 */
const UNCONFIRMED_REFUSED_MS = 30_000;
/**
 * How long the give-up is remembered, so that a post of the same form looks where a lagging search
 * cannot (`confirm`) before it writes: Atlassian's search shows a new issue within "a few seconds to
 * minutes"; ten minutes, as a session's recent writes are kept for its searches (ADR 0194, ADR 0240).
 */
const UNCONFIRMED_SECONDS = 600;
/**
 * How far the clocks of the portal's replicas may disagree: a form made by one and posted to another
 * is taken as that much older than it looks (ADR 0435), so that none is judged too young to have had
 * a claim.
 */
const CLOCK_SKEW_MS = 30_000;

/**
 * For a give-up that now holds its form: in how many seconds, counted when its error was met, a post
 * of the same form writes again (ADR 0399). Kept beside the error, not in it: a give-up's error is
 * the write's own (Atlassian's), not the claims' to change. A post refused within the hold carries
 * it on its own error (WriteUnconfirmedError.retryAfterSeconds, ADR 0405).
 */
const heldSeconds = new WeakMap<object, number>();

/**
 * In how many seconds a post of the same form may write again, after `err`: the hold's 30 s when `err`
 * is a give-up whose claim now says so, what is left of it for a post refused within it; undefined when
 * no such time is known (no claim was left, the store failed to write it, a form kept for its life, a
 * look that failed past the hold). Its page says it, and its Retry-After.
 */
export function heldForSeconds(err: unknown): number | undefined {
  if (err instanceof WriteUnconfirmedError) return err.retryAfterSeconds;
  return typeof err === 'object' && err !== null ? heldSeconds.get(err) : undefined;
}

/** Whole seconds, rounded up, in `ms`; undefined for no time left. */
function secondsLeft(ms: number): number | undefined {
  return ms > 0 ? Math.ceil(ms / 1000) : undefined;
}

export interface WriteClaimOptions {
  /**
   * How long a claim outlives a holder that died, and how long a finished write's outcome is kept
   * for a post still waiting on it. Longer than any one write takes.
   */
  holdSeconds: number;
  /** The longest a second post waits for the first; then it answers PORTAL_WRITE_IN_PROGRESS. */
  waitMs: number;
  /** How often a waiting post reads the claim. */
  pollMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * The same form is still being written by an earlier post, past the wait bound (409). `retryAfterSeconds`:
 * within how long that post's claim is over at the latest, its outcome kept or its claim lapsed (ADR 0401).
 */
export class WriteInProgressError extends JsmSsoError {
  constructor(readonly retryAfterSeconds: number) {
    super('PORTAL_WRITE_IN_PROGRESS', 'the same form is still being sent by an earlier post', {
      status: 409,
    });
    this.name = 'WriteInProgressError';
  }
}

/**
 * An earlier post of the same form gave up on a write that may have been made after all, and its
 * look-up may not show it yet: this post writes nothing (502); the customer checks My requests.
 * `retryAfterSeconds`: within how long a post of the same form writes again, what is left of the
 * hold; undefined when no time is known (a form kept for its life, a look that failed past the hold).
 */
export class WriteUnconfirmedError extends JsmSsoError {
  /** `cause`: why the look for the earlier post's write failed, when it did. */
  constructor(
    readonly retryAfterSeconds: number | undefined,
    cause?: unknown,
  ) {
    super('PORTAL_WRITE_UNCONFIRMED', 'an earlier post of the same form may have written it', {
      status: 502,
      ...(cause === undefined ? {} : { cause }),
    });
    this.name = 'WriteUnconfirmedError';
  }
}

/** How a post of the same form looks for what an earlier post wrote (portal/write-once.ts). */
export interface ClaimLooks<T> {
  /**
   * Looks for the write; when a holder gives up, a waiting post looks again before it writes in its
   * turn (a holder that timed out may have written after all).
   */
  find?: () => Promise<T | undefined>;
  /**
   * Whether the holder's failure may have written what `find` cannot see yet (its look lags, or the
   * write is still under way at Atlassian): then posts of the same form write nothing for a while
   * (WriteUnconfirmedError), unless `confirm` finds it.
   */
  mayHaveWritten?: (err: unknown) => boolean;
  /** A look that sees a write the moment it is made, where `find` may lag; costlier. */
  confirm?: () => Promise<T | undefined>;
  /**
   * For a write with nothing to find it by (no `find`, no `confirm`): how long its claim keeps its
   * outcome, the write made or a give-up that may have made it, instead of the hold and the 10
   * minutes. A post of the same form meanwhile lands on the write, or after such a give-up writes
   * nothing however late it comes, not only for 30 s: nothing could tell it the write was not
   * made (a step offered again from where it leads, ADR 0288).
   */
  keepSeconds?: number;
  /**
   * When the form that carries the write was made (epoch ms). A post that finds no claim of its form
   * while the form is older than a claim lives may come after one that gave up, its mark since gone
   * (its 10 minutes over, or lost by the store): `confirm` looks before it writes, as it would for
   * the mark (ADR 0435). A younger form cannot have lost a claim: it writes on `find` alone. Absent,
   * the form is taken as young (a write `find` sees at once).
   */
  formMadeAt?: number;
}

export class WriteClaims {
  readonly #store: FlowStore;
  readonly #options: Required<WriteClaimOptions>;

  constructor(store: FlowStore, options: WriteClaimOptions) {
    this.#store = store;
    this.#options = { pollMs: 200, sleep: sleepMs, ...options };
  }

  /**
   * Runs `write` under the claim of `scope` (what is written, and the form's write key), or returns
   * the outcome of the post that holds it, as `existed`. The caller has looked for the write.
   * A holder that gave up on a write that may have been made leaves that in the claim: a post of the
   * same form then lands on the write if `confirm` finds it; else it writes nothing for the first
   * 30 s (the write may still be under way) and writes in its turn after them (never, for a write
   * kept: `keepSeconds`). Before ADR 0240 it wrote after 30 s on `find` alone, which a lagging
   * search left blind: a second request. A post of a form older than a claim lives that finds none
   * looks with `confirm` before it writes: the claim may have been lost (`formMadeAt`, ADR 0435).
   */
  async once<T>(
    scope: string,
    write: () => Promise<WriteOutcome<T>>,
    looks: ClaimLooks<T> = {},
  ): Promise<WriteOutcome<T>> {
    const { find, mayHaveWritten, confirm, keepSeconds, formMadeAt } = looks;
    const { holdSeconds, waitMs, pollMs, sleep } = this.#options;
    // One hash tag for every claim: they share the store's witness of lost claims (FlowStore.claim).
    const key = `write:{claims}:${scope}`;
    const deadline = Date.now() + waitMs;
    // The caller has looked; so has a post that confirmed an earlier give-up wrote nothing.
    let lookFirst = false;
    // Whether `confirm` looks before this post writes: its form may have lost a claim (ADR 0435).
    let confirmFirst = confirm !== undefined && this.#mayHaveLostAClaim(formMadeAt);
    for (;;) {
      if (lookFirst) {
        const found = await find?.();
        if (found !== undefined) return { value: found, existed: true };
      }
      lookFirst = true;
      // A store that may have lost another post's claim refuses (503): better no write than two.
      if (await this.#store.claim(key, PENDING, holdSeconds)) {
        let outcome: WriteOutcome<T>;
        try {
          const earlier = confirmFirst ? await this.#madeBefore(confirm) : undefined;
          outcome = earlier === undefined ? await write() : { value: earlier, existed: true };
        } catch (err) {
          // Given up: a post waiting meanwhile looks again and writes in its turn, unless the write
          // may have been made where the look cannot see it yet. The write's error is the one to
          // answer; a claim the store failed to drop expires.
          if (!mayHaveWritten?.(err)) {
            await this.#store.delete(key).catch(() => undefined);
            throw err;
          }
          const held = await this.#store
            .put(key, `${UNCONFIRMED}:${Date.now()}`, Math.max(UNCONFIRMED_SECONDS, keepSeconds ?? 0))
            .then(
              () => true,
              () => false,
            );
          // Said only when the claim says it: a form kept for its life is never sent again.
          if (held && keepSeconds === undefined && typeof err === 'object' && err !== null)
            heldSeconds.set(err, UNCONFIRMED_REFUSED_MS / 1000);
          throw err;
        }
        // Written: a post waiting meanwhile lands on it. If the store fails now, the write still
        // stands (a later post finds it by its key once the claim expires).
        await this.#store
          .put(key, JSON.stringify({ value: outcome.value }), Math.max(holdSeconds, keepSeconds ?? 0))
          .catch(() => undefined);
        return outcome;
      }
      // Held by another post: wait for its outcome, or for its claim to go (it failed, or died
      // and the claim expired), then look and claim in turn. Its claim was taken before now, for
      // holdSeconds: it is over by then at the latest, which a post that waited in vain says (ADR 0401).
      const heldUntil = Date.now() + holdSeconds * 1000;
      for (;;) {
        const held = await this.#store.get(key);
        if (held === undefined) break;
        if (held === UNCONFIRMED || held.startsWith(`${UNCONFIRMED}:`)) {
          const earlier = await this.#afterGiveUp<T>(key, held, confirm, keepSeconds !== undefined);
          if (earlier) return earlier;
          lookFirst = !confirm;
          confirmFirst = false;
          break;
        }
        if (held !== PENDING) return { value: (JSON.parse(held) as { value: T }).value, existed: true };
        if (Date.now() + pollMs > deadline)
          throw new WriteInProgressError(Math.max(1, Math.ceil((heldUntil - Date.now()) / 1000)));
        await sleep(pollMs);
      }
    }
  }

  /** Whether a form made at `formMadeAt` is older than a claim lives: a claim it had may be gone. */
  #mayHaveLostAClaim(formMadeAt: number | undefined): boolean {
    if (formMadeAt === undefined) return false;
    const age = Date.now() - formMadeAt;
    return age < -CLOCK_SKEW_MS || age >= this.#options.holdSeconds * 1000 - CLOCK_SKEW_MS;
  }

  /**
   * `confirm`, under a fresh claim of a form that may have lost one: the write an earlier post made.
   * A look that fails tells nothing and this post writes, as it did on `find` alone before ADR 0435:
   * refusing would keep every such form out while the look is down, for a write that was most likely
   * never sent (a form old only because its customer took her time over it).
   */
  async #madeBefore<T>(confirm: (() => Promise<T | undefined>) | undefined): Promise<T | undefined> {
    return confirm?.().catch(() => undefined);
  }

  /**
   * A post of the same form after a holder gave up on a write that may have been made (`held`, its
   * mark): the write, when `confirm` finds it; WriteUnconfirmedError within 30 s of the give-up (the
   * write may still be under way), when the look itself failed (nothing is known: better no write
   * than two), or at any time for a `kept` give-up; else undefined, the mark removed unless another
   * post has claimed the key meanwhile, and this post writes in its turn.
   */
  async #afterGiveUp<T>(
    key: string,
    held: string,
    confirm: (() => Promise<T | undefined>) | undefined,
    kept: boolean,
  ): Promise<WriteOutcome<T> | undefined> {
    const since = Number(held.slice(UNCONFIRMED.length + 1)) || Date.now();
    /** What is left of the hold (none for a form kept for its life), as the refusal says it. */
    const refused = (cause?: unknown) =>
      new WriteUnconfirmedError(
        kept ? undefined : secondsLeft(since + UNCONFIRMED_REFUSED_MS - Date.now()),
        cause,
      );
    const found = await confirm?.().catch((err: unknown) => {
      throw refused(err);
    });
    if (found !== undefined) return { value: found, existed: true };
    if (kept || Date.now() - since < UNCONFIRMED_REFUSED_MS) throw refused();
    await this.#store.deleteHolding([key], held);
    return undefined;
  }
}
