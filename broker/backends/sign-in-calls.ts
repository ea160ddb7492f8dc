import { authorizationPresenting } from './oidc-signed-userinfo.js';

/**
 * What a sign-in's own call to its IdP sends that no other call does: the token request its PKCE
 * verifier (`code_verifier`, made by the broker for each sign-in), a userinfo or user endpoint
 * request its access token (`Authorization: Bearer`).
 */
export type SignInCallMark = { codeVerifier: string } | { accessToken: string };

/**
 * One IdP's fetch for openid-client, which cuts a sign-in's own call when the sign-in's budget runs
 * out (ADR 0283), and the runner of those calls (`cutWith`). openid-client 6 gives each request only
 * the signal of its configuration's `timeout`: its grant and userinfo functions take none from the
 * caller, and its fetch hook is the configuration's, shared by every sign-in with the IdP. So the
 * request is known in the hook by what it alone sends (as the signed userinfo keeper knows its
 * call, ADR 0203), and goes with the budget's signal as well as its own. A request that sends no
 * mark (discovery; the JWKS has its own fetch) is a read other sign-ins share: it is never cut.
 */
export interface SignInCalls {
  fetch: typeof globalThis.fetch;
  /** Runs `call`, whose request to the IdP sends `mark`; that request is cut when `signal` aborts. */
  cutWith<T>(mark: SignInCallMark, signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T>;
}

export function signInCalls(fetchImpl: typeof globalThis.fetch): SignInCalls {
  /**
   * By the mark the request sends: the verifier, or the Authorization header value; null while two
   * calls send it (two flows given one token, which RFC 6749 10.10 rules out): neither is cut by the
   * other's budget, each keeps its own deadline, as before.
   */
  const budgets = new Map<string, AbortSignal | null>();
  return {
    fetch(input, init) {
      if (budgets.size === 0 || !init) return fetchImpl(input, init);
      const budget = budgets.get(markSent(init));
      if (!budget) return fetchImpl(input, init);
      const own = init.signal;
      if (!own) return fetchImpl(input, { ...init, signal: budget });
      // Either signal cuts the request. Two listeners, not AbortSignal.any: about 2 µs of CPU a call
      // against about 8 µs (its weak references, and collecting them), measured.
      const either = new AbortController();
      const cut = function (this: AbortSignal) {
        either.abort(this.reason);
      };
      if (own.aborted || budget.aborted) either.abort(own.aborted ? own.reason : budget.reason);
      own.addEventListener('abort', cut, { once: true });
      budget.addEventListener('abort', cut, { once: true });
      return fetchImpl(input, { ...init, signal: either.signal }).finally(() => {
        own.removeEventListener('abort', cut);
        budget.removeEventListener('abort', cut);
      });
    },
    async cutWith(mark, signal, call) {
      const key = signal && keyOf(mark);
      if (!key) return call();
      if (budgets.has(key)) {
        budgets.set(key, null);
        return call();
      }
      budgets.set(key, signal);
      try {
        return await call();
      } finally {
        budgets.delete(key);
      }
    },
  };
}

/** Undefined for a token no header can hold: its request fails as it sets the header. */
function keyOf(mark: SignInCallMark): string | undefined {
  return 'codeVerifier' in mark ? mark.codeVerifier : authorizationPresenting(mark.accessToken);
}

/**
 * The mark a request sends: oauth4webapi sends a token request's parameters as URLSearchParams; a
 * verifier never holds a space, an Authorization value always does, so the two never meet.
 */
function markSent(init: RequestInit): string {
  const { body, headers } = init;
  if (body instanceof URLSearchParams) return body.get('code_verifier') ?? '';
  // openid-client hands its fetch a record of lower-case names (its CustomFetchOptions), read as it
  // is: a Headers made of it costs about 2 µs a call.
  if (headers && !(headers instanceof Headers) && !Array.isArray(headers))
    return headers['authorization'] ?? '';
  return new Headers(headers).get('authorization') ?? '';
}
