// testkit/sentinel.ts's failOver with real redis-server and redis-sentinel processes: a failover the
// sentinel gives up (the machine stalled past its failover timeout, as a loaded 2-core run can) leaves
// the roles as they were, and the fault tests that fail over must not fail for it.
import { expect } from 'chai';
import { Redis } from 'ioredis';
import {
  startLocalRedis,
  startLocalReplica,
  startLocalSentinel,
  stoppedAfterEach,
  whileStalled,
} from '../../testkit/local-redis.js';
import { failOver, untilPromotable } from '../../testkit/sentinel.js';

describe('testkit: a Sentinel failover the sentinel gave up is asked again (real redis-server and sentinel)', function () {
  this.timeout(90_000);
  const { started, stops } = stoppedAfterEach();

  it('swaps the roles though the sentinel aborted the first failover: the replica stalled past the failover timeout', async () => {
    const master = await started(startLocalRedis());
    const replica = await started(startLocalReplica(master.port));
    const sentinel = await started(startLocalSentinel({ masterPort: master.port, name: 'stalling' }));
    await untilPromotable(sentinel, 'stalling', replica);
    // The sentinel tells every step of a failover on its own channels, `-failover-abort-*` when it gives up.
    const events = new Redis(sentinel.port, '127.0.0.1');
    stops.push(async () => events.disconnect());
    const aborted = new Promise<string>((resolve) => events.on('pmessage', (_, channel) => resolve(channel)));
    await events.psubscribe('-failover-abort-*');
    const { failingOver, first } = await whileStalled(replica, async () => {
      // Stalled a moment ago, the replica still looks promotable: the failover starts, the sentinel
      // tells it to become master, and gives up when it has not within the failover timeout.
      const failingOver = failOver(sentinel, 'stalling', master, replica).then(
        () => 'swapped',
        (err: Error) => err.message,
      );
      return { failingOver, first: await Promise.race([aborted, failingOver]) };
    });
    expect(first).to.match(/^-failover-abort-/);
    // Red before: the failover was asked for once, and the roles never swapped within the budget.
    expect(await failingOver).to.equal('swapped');
  });
});
