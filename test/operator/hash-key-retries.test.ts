// What the operator's start asks the API server again for its hash key, and what ends the start
// (ADR 0332, ADR 0337): only a failure of the way to the API server is waited out. A programming
// error is no fault a real part makes on demand, so the client here throws the errors such a bug
// throws; the waits on a real API server are test/operator/start-failures.test.ts's.
import { expect } from 'chai';
import { ApiError, type KubeClient } from '../../common/kube/client.js';
import { HASH_KEY_DATA_KEY, HashKeyError, loadHashKeyWhenReachable } from '../../operator/hash-key.js';
import { capturedLogger } from '../../testkit/captured-logs.js';

/** The error `bug` throws, as the runtime makes it. */
function thrownBy(bug: () => unknown): Error {
  try {
    bug();
  } catch (err) {
    return err as Error;
  }
  throw new Error('the bug threw nothing');
}

describe('operator: the hash key read at start retries only what the way to the API server failed', () => {
  const where = { namespace: 'jsm-sso', name: 'jsm-sso-operator-hash-key' };

  for (const [what, bug] of [
    ['a TypeError of its own', () => (undefined as unknown as { metadata: unknown }).metadata],
    [
      "a misuse of Node's API (a TypeError with code ERR_INVALID_ARG_TYPE)",
      () => Buffer.from(undefined as never),
    ],
    ['an answer that is no JSON (SyntaxError)', () => JSON.parse('<html>')],
  ] as const) {
    it(`ends the start with ${what}, asked once and no wait logged`, async () => {
      const thrown = thrownBy(bug);
      let asked = 0;
      const client = {
        get: async () => {
          asked++;
          // A second attempt is the defect: ended here, so that the test does not wait for ever.
          throw asked === 1 ? thrown : new HashKeyError('asked again');
        },
      } as unknown as KubeClient;
      const { logger, logs } = capturedLogger({ component: 'operator' });
      const ended = await loadHashKeyWhenReachable(client, where, logger).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(ended).to.equal(thrown);
      expect(asked).to.equal(1);
      expect(logs.filter((line) => line['level'] === 'warn')).to.deep.equal([]);
    });
  }

  it('asks again after each failure of the way to the API server, each wait logged with its code', async () => {
    const key = Buffer.alloc(32, 7);
    // As Node and the client throw them: a connection reset, the request's deadline, the API server's own failure.
    const failures: unknown[] = [
      Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      new DOMException('no answer within 70000 ms', 'TimeoutError'),
      new ApiError(503, 'ServiceUnavailable', 'GET /api/v1/…: 503 ServiceUnavailable'),
    ];
    const client = {
      get: async () => {
        const failure = failures.shift();
        if (failure) throw failure;
        return { metadata: where, data: { [HASH_KEY_DATA_KEY]: key.toString('base64') } };
      },
    } as unknown as KubeClient;
    const { logger, logs } = capturedLogger({ component: 'operator' });
    expect(await loadHashKeyWhenReachable(client, where, logger)).to.deep.equal(key);
    expect(logs.map((line) => [line['event'], line['reason'], line['attempt']])).to.deep.equal([
      ['operator.api_unreachable', 'OPERATOR_API_UNREACHABLE', 1],
      ['operator.api_unreachable', 'OPERATOR_API_UNREACHABLE', 2],
      ['operator.api_unreachable', 'OPERATOR_API_UNREACHABLE', 3],
    ]);
  });
});
