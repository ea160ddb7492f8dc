import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { parse, stringify } from 'yaml';
import { createPoolFlowStore } from '../../common/flowstore/open.js';
import { type RedisFlowStore, tenantKeyPrefix } from '../../common/flowstore/redis-store.js';
import { runCli } from '../../testkit/cli.js';
import { answering, redisUrl } from '../../testkit/redis.js';

/** jsm-sso from source; generous: a busy machine takes seconds to start each process. */
const cli = (args: string[]) => runCli(args, { timeoutMs: 45_000 });

/**
 * ADR 0418: `jsm-sso purge` deletes what a removed tenant left in Redis, for the cases a pool's own purge
 * (ADR 0390) does not reach: a dedicated tenant's spec.redis, and a tenant taken out of a --pool-dir
 * folder. Real redis-server; only the document's incarnation goes.
 */
describe("jsm-sso purge: a removed tenant's keys, from its Redis or its pool's", function () {
  this.timeout(120_000);
  const run = randomUUID().slice(0, 8);
  const name = `acme-${run}`;
  const id = `team/${name}`;
  const uid = randomUUID();
  const otherUid = randomUUID();
  let dir: string;
  let pool: RedisFlowStore;

  /** The fixture tenant as `kubectl get -o yaml` gives it; spec.redis through DIR/redis/url unless `memory`. */
  const tenantFile = (file: string, metadata: Record<string, string>, memory = false): string => {
    const doc = parse(readFileSync('test/fixtures/tenant-valid.yaml', 'utf8')) as {
      metadata: Record<string, string>;
      spec: Record<string, unknown>;
    };
    doc.metadata = { ...doc.metadata, name, namespace: 'team', ...metadata };
    if (!memory) doc.spec['redis'] = { urlSecretRef: { name: 'redis', key: 'url' } };
    const path = join(dir, file);
    writeFileSync(path, stringify(doc));
    return path;
  };

  const keysUnder = (tenant: string, incarnation?: string): Promise<string[]> =>
    (pool.client as Redis).keys(`${tenantKeyPrefix(tenant, incarnation)}*`);

  /** Three keys of incarnation `uid`, and one each of what must stay: another incarnation, no uid, another tenant. */
  const seeded = async () => {
    for (const key of ['flow:1', 'session:2', 'marker:3']) await pool.view(id, uid).put(key, 'x', 600);
    await pool.view(id, otherUid).put('session:1', 'x', 600);
    await pool.view(id).put('session:1', 'x', 600);
    await pool.view(`team/${name}-b`, uid).put('session:1', 'x', 600);
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jsm-sso-purge-'));
    mkdirSync(join(dir, 'redis'));
    writeFileSync(join(dir, 'redis', 'url'), redisUrl());
    writeFileSync(join(dir, 'pool-redis-url'), redisUrl());
    pool = await answering(createPoolFlowStore({ url: redisUrl() }) as RedisFlowStore);
  });

  beforeEach(async () => {
    const client = pool.client as Redis;
    for (const key of await client.keys(`jsm-sso:team/${name}*`)) await client.unlink(key);
    await seeded();
  });

  after(async () => {
    await pool?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("--dry-run counts the incarnation's keys in the tenant's spec.redis and deletes nothing", async () => {
    const config = tenantFile('tenant.yaml', { uid });
    const result = await cli(['purge', '--config', config, '--secrets-dir', dir, '--dry-run']);
    expect(result, result.stderr).to.include({ code: 0 });
    expect(result.stdout).to.include(
      `${id} (uid ${uid}): 3 keys would be deleted (dry run, nothing deleted)`,
    );
    expect(await keysUnder(id, uid)).to.have.length(3);
  });

  it("deletes the keys of the document's incarnation only: not another incarnation's, not a uid-less document's, not another tenant's", async () => {
    const config = tenantFile('tenant.yaml', { uid });
    const result = await cli(['purge', '--config', config, '--secrets-dir', dir]);
    expect(result, result.stderr).to.include({ code: 0 });
    expect(result.stdout).to.include(`${id} (uid ${uid}): 3 keys deleted`);
    expect(await keysUnder(id, uid)).to.deep.equal([]);
    expect(await keysUnder(id, otherUid)).to.have.length(1);
    expect(await keysUnder(id)).to.have.length(1);
    expect(await keysUnder(`team/${name}-b`, uid)).to.have.length(1);
  });

  it("with --redis-url-file, a pool's Redis (a tenant out of a --pool-dir folder), a document without uid its uid-less keys", async () => {
    const config = tenantFile('pooled.yaml', {}, true);
    const result = await cli(['purge', '--config', config, '--redis-url-file', join(dir, 'pool-redis-url')]);
    expect(result, result.stderr).to.include({ code: 0 });
    expect(result.stdout).to.include(`${id} (no metadata.uid): 1 key deleted`);
    expect(await keysUnder(id)).to.deep.equal([]);
    expect(await keysUnder(id, uid)).to.have.length(3);
  });

  it("reads the purge Job's document (name, namespace, uid, spec.redis and nothing else, ADR 0434), and refuses one whose name is not a tenant's", async () => {
    const job = (docName: string) => {
      const path = join(dir, `${docName}.yaml`);
      writeFileSync(
        path,
        stringify({
          apiVersion: 'jsm-sso.io/v1alpha1',
          kind: 'JsmSsoTenant',
          metadata: { name: docName, namespace: 'team', uid },
          spec: { redis: { urlSecretRef: { name: 'redis' } } },
        }),
      );
      return path;
    };
    const result = await cli(['purge', '--config', job(name), '--secrets-dir', dir]);
    expect(result, result.stderr).to.include({ code: 0 });
    expect(result.stdout).to.include(`${id} (uid ${uid}): 3 keys deleted`);
    expect(await keysUnder(id, uid)).to.deep.equal([]);
    // A name the API server refuses (here with the `@` the keys' prefix puts before the uid) reaches no Redis.
    const refused = await cli(['purge', '--config', job(`${name}-b@x`), '--secrets-dir', dir]);
    expect(refused.code, refused.stdout).to.not.equal(0);
    expect(refused.stderr).to.include('metadata.name must be a DNS-1035 label');
    expect(await keysUnder(`team/${name}-b`, uid)).to.have.length(1);
  });

  it('refuses a document that does not say it is a JsmSsoTenant (its apiVersion or kind left out), and reaches no Redis', async () => {
    for (const left of ['apiVersion', 'kind'] as const) {
      const document: Record<string, unknown> = {
        apiVersion: 'jsm-sso.io/v1alpha1',
        kind: 'JsmSsoTenant',
        metadata: { name, namespace: 'team', uid },
        spec: { redis: { urlSecretRef: { name: 'redis' } } },
      };
      delete document[left];
      const path = join(dir, `without-${left}.yaml`);
      writeFileSync(path, stringify(document));
      const result = await cli(['purge', '--config', path, '--secrets-dir', dir]);
      expect(result.code, `${left}: ${result.stdout}`).to.not.equal(0);
      expect(result.stderr).to.include(
        left === 'kind' ? 'kind: must be JsmSsoTenant' : 'apiVersion: must be',
      );
      expect(await keysUnder(id, uid), left).to.have.length(3);
    }
  });

  it('says there is nothing to purge for a tenant without spec.redis, and touches no Redis', async () => {
    const config = tenantFile('memory.yaml', { uid }, true);
    const result = await cli(['purge', '--config', config, '--secrets-dir', dir]);
    expect(result, result.stderr).to.include({ code: 0 });
    expect(result.stdout).to.include('no spec.redis');
    expect(await keysUnder(id, uid)).to.have.length(3);
  });

  it('exits 1 with FLOW_STORE_UNAVAILABLE and no stack when the Redis does not answer, and 2 on a TLS flag without --redis-url-file', async () => {
    const closed = join(dir, 'closed-redis-url');
    writeFileSync(closed, 'redis://127.0.0.1:9/');
    const config = tenantFile('tenant.yaml', { uid });
    const down = await cli(['purge', '--config', config, '--redis-url-file', closed]);
    expect(down.code, down.stdout).to.equal(1);
    expect(down.stderr).to.include('[FLOW_STORE_UNAVAILABLE]');
    expect(down.stderr).to.not.match(/^\s+at /m);
    const usage = await cli(['purge', '--config', config, '--redis-ca-file', join(dir, 'pool-redis-url')]);
    expect(usage.code).to.equal(2);
    expect(usage.stderr).to.include('--redis-url-file is required');
    expect(await keysUnder(id, uid)).to.have.length(3);
  });
});
