import { expect } from 'chai';
import { signInCalls } from '../../broker/backends/sign-in-calls.js';

/**
 * The IdP fetch that cuts a sign-in's own calls at its budget (ADR 0283), knowing a call by what it
 * alone sends. The IdP here is a fetch that keeps the signal each request went with, and never answers.
 */
function recordingIdp() {
  const sent: { url: string; signal: AbortSignal | undefined }[] = [];
  const fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
    sent.push({ url: String(input), signal: init?.signal ?? undefined });
    return new Promise<Response>(() => undefined);
  }) as typeof globalThis.fetch;
  return { fetch, sent };
}

/** The token request as oauth4webapi makes it: the parameters as URLSearchParams, the client in Basic. */
const tokenRequest = (codeVerifier: string, signal: AbortSignal): RequestInit => ({
  method: 'POST',
  body: new URLSearchParams({ grant_type: 'authorization_code', code: 'c', code_verifier: codeVerifier }),
  headers: { authorization: 'Basic Y2xpZW50OnNlY3JldA==' },
  signal,
});

const verifierA = 'a'.repeat(43);

describe('broker: the calls a sign-in alone makes are cut at its budget', () => {
  it("cuts the token request by its PKCE verifier and the userinfo request by its access token, each with its own sign-in's budget", () => {
    const idp = recordingIdp();
    const calls = signInCalls(idp.fetch);
    const [budgetA, budgetB] = [new AbortController(), new AbortController()];
    const own = new AbortController().signal;
    calls.cutWith({ codeVerifier: verifierA }, budgetA.signal, () =>
      calls.fetch('https://idp.test/token', tokenRequest(verifierA, own)),
    );
    calls.cutWith({ accessToken: 'token-b' }, budgetB.signal, () =>
      calls.fetch('https://idp.test/me', { headers: { authorization: 'Bearer token-b' }, signal: own }),
    );
    budgetA.abort(new Error('budget A'));
    const [token, userinfo] = idp.sent;
    expect(token!.signal!.aborted).to.equal(true);
    expect(token!.signal!.reason).to.have.property('message', 'budget A');
    expect(userinfo!.signal!.aborted).to.equal(false);
    budgetB.abort(new Error('budget B'));
    expect(userinfo!.signal!.reason).to.have.property('message', 'budget B');
  });

  it('never cuts a read other sign-ins share (discovery sends no mark), nor a call by the budget of another call sending its mark', () => {
    const idp = recordingIdp();
    const calls = signInCalls(idp.fetch);
    const budget = new AbortController();
    const own = new AbortController().signal;
    calls.cutWith({ codeVerifier: verifierA }, budget.signal, () => {
      calls.fetch('https://idp.test/.well-known', { method: 'GET', signal: own });
      return calls.fetch('https://idp.test/token', tokenRequest(verifierA, own));
    });
    // Two sign-ins given one access token by the IdP: the first's request, sent before the second
    // began, is cut by its own budget; the second's is not cut by the first's.
    const other = new AbortController();
    for (const budgetOf of [budget, other])
      calls.cutWith({ accessToken: 'shared' }, budgetOf.signal, () =>
        calls.fetch('https://idp.test/me', { headers: { authorization: 'Bearer shared' }, signal: own }),
      );
    budget.abort(new Error('budget'));
    expect(idp.sent.map((request) => request.url.split('/').pop())).to.deep.equal([
      '.well-known',
      'token',
      'me',
      'me',
    ]);
    expect(idp.sent.map((request) => request.signal!.aborted)).to.deep.equal([false, true, true, false]);
  });
});
