// Redis replicates asynchronously: a one-time marker the master acknowledged but had not yet sent to
// its replica is gone when Sentinel promotes that replica. Real redis-server and redis-sentinel; the
// replica replicates through a TCP relay the test holds, so "written on the master, not on the
// replica" is certain rather than a race.
import { spawnSync } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { expect } from 'chai';
import { parseRedisAddress } from '../../common/flowstore/redis-address.js';
import { RedisFlowStore } from '../../common/flowstore/redis-store.js';
import { useOnce } from '../../common/saml/checks.js';
import { eventually } from '../../testkit/envtest.js';
import { startLocalRedis, startLocalSentinel, stoppedAfterEach } from '../../testkit/local-redis.js';
import { answering } from '../../testkit/redis.js';
import { failOver, untilPromotable } from '../../testkit/sentinel.js';

const cli = (port: number, ...args: string[]) =>
  spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout.trim();

/** A relay from the replica to its master whose master-to-replica direction can be held (nothing passes, the link stays up). */
async function replicationRelay(masterPort: number) {
  const sockets: Socket[] = [];
  let held = false;
  const server = createServer((replica) => {
    const master = connect(masterPort, '127.0.0.1');
    sockets.push(replica, master);
    replica.pipe(master);
    master.on('data', (chunk: Buffer) => {
      if (!held) replica.write(chunk);
    });
    for (const socket of [replica, master])
      socket
        .on('error', () => {})
        .on('close', () => {
          replica.destroy();
          master.destroy();
        });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    hold: () => {
      held = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('faults: one-time markers across a Sentinel failover (real redis-server and sentinel)', function () {
  this.timeout(90_000);
  const { started, stops } = stoppedAfterEach();

  /** A master, its replica (through a relay), a sentinel that can promote the replica, and a store on the sentinel. */
  async function sentinelGroup(name: string) {
    const master = await started(startLocalRedis());
    const replica = await started(startLocalRedis(['--replicaof', '127.0.0.1', '0']));
    const relay = await replicationRelay(master.port);
    stops.push(() => relay.close());
    expect(cli(replica.port, 'replicaof', '127.0.0.1', String(relay.port))).to.equal('OK');
    await eventually(
      async () => cli(replica.port, 'info', 'replication').includes('master_link_status:up'),
      'the replica in sync',
      10_000,
    );
    const sentinel = await started(startLocalSentinel({ masterPort: master.port, name }));
    await untilPromotable(sentinel, name, replica);
    const store = await answering(RedisFlowStore.open(parseRedisAddress(sentinel.url), 'markers'));
    stops.push(() => store.close());
    const failover = async () => {
      await failOver(sentinel, name, master, replica);
      // Until the old master has synced from the new one, no replica can acknowledge a marker.
      await eventually(
        async () => cli(master.port, 'info', 'replication').includes('master_link_status:up'),
        'the old master a replica in sync',
        20_000,
      );
      // Until a replica acknowledges a fresh marker: the new pair's link is at work. Each probe is its
      // own key, so one refused while the link warms up leaves nothing another probe meets.
      let probe = 0;
      await eventually(
        () =>
          store.putIfAbsent(`probe:${probe++}`, '1', 60).then(
            () => true,
            () => false,
          ),
        'a marker acknowledged by the new replica',
        20_000,
      );
    };
    return { store, relay, replica, failover };
  }

  it('does not accept a SAML assertion again after a failover to a replica its replay marker had not reached', async () => {
    const { store, relay, failover } = await sentinelGroup('assertions');
    await useOnce(store, 'assertion', 'https://idp.example', '_first', 300);
    relay.hold();
    const use = () =>
      useOnce(store, 'assertion', 'https://idp.example', '_captured', 300).then(
        () => 'accepted',
        (e: unknown) => (e as { code?: string }).code,
      );
    const first = await use();
    await failover();
    // The captured Response posted again: at most one of the two uses may sign anyone in. The
    // first is refused, since no replica holds its marker.
    // Accepted as a new one (its marker was lost with the old master) or, should the replica lag past
    // 200 ms on a loaded machine, refused too; never accepted twice (red before: both accepted).
    const replayed = await use();
    expect(first).to.equal('FLOW_STORE_NOT_REPLICATED');
    expect(replayed).to.be.oneOf(['accepted', 'FLOW_STORE_NOT_REPLICATED']);
    // A marker the replica acknowledged survives the failover.
    expect(
      await useOnce(store, 'assertion', 'https://idp.example', '_first', 300).then(
        () => 'accepted',
        (e: unknown) => (e as { code?: string }).code,
      ),
    ).to.equal('SAML_REPLAY');
  });

  it('does not hand out a flow twice after a failover to a replica its take had not reached', async () => {
    const { store, relay, replica, failover } = await sentinelGroup('flows');
    await store.put('flow:1', 'the flow', 60);
    await eventually(
      async () => cli(replica.port, 'get', 'jsm-sso:markers:flow:1') === 'the flow',
      'the flow on the replica',
      10_000,
    );
    relay.hold();
    const taken = await store.take('flow:1').then(
      (value) => value,
      (e: unknown) => (e as { code?: string }).code,
    );
    // Taken on the master, the replica still holding it: refused, not handed to this request.
    expect(taken).to.equal('FLOW_STORE_NOT_REPLICATED');
    await failover();
    // The flow is back on the promoted replica; at most one request of the two was given it (the
    // second refused too, should the replica lag past 200 ms on a loaded machine).
    expect(
      await store.take('flow:1').then(
        (value) => value,
        (e: unknown) => (e as { code?: string }).code,
      ),
    ).to.be.oneOf(['the flow', 'FLOW_STORE_NOT_REPLICATED']);
  });
});
