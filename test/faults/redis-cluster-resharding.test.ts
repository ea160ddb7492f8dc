// A Redis Cluster resharded while sign-ins run: a slot moved from one master to another
// (`CLUSTER SETSLOT … IMPORTING/MIGRATING`, `MIGRATE`, then `SETSLOT … NODE`), as `redis-cli --cluster
// reshard` does. Its keys answer ASK while the slot migrates and MOVED once it has moved; Redis Cluster's
// clients follow both (the Cluster specification, "ASK redirection"). Real redis-server cluster nodes.
import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { parseRedisAddress } from '../../common/flowstore/redis-address.js';
import { RedisFlowStore } from '../../common/flowstore/redis-store.js';
import { startLocalCluster } from '../../testkit/local-cluster.js';
import { stoppedAfterEach } from '../../testkit/local-redis.js';
import { answering, PATIENT_REPLICA, untilMarkerStored } from '../../testkit/redis.js';

const cli = (port: number, ...args: string[]) =>
  spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout.trim();

const outcome = (step: Promise<unknown>) =>
  step.then(
    (value) => value,
    (e: unknown) => (e as { code?: string }).code,
  );

describe('faults: a Redis Cluster slot moved from one master to another mid sign-in (real redis-server cluster nodes)', function () {
  this.timeout(90_000);
  const running = stoppedAfterEach();

  /**
   * A cluster whose shards each have a replica, a store over it, and the slot of the `{moving}` keys,
   * owned by A, with the steps of moving it to B: B, or a master added once the store is up, which
   * owns no slot and which the store has not met.
   */
  async function resharded(to: 'B' | 'a new master') {
    const started = await startLocalCluster(running, 'jsm-sso:resharding:{on-b}', { bReplica: true });
    // Every shard has a replica: each marker is acknowledged, however late a loaded machine runs it.
    const store = await answering(
      RedisFlowStore.open(parseRedisAddress(started.url), 'resharding', undefined, PATIENT_REPLICA),
    );
    running.stops.push(() => store.close());
    await untilMarkerStored(store, 'start');
    const cluster = { ...started, b: to === 'B' ? started.b : await started.addMaster() };
    const key = (name: string) => `jsm-sso:resharding:${name}`;
    const slot = cli(cluster.a.port, 'cluster', 'keyslot', key('{moving}'));
    const [aId, bId] = [cluster.a, cluster.b].map((node) => cli(node.port, 'cluster', 'myid'));
    return {
      store,
      /** Step 1 of a reshard: B imports the slot, A migrates it; A still holds its keys. */
      startMigrating() {
        expect(cli(cluster.b.port, 'cluster', 'setslot', slot, 'importing', aId ?? '')).to.equal('OK');
        expect(cli(cluster.a.port, 'cluster', 'setslot', slot, 'migrating', bId ?? '')).to.equal('OK');
      },
      /** Step 2: one of the slot's keys moved to B. */
      migrate(name: string) {
        const answer = cli(
          cluster.a.port,
          'migrate',
          '127.0.0.1',
          String(cluster.b.port),
          '',
          '0',
          '5000',
          'keys',
          key(name),
        );
        expect(answer).to.equal('OK');
      },
      /** Step 3: the slot is B's, told to both (A then answers MOVED) and to the cluster's other master. */
      finish() {
        for (const node of new Set([cluster.b, cluster.a, started.b]))
          expect(cli(node.port, 'cluster', 'setslot', slot, 'node', bId ?? '')).to.equal('OK');
      },
      /** Whether `node` holds the key (ASKING: an importing node answers for the slot's keys then). */
      holds: (node: 'a' | 'b', name: string) =>
        spawnSync('redis-cli', ['-p', String(cluster[node].port)], {
          input: `ASKING\nEXISTS ${key(name)}\n`,
          encoding: 'utf8',
        })
          .stdout.trim()
          .split('\n')
          .at(-1) === '1',
    };
  }

  for (const to of ['B', 'a new master'] as const)
    it(`takes a flow and writes markers while its slot migrates to ${to} (ASK) and once it has moved (MOVED), each once`, async () => {
      const { store, startMigrating, migrate, finish, holds } = await resharded(to);
      await store.put('flow:{moving}:migrated', 'flow one', 60);
      await store.put('flow:{moving}:staying', 'flow two', 60);
      await store.put('flow:{moving}:after', 'flow three', 60);
      expect(await store.putIfAbsent('marker:{moving}:before', 'used', 60)).to.equal(true);
      startMigrating();
      migrate('flow:{moving}:migrated');

      // A flow already on B (A answers ASK), one still on A, a new marker (absent on A: ASK), a marker
      // written before the move (still on A: a replay). Red before: the ASKs answered 503.
      expect(await outcome(store.take('flow:{moving}:migrated'))).to.equal('flow one');
      expect(await outcome(store.take('flow:{moving}:staying'))).to.equal('flow two');
      expect(await outcome(store.putIfAbsent('marker:{moving}:during', 'used', 60))).to.equal(true);
      expect(await outcome(store.putIfAbsent('marker:{moving}:before', 'used', 60))).to.equal(false);
      expect(holds('b', 'marker:{moving}:during'), 'the new marker written on the importing node').to.equal(
        true,
      );

      migrate('marker:{moving}:before');
      migrate('flow:{moving}:after');
      finish();
      // The store's slot map still sends the slot to A, which answers MOVED. Red before: 503.
      expect(await outcome(store.take('flow:{moving}:after'))).to.equal('flow three');
      expect(await outcome(store.putIfAbsent('marker:{moving}:during', 'used', 60))).to.equal(false);
      expect(await outcome(store.putIfAbsent('marker:{moving}:before', 'used', 60))).to.equal(false);
      expect(await outcome(store.putIfAbsent('marker:{moving}:after', 'used', 60))).to.equal(true);

      // Each flow was handed out once: nothing of them is left on either node.
      for (const name of ['flow:{moving}:migrated', 'flow:{moving}:staying', 'flow:{moving}:after']) {
        expect(await outcome(store.take(name)), name).to.equal(undefined);
        expect([holds('a', name), holds('b', name)], name).to.deep.equal([false, false]);
      }
    });
});
