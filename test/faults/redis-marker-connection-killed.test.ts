// A one-time marker goes to a replicated Redis as one pipeline: its command, then WAIT for a replica
// (ADR 0261). When Redis drops the connection with that pipeline received but not run, the marker
// must answer 503 FLOW_STORE_UNAVAILABLE, never "already used" (a sign-in refused as a replay) nor
// "stored". ioredis neither fails nor resends a pipeline nothing of which was answered
// (maxRetriesPerRequest 1, autoResendUnfulfilledCommands off): the store's deadline for a marker answers.
// A real redis-server and replica; CLIENT PAUSE WRITE holds the pipeline in Redis so the kill surely
// lands before it runs.
import { expect } from 'chai';
import { Redis } from 'ioredis';
import type { JsmSsoError } from '../../common/errors.js';
import { parseRedisAddress } from '../../common/flowstore/redis-address.js';
import { RedisFlowStore } from '../../common/flowstore/redis-store.js';
import { eventually } from '../../testkit/envtest.js';
import { startLocalRedis, startLocalReplica, stoppedAfterEach } from '../../testkit/local-redis.js';
import { answering, PATIENT_REPLICA } from '../../testkit/redis.js';

/** The id of the client Redis holds blocked in `command` (a pause postpones it), once there is one. */
async function blockedIn(admin: Redis, command: string): Promise<string> {
  return await eventually(async () => {
    const clients = String(await admin.call('client', 'list', 'type', 'normal')).split('\n');
    const blocked = clients.find((line) => / flags=\S*b/.test(line) && line.includes(` cmd=${command} `));
    return blocked?.match(/^id=(\d+)/)?.[1];
  }, `a client blocked in ${command}`);
}

describe('faults: a one-time marker whose connection Redis kills with its pipeline unrun', function () {
  this.timeout(30_000);
  const { started, stops } = stoppedAfterEach();

  it('answers FLOW_STORE_UNAVAILABLE, writes nothing, and the next marker is stored', async () => {
    const master = await started(startLocalRedis());
    await started(startLocalReplica(master.port));
    const admin = new Redis(master.url);
    stops.push(async () => admin.disconnect());
    const address = parseRedisAddress(`${master.url}?waitForReplica=yes`);
    const store = await answering(RedisFlowStore.open(address, 'killed', undefined, PATIENT_REPLICA));
    stops.push(() => store.close());

    await admin.call('client', 'pause', '60000', 'write');
    const marking = store.putIfAbsent('marker', 'used', 60).then(
      (stored) => stored,
      (err: JsmSsoError) => err.code,
    );
    await admin.call('client', 'kill', 'id', await blockedIn(admin, 'set'));
    await admin.call('client', 'unpause');

    // Nothing of it ran: the deadline's 503 (the command deadline and the WAIT budget), and the marker still free.
    expect(await marking).to.equal('FLOW_STORE_UNAVAILABLE');
    expect(await admin.get('jsm-sso:killed:marker')).to.equal(null);
    await answering(store);
    expect(await store.putIfAbsent('marker', 'used', 60)).to.equal(true);
  });
});
