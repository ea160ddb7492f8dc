import { getEventListeners } from 'node:events';
import { expect } from 'chai';
import { KubeClient } from '../../common/kube/client.js';
import { collectionPath, KINDS } from '../../operator/kube/kinds.js';
import { type Envtest, envtest, freshNamespace } from '../../testkit/envtest.js';
import { timersLeftBy } from '../../testkit/pending-timers.js';

/**
 * Every request to the API server is bounded by a deadline (leader-unreachable.test.ts shows it
 * cut). Once the answer is read the deadline must be gone: a timer left to run out kept every
 * call's abort signal alive after it, which cost the operator CPU on every call (ADR 0156). Timers
 * are watched through async_hooks, as Node reports them: one created and neither fired nor cleared
 * is still pending. Only the deadline's own count: undici's keep-alive clock and whatever else runs in
 * the process may start a timer during a call, and once did.
 */
describe('a kube request’s deadline', function () {
  this.timeout(30_000);
  let env: Envtest;
  let namespace: string;

  before(async () => {
    env = await envtest();
    namespace = await freshNamespace(env.client, 'deadline');
  });

  for (const [what, call] of [
    ['a read', (client: KubeClient) => client.list(collectionPath(KINDS.configMap, namespace))],
    [
      'a write',
      (client: KubeClient) =>
        client.create(collectionPath(KINDS.configMap, namespace), {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { generateName: 'deadline-' },
        }),
    ],
    [
      'an error answer',
      (client: KubeClient) =>
        client.request('GET', `${collectionPath(KINDS.configMap, namespace)}/absent`).catch(() => undefined),
    ],
    [
      'a request with a caller’s signal',
      (client: KubeClient) =>
        client.get(`${collectionPath(KINDS.configMap, namespace)}/absent`, {
          signal: new AbortController().signal,
        }),
    ],
  ] as const) {
    it(`${what} leaves no timer pending once answered`, async () => {
      const client = new KubeClient(env.kubeConfig);
      try {
        // The first call also reads credentials and opens the connection: not what is measured.
        await client.list(collectionPath(KINDS.configMap, namespace));
        expect(await timersLeftBy(() => call(client), '/common/exchange-signal.ts')).to.equal(0);
      } finally {
        client.close();
      }
    });
  }

  it('neither the caller’s signal nor the client’s keeps a listener of a request once answered', async () => {
    // The client's signal (the operator's stop) and a lease attempt's deadline outlive many
    // requests: a listener per request would pile up on them.
    const lifetime = new AbortController().signal;
    const client = new KubeClient(env.kubeConfig, { signal: lifetime });
    const caller = new AbortController().signal;
    try {
      await client.get(`${collectionPath(KINDS.configMap, namespace)}/absent`, { signal: caller });
      await client.list(collectionPath(KINDS.configMap, namespace));
      expect(getEventListeners(caller, 'abort'), 'the caller’s').to.have.length(0);
      expect(getEventListeners(lifetime, 'abort'), 'the client’s').to.have.length(0);
    } finally {
      client.close();
    }
  });
});
