import { expect } from 'chai';
import { signedUserinfoKeeper } from '../../broker/backends/oidc-signed-userinfo.js';

/**
 * The keeper that gives a userinfo call the JWT its own answer was (ADR 0198), knowing the call by
 * the access token it presents (ADR 0203). The IdP here is a fetch whose answers the test releases
 * in the order it chooses, as a network may deliver them.
 */
function heldIdp() {
  const waiting: { authorization: string; answer: (response: Response) => void }[] = [];
  const fetch = (async (_input: RequestInfo | URL, init?: RequestInit) => {
    const authorization = new Headers(init?.headers).get('authorization') ?? '';
    return new Promise<Response>((answer) => waiting.push({ authorization, answer }));
  }) as typeof globalThis.fetch;
  const jwtAnswer = (jwt: string) =>
    new Response(jwt, { headers: { 'content-type': 'application/jwt; charset=utf-8' } });
  /** Answers the request presenting `authorization`, once it has been sent. */
  const answer = async (authorization: string, response: Response) => {
    for (;;) {
      const index = waiting.findIndex((w) => w.authorization === authorization);
      if (index >= 0) return waiting.splice(index, 1)[0]!.answer(response);
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return { fetch, jwtAnswer, answer, waiting };
}

/** A userinfo request as openid-client makes it: the access token as a Bearer header, the body read. */
function userinfoRequest(fetch: typeof globalThis.fetch, accessToken: string) {
  return async () => {
    const response = await fetch('https://idp.test/userinfo', {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    return response.text();
  };
}

describe('broker: a userinfo answer is kept for the call it answers', () => {
  it('gives each of two calls under way its own JWT, whatever order the answers come in', async () => {
    const idp = heldIdp();
    const keeper = signedUserinfoKeeper(idp.fetch);
    const first = keeper.kept('token-a', userinfoRequest(keeper.fetch, 'token-a'));
    const second = keeper.kept('token-b', userinfoRequest(keeper.fetch, 'token-b'));
    await idp.answer('Bearer token-b', idp.jwtAnswer('jwt-for-b'));
    await idp.answer('Bearer token-a', idp.jwtAnswer('jwt-for-a'));
    expect(await first).to.deep.equal({ result: 'jwt-for-a', jwt: 'jwt-for-a' });
    expect(await second).to.deep.equal({ result: 'jwt-for-b', jwt: 'jwt-for-b' });
  });

  it('keeps a JSON answer as JSON (its numbers read again as written, ADR 0253), and nothing of an answer to a request that is no userinfo call', async () => {
    const idp = heldIdp();
    const keeper = signedUserinfoKeeper(idp.fetch);
    const call = keeper.kept('token-a', userinfoRequest(keeper.fetch, 'token-a'));
    // Another request to the IdP while the call is under way (a token request authenticates with Basic).
    const other = keeper.fetch('https://idp.test/token', {
      headers: { authorization: 'Basic Y2xpZW50OnNlY3JldA==' },
    });
    await idp.answer('Basic Y2xpZW50OnNlY3JldA==', idp.jwtAnswer('not-userinfo'));
    await idp.answer('Bearer token-a', Response.json({ sub: 'alice' }));
    await other;
    expect(await call).to.deep.equal({ result: '{"sub":"alice"}', json: '{"sub":"alice"}' });
  });

  it('runs two calls presenting the same access token one after the other, each with its own answer', async () => {
    const idp = heldIdp();
    const keeper = signedUserinfoKeeper(idp.fetch);
    const first = keeper.kept('same', userinfoRequest(keeper.fetch, 'same'));
    const second = keeper.kept('same', userinfoRequest(keeper.fetch, 'same'));
    while (idp.waiting.length === 0) await new Promise((resolve) => setImmediate(resolve));
    for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(idp.waiting.length, 'requests sent before the first answer').to.equal(1);
    await idp.answer('Bearer same', idp.jwtAnswer('first-answer'));
    expect(await first).to.deep.equal({ result: 'first-answer', jwt: 'first-answer' });
    // Only now is the second request sent: the first answer could not have been taken for it.
    await idp.answer('Bearer same', Response.json({ sub: 'bob' }));
    expect(await second).to.deep.equal({ result: '{"sub":"bob"}', json: '{"sub":"bob"}' });
    expect(idp.waiting).to.deep.equal([]);
  });

  it('lets a token no header can hold fail in the request itself, as it did (TypeError)', async () => {
    const idp = heldIdp();
    const keeper = signedUserinfoKeeper(idp.fetch);
    let error: unknown;
    try {
      await keeper.kept('bad\ntoken', userinfoRequest(keeper.fetch, 'bad\ntoken'));
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(TypeError);
    expect(idp.waiting).to.deep.equal([]);
  });

  it('leaves no unhandled rejection when a JWT answer breaks off mid-body and the call fails', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    // Mocha's own listener would report it against whichever test runs next: this test counts it.
    const mochaListeners = process.listeners('unhandledRejection');
    process.removeAllListeners('unhandledRejection');
    process.on('unhandledRejection', onUnhandled);
    try {
      const idp = heldIdp();
      const keeper = signedUserinfoKeeper(idp.fetch);
      const call = keeper.kept('token-a', userinfoRequest(keeper.fetch, 'token-a'));
      // The IdP's connection is reset after the first bytes of a signed answer.
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('eyJhbGciOi'));
          setImmediate(() => controller.error(new Error('socket reset mid-body')));
        },
      });
      await idp.answer(
        'Bearer token-a',
        new Response(body, { headers: { 'content-type': 'application/jwt' } }),
      );
      let error: unknown;
      try {
        await call;
      } catch (err) {
        error = err;
      }
      expect((error as Error | undefined)?.message).to.equal('socket reset mid-body');
      // Two turns for a rejection left unhandled to be reported.
      for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(unhandled, 'unhandled rejections (each would end the broker process)').to.deep.equal([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      for (const listener of mochaListeners) process.on('unhandledRejection', listener);
    }
  });
});
