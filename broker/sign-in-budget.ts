import { JsmSsoError } from '../common/errors.js';

/**
 * One deadline for all the IdP work of one sign-in's callback (ADR 0276), as the portal has one per
 * page for its Atlassian calls (ADR 0185). Each call has its own deadline (IDP_TIMEOUT_MS, ADR
 * 0142), but the callback makes them one after another (OIDC: discovery if not yet read, the token
 * call, a JWKS read when the copy is due or a key unknown, userinfo; plain OAuth 2.0: the token call
 * and the user endpoint; SAML: a metadata read when no copy may serve, another after a signature
 * failure), so an IdP answering each just within it held the person's browser, and a request slot of
 * a pool process, for several deadlines.
 *
 * The backend runs each of its steps through `within`: a step not yet started when the budget has run
 * out is not started, and the sign-in stops waiting for one under way when it runs out. The budget is
 * passed, not carried by an AsyncLocalStorage (the broker turns on no promise hook, ADR 0203): a call
 * the sign-in alone makes (the token call, userinfo) is cut with `signal` (its fetch told it by what
 * the call sends, ADR 0283), its connection closed. A read shared with other sign-ins (discovery, a
 * key copy) goes on for them. Its default, SIGN_IN_BUDGET_MS, is set with the other bounds of a
 * request's time (common/http/request-time.ts).
 */

export interface SignInBudget {
  /**
   * Runs `step` if the budget has not run out, and waits for it until it does; then refuses with
   * IDP_SIGN_IN_TIMEOUT.
   */
  within<T>(step: () => Promise<T>): Promise<T>;
  /** Aborted when the budget runs out: for the calls the sign-in alone waits for (ADR 0283). */
  signal?: AbortSignal;
}

/** The refusal of a sign-in whose budget ran out: every call answered in its time, the sign-in did not. */
function signInTimedOut(): JsmSsoError {
  return new JsmSsoError(
    'IDP_SIGN_IN_TIMEOUT',
    'the identity provider took too long to complete the sign-in',
    {
      status: 502,
    },
  );
}

/** A budget of `budgetMs` from now; `release` once the sign-in's IdP work is over. */
export function signInBudget(budgetMs: number): SignInBudget & { release(): void } {
  const ran = new AbortController();
  const timer = setTimeout(() => ran.abort(signInTimedOut()), budgetMs);
  const out = ran.signal;
  return {
    within(step) {
      if (out.aborted) return Promise.reject(out.reason);
      const running = step();
      return new Promise((resolve, reject) => {
        const stop = () => reject(out.reason);
        out.addEventListener('abort', stop, { once: true });
        running.then(
          (value) => {
            out.removeEventListener('abort', stop);
            resolve(value);
          },
          (err: unknown) => {
            out.removeEventListener('abort', stop);
            reject(err);
          },
        );
      });
    },
    signal: out,
    release: () => clearTimeout(timer),
  };
}

/** No budget: for a backend driven outside a sign-in's callback (its own tests). */
export const UNBOUNDED: SignInBudget = { within: (step) => step() };
