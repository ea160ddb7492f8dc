// A claim (FlowStore.claim) keeps a second writer out only if the store still holds it. A Redis
// that comes back from a snapshot, or a replica promoted in a failover, may have lost the claims
// made just before: it grants none until those would have expired. Real redis-servers, really
// crashed and promoted.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { FlowStoreClaimsUncertainError } from '../../common/flowstore/flow-store.js';
import type { RedisFlowStore } from '../../common/flowstore/redis-store.js';
import { eventually } from '../../testkit/envtest.js';
import {
  crashAndRestart,
  type LocalRedis,
  startLocalRedis,
  startSnapshottedRedis,
} from '../../testkit/local-redis.js';
import { answering, connectedFlowStore } from '../../testkit/redis.js';

const cli = (redis: LocalRedis, ...args: string[]) =>
  spawnSync('redis-cli', ['-p', String(redis.port), ...args], { encoding: 'utf8' }).stdout.trim();

/** How long the server has been up, from its own INFO. */
const uptimeOf = (redis: LocalRedis) =>
  Number(/uptime_in_seconds:(\d+)/.exec(cli(redis, 'info', 'server'))?.[1]);

async function refusal(claim: Promise<boolean>): Promise<FlowStoreClaimsUncertainError> {
  const err = await claim.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).to.be.instanceOf(FlowStoreClaimsUncertainError);
  return err as FlowStoreClaimsUncertainError;
}

describe('flow store claims on a Redis that may have lost some', function () {
  this.timeout(60_000);
  const started: LocalRedis[] = [];
  const stores: RedisFlowStore[] = [];
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'jsm-sso-claims-'));
  });
  after(async () => {
    for (const store of stores) await store.close();
    for (const redis of started) await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const storeOn = async (redis: LocalRedis) => {
    const store = await connectedFlowStore('claims', redis.url);
    stores.push(store);
    return store;
  };

  it('refuses claims, saying when to retry, once Redis restarts from a snapshot older than its last claims', async () => {
    let redis = await startSnapshottedRedis(dir);
    started.push(redis);
    const store = await storeOn(redis);
    expect(await store.claim('write:{claims}:before', 'pending', 60)).to.equal(true);
    expect(cli(redis, 'SAVE')).to.equal('OK');
    expect(await store.claim('write:{claims}:after', 'pending', 60)).to.equal(true);
    redis = await crashAndRestart(redis, dir);
    started.push(redis);
    await answering(store);
    expect(await store.get('write:{claims}:after'), 'the claim lost with the crash').to.equal(undefined);
    const err = await refusal(store.claim('write:{claims}:after', 'pending', 60));
    expect([err.code, err.status]).to.deep.equal(['FLOW_STORE_CLAIMS_UNCERTAIN', 503]);
    // Claims made before it started expire 60 s after its start at the latest.
    expect(err.retryAfterSeconds).to.be.within(60 - uptimeOf(redis) - 1, 60);
    expect(await store.get('write:{claims}:after'), 'nothing claimed').to.equal(undefined);
  });

  it('refuses claims for their whole lifetime on a replica promoted in a failover', async () => {
    const primary = await startLocalRedis();
    started.push(primary);
    const replica = await startLocalRedis(['--replicaof', '127.0.0.1', String(primary.port)]);
    started.push(replica);
    const onPrimary = await storeOn(primary);
    expect(await onPrimary.claim('write:{claims}:a', 'pending', 60)).to.equal(true);
    await eventually(
      async () => cli(replica, 'exists', 'jsm-sso:claims:write:{claims}:a') === '1',
      'replicated',
    );
    // Up for a second at least, so a refusal reckoned from its start would be shorter than 60 s.
    await eventually(async () => uptimeOf(replica) >= 1, 'the replica up for a second');
    expect(cli(replica, 'replicaof', 'no', 'one')).to.equal('OK');
    const onPromoted = await storeOn(replica);
    const err = await refusal(onPromoted.claim('write:{claims}:b', 'pending', 60));
    expect(err.retryAfterSeconds).to.equal(60);
    expect(await onPromoted.get('write:{claims}:b')).to.equal(undefined);
  });

  it('writes nothing for a claim Redis runs after its sender stopped waiting (stalled with it, or resent on reconnect)', async () => {
    const redis = await startLocalRedis();
    started.push(redis);
    const store = await storeOn(redis);
    expect(await store.claim('write:{claims}:in-time', 'pending', 60)).to.equal(true);
    // The script as claim sends it, with a deadline Redis's clock has passed: as run late.
    const late = (store.client as unknown as Record<string, (...args: unknown[]) => Promise<number>>)[
      'jsmSsoClaim'
    ]!;
    const answer = await late.call(
      store.client,
      2,
      'jsm-sso:claims:write:{claims}:late',
      'jsm-sso:claims:claims-server{claims}',
      'pending',
      60,
      3600,
      Date.now() - 1000,
    );
    expect(answer).to.equal(2);
    expect(await store.get('write:{claims}:late')).to.equal(undefined);
  });

  it('grants claims at once on a Redis that holds no claim yet, and on the one it granted them on', async () => {
    const redis = await startLocalRedis();
    started.push(redis);
    const store = await storeOn(redis);
    expect(await store.claim('write:{claims}:first', 'pending', 60)).to.equal(true);
    expect(await store.claim('write:{claims}:second', 'pending', 60)).to.equal(true);
    expect(await store.claim('write:{claims}:second', 'pending', 60)).to.equal(false);
  });
});
