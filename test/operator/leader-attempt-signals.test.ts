import { setImmediate as turn } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect } from 'chai';
import type { KubeClient } from '../../common/kube/client.js';
import { createLogger } from '../../common/log.js';
import { LeaderElector } from '../../operator/leader.js';
import { eventually } from '../../testkit/envtest.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * A standby tries for the lease every retry period for as long as it runs (days), and a leader renews
 * it as often: each attempt's signal must be gone once the attempt is, whatever the client does with
 * it. One made by `AbortSignal.any` over the elector's lifetime signal, with an `AbortSignal.timeout`
 * deadline, is kept by Node 22 for as long as the elector lives when nothing ever listened to it
 * (about 1.8 kB an attempt, some 80 MB a day at the default 2 s retry period): the elector was safe
 * only because KubeClient happens to listen and stop listening (ADR 0443). The client here answers at
 * once, never touching the signal, with a lease another replica holds.
 */
describe("the leader elector's attempts leave nothing behind", function () {
  this.timeout(60_000);
  const ATTEMPTS = 200;

  it('lets the signal of every attempt that ended be collected, even one no client listened to', async () => {
    const signals: WeakRef<AbortSignal>[] = [];
    const apiServerIgnoringSignals = {
      get: async (path: string, { signal }: { signal?: AbortSignal }) => {
        signals.push(new WeakRef(signal!));
        await turn();
        return {
          metadata: { name: path.split('/').pop(), namespace: 'operator', resourceVersion: '1' },
          spec: { holderIdentity: 'leader', leaseDurationSeconds: 15, renewTime: new Date().toISOString() },
        };
      },
    } as unknown as KubeClient;
    const elector = new LeaderElector({
      client: apiServerIgnoringSignals,
      namespace: 'operator',
      name: 'jsm-sso-operator',
      identity: 'standby',
      logger: createLogger({ component: 'operator', level: 'silent' }),
      renewDeadlineMs: 60_000,
      retryPeriodMs: 1,
    });
    const acquired = elector.acquire();
    await eventually(async () => signals.length >= ATTEMPTS, `${ATTEMPTS} attempts`);
    // Stops the loop; the release reads the lease once more, finds it another's and writes nothing.
    await elector.release(1);
    expect(await acquired).to.equal(false);

    // Collected once the collector has run: none is held by the elector's lifetime signal.
    let alive = signals.length;
    await eventually(
      async () => {
        await turn();
        gc();
        await turn();
        alive = signals.filter((ref) => ref.deref() !== undefined).length;
        return alive === 0;
      },
      "every ended attempt's signal collected",
      10_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${alive} of ${signals.length} still alive`);
    });
  });
});
