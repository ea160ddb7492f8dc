// Redis changes roles under the store: a Sentinel failover promotes the replica and makes the old
// master its replica, and a server demoted by hand (or by a managed Redis) refuses writes with
// READONLY on connections that stay open. Real redis-server and redis-sentinel processes.
import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { FlowStoreUnavailableError } from '../../common/flowstore/index.js';
import { parseRedisAddress } from '../../common/flowstore/redis-address.js';
import { RedisFlowStore } from '../../common/flowstore/redis-store.js';
import { eventually } from '../../testkit/envtest.js';
import { startFaultProxy } from '../../testkit/fault-proxy.js';
import { startLocalRedis, startLocalSentinel, stoppedAfterEach } from '../../testkit/local-redis.js';
import { answering } from '../../testkit/redis.js';
import { failOver, untilPromotable } from '../../testkit/sentinel.js';

const cli = (port: number, ...args: string[]) =>
  spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout.trim();

describe('faults: Redis changes roles under the flow store (real redis-server and sentinel)', function () {
  this.timeout(60_000);
  const { started, stops } = stoppedAfterEach();

  it('answers FLOW_STORE_UNAVAILABLE (503) for a write to a master turned replica (READONLY), and writes again once it is master', async () => {
    const a = await started(startLocalRedis());
    const b = await started(startLocalRedis());
    const store = await answering(RedisFlowStore.open(parseRedisAddress(a.url), 'readonly'));
    stops.push(() => store.close());
    await store.put('flow:1', 'before', 60);
    // Demoted with the store's connection open, as a failover or a managed Redis does.
    expect(cli(a.port, 'replicaof', '127.0.0.1', String(b.port))).to.equal('OK');
    const refused = await store.put('flow:1', 'during', 60).catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(FlowStoreUnavailableError);
    expect([
      (refused as FlowStoreUnavailableError).code,
      (refused as FlowStoreUnavailableError).status,
    ]).to.deep.equal(['FLOW_STORE_UNAVAILABLE', 503]);
    expect(cli(a.port, 'replicaof', 'no', 'one')).to.equal('OK');
    await eventually(
      () =>
        store.put('flow:1', 'after', 60).then(
          () => true,
          () => false,
        ),
      'writes accepted again',
      10_000,
    );
    expect(await store.get('flow:1')).to.equal('after');
  });

  it('follows a primary endpoint that moves to the promoted replica (a managed Redis failover), not on failing READONLY at the old one', async () => {
    const old = await started(startLocalRedis());
    const promoted = await started(startLocalRedis());
    // The endpoint's name (a TCP proxy standing in for its DNS record) points at the old primary.
    const endpoint = await startFaultProxy();
    stops.push(() => endpoint.close());
    endpoint.target = { host: '127.0.0.1', port: old.port };
    const store = await answering(
      RedisFlowStore.open(parseRedisAddress(`redis://127.0.0.1:${new URL(endpoint.url).port}`), 'moved'),
    );
    stops.push(() => store.close());
    await store.put('flow:1', 'before', 60);
    // The failover: the old primary becomes a replica (its connections stay open), the name moves.
    expect(cli(old.port, 'replicaof', '127.0.0.1', String(promoted.port))).to.equal('OK');
    endpoint.target = { host: '127.0.0.1', port: promoted.port };
    await eventually(
      () =>
        store.put('flow:2', 'after', 60).then(
          () => true,
          () => false,
        ),
      'writes accepted at the promoted replica',
      10_000,
    );
    expect(cli(promoted.port, 'get', 'jsm-sso:moved:flow:2')).to.equal('after');
  });

  it('follows a Sentinel failover: writes go to the promoted replica, not on failing READONLY at the old master', async () => {
    const master = await started(startLocalRedis());
    const replica = await started(startLocalRedis(['--replicaof', '127.0.0.1', '0']));
    expect(cli(replica.port, 'replicaof', '127.0.0.1', String(master.port))).to.equal('OK');
    await eventually(
      async () => cli(replica.port, 'info', 'replication').includes('master_link_status:up'),
      'the replica in sync',
      10_000,
    );
    const sentinel = await started(startLocalSentinel({ masterPort: master.port, name: 'failing' }));
    await untilPromotable(sentinel, 'failing', replica);
    const store = await answering(RedisFlowStore.open(parseRedisAddress(sentinel.url), 'failover'));
    stops.push(() => store.close());
    await store.put('flow:1', 'before', 60);
    // Replication is asynchronous: a failover forced before the replica has the write would lose it,
    // which is Redis's own behaviour, not the store's (a race seen once with fast sentinel timers).
    await eventually(
      async () => cli(replica.port, 'get', 'jsm-sso:failover:flow:1') === 'before',
      'the write replicated',
      10_000,
    );

    await failOver(sentinel, 'failing', master, replica);
    // A write may fail while the store moves (503, never a hang); then writes land on the new master.
    await eventually(
      () =>
        store.put('flow:2', 'after', 60).then(
          () => true,
          () => false,
        ),
      'writes accepted after the failover',
      10_000,
    );
    expect(cli(replica.port, 'get', 'jsm-sso:failover:flow:2')).to.equal('after');
    expect(await store.get('flow:1')).to.equal('before');
  });
});
