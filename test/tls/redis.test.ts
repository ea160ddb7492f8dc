import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { BACKCHANNEL_SLOTS_PER_PERSON, BrokerState, type LoginSession } from '../../broker/flows.js';
import { checkTenant, type JsmSsoTenant, loadTenantFile } from '../../common/config/load.js';
import { SecretDirectory } from '../../common/config/secrets.js';
import {
  FlowStoreUnavailableError,
  parseRedisAddress,
  RedisFlowStore,
} from '../../common/flowstore/index.js';
import { createFlowStore, createPoolFlowStore, type PoolRedis } from '../../common/flowstore/open.js';
import { redisOptionsFor } from '../../common/tls/index.js';
import { Browser, loginThroughBroker, startStack } from '../../testkit/broker-harness.js';
import { capturedLogger } from '../../testkit/captured-logs.js';
import { eventually } from '../../testkit/envtest.js';
import {
  freePort,
  type LocalRedis,
  startLocalTlsRedis,
  startLocalTlsSentinel,
} from '../../testkit/local-redis.js';
import { exited, jsmSso } from '../../testkit/part-process.js';
import { makeTestCa, type TestCa } from '../../testkit/pki.js';
import { startPoolProcess } from '../../testkit/pool.js';
import { answering, PATIENT_REPLICA } from '../../testkit/redis.js';

/** All keys in the TLS Redis, read with redis-cli over TLS using the test client certificate. */
function redisKeys(port: number, root: string): string[] {
  const result = spawnSync(
    'redis-cli',
    [
      '--tls',
      '--cacert',
      join(root, 'redis-ca', 'ca.crt'),
      '--cert',
      join(root, 'redis-client', 'tls.crt'),
      '--key',
      join(root, 'redis-client', 'tls.key'),
      '-h',
      'localhost',
      '-p',
      String(port),
      '--scan',
    ],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`redis-cli failed: ${result.stderr}`);
  return result.stdout.split('\n').filter(Boolean);
}

const LOCALHOST = ['localhost', '127.0.0.1'];

/** The valid fixture tenant with the given spec.redis, validated and defaulted like a loaded file. */
function tenantWithRedis(redis: Record<string, unknown>): JsmSsoTenant {
  const base = loadTenantFile('test/fixtures/tenant-valid.yaml');
  return checkTenant({ ...base, spec: { ...base.spec, redis } });
}

/** A secrets folder with the given `<secret>/<key>` files. */
function secretsDir(files: Record<string, string>): { secrets: SecretDirectory; root: string } {
  const root = mkdtempSync(join(tmpdir(), 'jsm-sso-secrets-'));
  for (const [path, content] of Object.entries(files)) {
    const [secret = '', key = ''] = path.split('/');
    mkdirSync(join(root, secret), { recursive: true });
    writeFileSync(join(root, secret, key), content);
  }
  return { secrets: new SecretDirectory(root), root };
}

describe('Redis addresses', () => {
  it('reads redis:// and rediss:// with credentials and database', () => {
    expect(parseRedisAddress('rediss://app:p%40ss@redis.internal:6380/2')).to.deep.equal({
      mode: 'standalone',
      tls: true,
      nodes: [{ host: 'redis.internal', port: 6380 }],
      username: 'app',
      password: 'p@ss',
      db: 2,
    });
    expect(parseRedisAddress('redis://:secret@[::1]')).to.deep.equal({
      mode: 'standalone',
      tls: false,
      nodes: [{ host: '::1', port: 6379 }],
      password: 'secret',
    });
  });

  it('reads Sentinel lists with the master name (default port 26379) and Cluster seed lists', () => {
    expect(parseRedisAddress('sentinels://s1:26380,s2?name=mymaster')).to.deep.equal({
      mode: 'sentinel',
      tls: true,
      nodes: [
        { host: 's1', port: 26380 },
        { host: 's2', port: 26379 },
      ],
      name: 'mymaster',
    });
    expect(parseRedisAddress('cluster://n1:7000,n2:7001,n3:7002')).to.deep.include({
      mode: 'cluster',
      tls: false,
      nodes: [
        { host: 'n1', port: 7000 },
        { host: 'n2', port: 7001 },
        { host: 'n3', port: 7002 },
      ],
    });
  });

  it("refuses a replica budget WAIT reads as for ever, or one past the socket timeout's silence (ADR 0318)", () => {
    const address = parseRedisAddress('redis://127.0.0.1:6379?waitForReplica=yes');
    for (const replicaAckTimeoutMs of [0, -1, 1.5, 1_701])
      expect(() => RedisFlowStore.open(address, 't', undefined, { replicaAckTimeoutMs })).to.throw(
        'replicaAckTimeoutMs must be a whole number of milliseconds from 1 to 1700',
      );
  });

  it('reads ?waitForReplica=yes on a standalone URL: one-time markers wait for a replica (ADR 0272)', () => {
    expect(parseRedisAddress('rediss://primary.example:6379?waitForReplica=yes')).to.deep.equal({
      mode: 'standalone',
      tls: true,
      nodes: [{ host: 'primary.example', port: 6379 }],
      waitForReplica: true,
    });
    expect(parseRedisAddress('rediss://primary.example:6379')).not.to.have.property('waitForReplica');
  });

  it('refuses addresses it cannot use, without echoing the URL (it may hold a password)', () => {
    for (const url of [
      'http://redis:6379',
      'redis://a:1,b:2',
      'sentinel://s1:26379',
      'redis://h:6379?name=x',
      'rediss://h:6379?tls=false',
      'rediss://h:6379?rejectUnauthorized=false',
      'rediss://h:6379?waitForReplica=no',
      'sentinel://h:26379?name=m&waitForReplica=yes',
      'cluster://h:7000?waitForReplica=yes',
      'cluster://n1:7000/3',
      'redis://h:99999',
    ]) {
      const err = (() => {
        try {
          parseRedisAddress(url.replace('h:', 'user:hunter2@h:'));
        } catch (e) {
          return e as Error & { code?: string };
        }
        return undefined;
      })();
      expect(err?.code, url).to.equal('REDIS_URL_INVALID');
      expect(err?.message, url).not.to.include('hunter2');
    }
  });

  it('quotes no part of a password whose ? # / is not percent-encoded (it ends the authority early)', () => {
    // The part before the `?` is read as a host, the rest as the query: each was quoted back in the
    // message the process prints as its last line (ADR 0233).
    for (const url of [
      'redis://default:Pa55wordHead?Pa55wordTail@redis:6379',
      'redis://default:12345?Pa55wordTail@redis:6379',
      'rediss://Pa55wordHead?Pa55wordTail@redis:6380',
      'sentinel://default:Pa55wordHead?Pa55wordTail@s1:26379?name=mymaster',
      'cluster://n1:7000,default:Pa55wordHead?Pa55wordTail@n2:7001',
      // A `%` that starts no escape was an untyped URIError, printed with its stack.
      'redis://default:Pa55word%zzTail@redis:6379',
    ]) {
      let err: (Error & { code?: string }) | undefined;
      try {
        parseRedisAddress(url);
      } catch (e) {
        err = e as Error & { code?: string };
      }
      expect(err?.code, url).to.equal('REDIS_URL_INVALID');
      expect(err?.message, url).not.to.match(/Pa55word|12345|default/);
      expect(err?.message, url).to.include('percent-encoded');
    }
  });
});

describe('Redis TLS settings from the tenant', () => {
  let ca: TestCa;
  before(() => {
    ca = makeTestCa();
  });
  after(() => ca.cleanup());

  it('verifies against public roots plus the CA bundle, with TLS 1.2+ and the client certificate', () => {
    const client = ca.issue({ hosts: ['jsm-sso-broker'], client: true });
    const { secrets, root } = secretsDir({
      'redis/url': 'rediss://redis.internal:6380',
      'redis-ca/ca.crt': ca.caPem,
      'redis-client/tls.crt': client.certPem,
      'redis-client/tls.key': client.keyPem,
    });
    try {
      const connection = redisOptionsFor(
        tenantWithRedis({
          urlSecretRef: { name: 'redis' },
          caBundleSecretRef: { name: 'redis-ca' },
          clientCertSecretRef: { name: 'redis-client' },
        }),
        secrets,
      );
      expect(connection?.address).to.include({ mode: 'standalone', tls: true });
      expect(connection?.tls).to.include({
        minVersion: 'TLSv1.2',
        rejectUnauthorized: true,
        cert: client.certPem,
        key: client.keyPem,
      });
      expect(connection?.tls?.ca).to.include(ca.caPem.trim());
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('refuses a CA bundle or client certificate configured with a plain redis:// URL', () => {
    const { secrets, root } = secretsDir({
      'redis/url': 'redis://redis.internal:6379',
      'redis-ca/ca.crt': ca.caPem,
    });
    try {
      const tenant = tenantWithRedis({
        urlSecretRef: { name: 'redis' },
        caBundleSecretRef: { name: 'redis-ca' },
      });
      expect(() => redisOptionsFor(tenant, secrets))
        .to.throw()
        .with.property('code', 'REDIS_TLS_MISMATCH');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

/**
 * A redis-server over TLS that requires client certificates (`tls-auth-clients yes`), and a secrets
 * folder with its CA (`redis-ca`), a client pair (`redis-client`) and the `extra` files.
 */
async function mutualTlsRedis(
  ca: TestCa,
  extra: Record<string, string> = {},
): Promise<{ redis: LocalRedis; root: string; secrets: SecretDirectory }> {
  const server = ca.issue({ hosts: LOCALHOST });
  const client = ca.issue({ hosts: ['jsm-sso-broker'], client: true });
  const { secrets, root } = secretsDir({
    'redis-server/tls.crt': server.certPem,
    'redis-server/tls.key': server.keyPem,
    'redis-ca/ca.crt': ca.caPem,
    'redis-client/tls.crt': client.certPem,
    'redis-client/tls.key': client.keyPem,
    ...extra,
  });
  const file = (secret: string, key: string) => join(root, secret, key);
  const redis = await startLocalTlsRedis({
    certFile: file('redis-server', 'tls.crt'),
    keyFile: file('redis-server', 'tls.key'),
    caFile: file('redis-ca', 'ca.crt'),
    authClients: 'yes',
    client: { certFile: file('redis-client', 'tls.crt'), keyFile: file('redis-client', 'tls.key') },
  });
  return { redis, root, secrets };
}

/** The code (or message) at the bottom of an error's cause chain. */
function rootCause(err: unknown): string {
  let current = err as { code?: string; message?: string; cause?: unknown };
  while (current.cause) current = current.cause as typeof current;
  return current.code ?? current.message ?? '';
}

describe('flow store over Redis TLS (redis-server --tls-port, client certificates required)', () => {
  let ca: TestCa;
  let redis: LocalRedis;
  let root: string;
  let secrets: SecretDirectory;

  before(async () => {
    ca = makeTestCa();
    ({ redis, root, secrets } = await mutualTlsRedis(ca));
    for (const host of ['localhost', '127.0.0.1']) {
      mkdirSync(join(root, `url-${host}`));
      writeFileSync(join(root, `url-${host}`, 'url'), `rediss://${host}:${redis.port}`);
    }
  });
  after(async () => {
    await redis?.stop();
    rmSync(root, { recursive: true, force: true });
    ca.cleanup();
  });

  async function attempt(redisSpec: Record<string, unknown>): Promise<string> {
    const store = createFlowStore(tenantWithRedis(redisSpec), secrets);
    try {
      await store.put('flow:1', 'state', 60);
      return (await store.take('flow:1')) ?? 'missing';
    } catch (err) {
      return `${(err as { code?: string }).code} ${rootCause(err)}`;
    } finally {
      await store.close();
    }
  }

  it('stores and takes flow state with the CA bundle and the client certificate', async () => {
    for (const host of ['localhost', '127.0.0.1']) {
      const store = await answering(
        createFlowStore(
          tenantWithRedis({
            urlSecretRef: { name: `url-${host}` },
            caBundleSecretRef: { name: 'redis-ca' },
            clientCertSecretRef: { name: 'redis-client' },
          }),
          secrets,
        ),
      );
      try {
        await store.put('flow:1', 'state', 60);
        expect(await store.take('flow:1'), host).to.equal('state');
      } finally {
        await store.close();
      }
    }
  });

  it('carries a full brokered login (AuthnRequest -> OIDC IdP -> signed Response) with its flow state', async () => {
    const store = await answering(
      createFlowStore(
        tenantWithRedis({
          urlSecretRef: { name: 'url-localhost' },
          caBundleSecretRef: { name: 'redis-ca' },
          clientCertSecretRef: { name: 'redis-client' },
        }),
        secrets,
      ),
    );
    const stack = await startStack(store);
    try {
      const { fields } = await loginThroughBroker(
        { portal: stack.portal, brokerUrl: stack.broker.url },
        new Browser(),
      );
      const { profile } = await stack.portal.validatePostResponseAsync(fields);
      expect(profile?.nameID).to.equal('alice@acme.test');
      // The flow went through this Redis: its state was consumed, and the used state is remembered there.
      const keys = await redisKeys(redis.port, root);
      expect(keys.some((k) => k.startsWith('jsm-sso:acme:'))).to.equal(true);
    } finally {
      await stack.close();
      await store.close();
    }
  });

  it('cannot connect without the CA bundle (the server certificate is not trusted)', async () => {
    expect(
      await attempt({
        urlSecretRef: { name: 'url-localhost' },
        clientCertSecretRef: { name: 'redis-client' },
      }),
    ).to.match(/^FLOW_STORE_UNAVAILABLE (SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)$/);
  });

  it('cannot connect without the client certificate when Redis requires one', async () => {
    expect(
      await attempt({ urlSecretRef: { name: 'url-localhost' }, caBundleSecretRef: { name: 'redis-ca' } }),
      // TLS 1.3 sends the certificate_required alert after the client's Finished: seen as a reset or the alert.
    ).to.match(
      /^FLOW_STORE_UNAVAILABLE (ECONNRESET|ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED|ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE)$/,
    );
  });
});

describe("a pool's flow store over Redis TLS with a client certificate (JsmSsoPool spec.redis.clientCertSecretRef)", function () {
  // Its tests start processes from source: the three usage starts took 23.6 s in CI at load 16,
  // where starting them at once saves nothing (two cores, all busy).
  this.timeout(120_000);
  let ca: TestCa;
  let redis: LocalRedis;
  let root: string;
  const file = (secret: string, key: string) => join(root, secret, key);
  const read = (secret: string, key: string) => readFileSync(file(secret, key), 'utf8');

  before(async () => {
    ca = makeTestCa();
    const other = ca.issue({ hosts: ['other'], client: true });
    ({ redis, root } = await mutualTlsRedis(ca, {
      'other-client/tls.key': other.keyPem,
      'plain/url': 'redis://localhost:6379',
    }));
    mkdirSync(join(root, 'url'));
    writeFileSync(file('url', 'url'), `rediss://localhost:${redis.port}`);
  });
  after(async () => {
    await redis?.stop();
    rmSync(root, { recursive: true, force: true });
    ca.cleanup();
  });

  const poolRedis = (clientCert: boolean): PoolRedis => ({
    url: read('url', 'url'),
    caPem: read('redis-ca', 'ca.crt'),
    ...(clientCert
      ? { clientCert: { cert: read('redis-client', 'tls.crt'), key: read('redis-client', 'tls.key') } }
      : {}),
  });

  it("stores each tenant's flow state under its own prefix through the pool's one mutually authenticated connection", async () => {
    const store = await answering(createPoolFlowStore(poolRedis(true)));
    try {
      await store.view('pool-a').put('flow:1', 'state-a', 60);
      await store.view('pool-b').put('flow:1', 'state-b', 60);
      expect(await store.view('pool-a').take('flow:1')).to.equal('state-a');
      expect(redisKeys(redis.port, root)).to.include('jsm-sso:pool-b:flow:1');
    } finally {
      await store.close();
    }
  });

  it('cannot connect without the client certificate when Redis requires one', async () => {
    const store = createPoolFlowStore(poolRedis(false));
    try {
      const failure = await store.put('flow:1', 'state', 60).then(
        () => 'stored',
        (err: unknown) => `${(err as { code?: string }).code} ${rootCause(err)}`,
      );
      expect(failure).to.match(
        /^FLOW_STORE_UNAVAILABLE (ECONNRESET|ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED|ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE)$/,
      );
    } finally {
      await store.close();
    }
  });

  it("refuses at start a client key that is not the certificate's, for a pool as for a dedicated tenant (REDIS_CLIENT_CERT_INVALID)", () => {
    const mismatched = { cert: read('redis-client', 'tls.crt'), key: read('other-client', 'tls.key') };
    const poolError = (() => {
      try {
        createPoolFlowStore({ ...poolRedis(false), clientCert: mismatched });
      } catch (err) {
        return err as Error & { code?: string };
      }
      return undefined;
    })();
    expect(poolError?.code).to.equal('REDIS_CLIENT_CERT_INVALID');
    expect(poolError?.message).not.to.include('PRIVATE KEY');
    mkdirSync(join(root, 'mismatched'), { recursive: true });
    writeFileSync(file('mismatched', 'tls.crt'), mismatched.cert);
    writeFileSync(file('mismatched', 'tls.key'), mismatched.key);
    const tenant = tenantWithRedis({
      urlSecretRef: { name: 'url' },
      caBundleSecretRef: { name: 'redis-ca' },
      clientCertSecretRef: { name: 'mismatched' },
    });
    expect(() => createFlowStore(tenant, new SecretDirectory(root)))
      .to.throw()
      .with.property('code', 'REDIS_CLIENT_CERT_INVALID');
  });

  it('refuses a client certificate for a plain redis:// pool URL (REDIS_TLS_MISMATCH)', () => {
    expect(() => createPoolFlowStore({ url: read('plain', 'url'), clientCert: poolRedis(true).clientCert! }))
      .to.throw()
      .with.property('code', 'REDIS_TLS_MISMATCH');
  });

  it('a pool process started as the operator starts it (--redis-client-cert-file/--redis-client-key-file) becomes ready on that Redis', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jsm-sso-pool-'));
    const redisFlags = [
      '--redis-url-file',
      file('url', 'url'),
      '--redis-ca-file',
      file('redis-ca', 'ca.crt'),
      '--redis-client-cert-file',
      file('redis-client', 'tls.crt'),
      '--redis-client-key-file',
      file('redis-client', 'tls.key'),
    ];
    const { child, done, urls } = startPoolProcess(
      'broker',
      ['--pool-dir', dir, ...redisFlags],
      await freePort(),
    );
    try {
      const management = (await urls)['management']!;
      await eventually(async () => (await fetch(`${management}/readyz`)).status === 200, 'the pool ready');
    } finally {
      child.kill('SIGTERM');
      expect((await done).code).to.equal(0);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses half a client certificate, or one without a Redis URL or with --config (usage, exit 2)', async () => {
    for (const args of [
      [
        '--pool-dir',
        root,
        '--redis-url-file',
        file('url', 'url'),
        '--redis-client-cert-file',
        file('redis-client', 'tls.crt'),
      ],
      ['--pool-dir', root, '--redis-client-cert-file', 'c', '--redis-client-key-file', 'k'],
      ['--config', 'x.yaml', '--redis-client-cert-file', 'c', '--redis-client-key-file', 'k'],
    ]) {
      const { code, stderr } = await exited(jsmSso(['broker', ...args], { REDIS_URL: '' }));
      expect(code, args.join(' ')).to.equal(2);
      expect(stderr, args.join(' ')).to.match(/go together|needs a Redis URL|does not go with/);
    }
  });
});

describe('flow store over Redis Sentinel and Redis Cluster with TLS', () => {
  let ca: TestCa;
  let root: string;
  let secrets: SecretDirectory;
  const stops: (() => Promise<void>)[] = [];
  let tlsFiles: { certFile: string; keyFile: string; caFile: string; authClients: 'optional' };

  before(() => {
    ca = makeTestCa();
    const server = ca.issue({ hosts: LOCALHOST });
    const replication = ca.issue({ hosts: ['redis-replica'], client: true });
    ({ secrets, root } = secretsDir({
      'redis-server/tls.crt': server.certPem,
      'redis-server/tls.key': server.keyPem,
      'redis-replica/tls.crt': replication.certPem,
      'redis-replica/tls.key': replication.keyPem,
      'redis-ca/ca.crt': ca.caPem,
    }));
    tlsFiles = {
      certFile: join(root, 'redis-server', 'tls.crt'),
      keyFile: join(root, 'redis-server', 'tls.key'),
      caFile: join(root, 'redis-ca', 'ca.crt'),
      authClients: 'optional',
    };
  });
  after(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
    rmSync(root, { recursive: true, force: true });
    ca.cleanup();
  });

  function storeAt(url: string) {
    mkdirSync(join(root, 'url'), { recursive: true });
    writeFileSync(join(root, 'url', 'url'), url);
    // Its takes wait for a replica (ADRs 0261, 0272): one a loaded machine runs late must not fail them.
    return createFlowStore(
      tenantWithRedis({ urlSecretRef: { name: 'url' }, caBundleSecretRef: { name: 'redis-ca' } }),
      secrets,
      undefined,
      PATIENT_REPLICA,
    );
  }

  async function roundTrip(url: string): Promise<string | undefined> {
    const store = await answering(storeAt(url));
    try {
      await store.put('flow:1', 'state', 60);
      return await store.take('flow:1');
    } finally {
      await store.close();
    }
  }

  /** A TLS master behind a TLS Sentinel that names it `name`, and the URL that finds it. */
  async function sentinelManaged(name: string): Promise<{ master: LocalRedis; url: string }> {
    const master = await startLocalTlsRedis(tlsFiles);
    stops.push(() => master.stop());
    // A take through Sentinel waits for a replica to hold it (ADR 0261).
    const replica = await startLocalTlsRedis({
      ...tlsFiles,
      replicaOf: master.port,
      client: {
        certFile: join(root, 'redis-replica', 'tls.crt'),
        keyFile: join(root, 'redis-replica', 'tls.key'),
      },
    });
    stops.push(() => replica.stop());
    const sentinel = await startLocalTlsSentinel({ ...tlsFiles, masterPort: master.port, name });
    stops.push(() => sentinel.stop());
    return { master, url: `sentinels://localhost:${sentinel.port}?name=${name}` };
  }

  /** A TLS Redis Cluster of one master, which owns every slot, and its replica; and its URL. */
  async function tlsClusterNode(): Promise<{ node: LocalRedis; url: string }> {
    const node = await startLocalTlsRedis({ ...tlsFiles, cluster: true });
    stops.push(() => node.stop());
    // A take on a Cluster waits for a replica of the key's master to hold it (ADR 0272).
    const replica = await startLocalTlsRedis({
      ...tlsFiles,
      cluster: true,
      clusterReplicaOf: node.port,
      client: {
        certFile: join(root, 'redis-replica', 'tls.crt'),
        keyFile: join(root, 'redis-replica', 'tls.key'),
      },
    });
    stops.push(() => replica.stop());
    return { node, url: `clusters://127.0.0.1:${node.port}` };
  }

  it('finds the master through a TLS Sentinel (sentinels://…?name=) and talks TLS to it', async () => {
    const { url } = await sentinelManaged('mymaster');
    expect(await roundTrip(url)).to.equal('state');
  });

  it('works with a TLS Redis Cluster (clusters://)', async () => {
    const { url } = await tlsClusterNode();
    expect(await roundTrip(url)).to.equal('state');
  });

  it("claims and frees a person's back-channel slots on a TLS Redis Cluster: they share one hash slot (ADR 0157)", async () => {
    const { url } = await tlsClusterNode();
    const store = await answering(storeAt(url));
    try {
      const state = new BrokerState(store, 60, 600);
      const alice: LoginSession = { idp: 'corporate', backchannelKeys: { person: 'sub:alice' } };
      for (let i = 0; i <= BACKCHANNEL_SLOTS_PER_PERSON; i++) await state.saveSession(`s${i}`, alice);
      const found = await state.backchannelSessions('corporate', { person: 'sub:alice' });
      expect(found.map((s) => s.sessionIndex))
        .to.have.length(BACKCHANNEL_SLOTS_PER_PERSON)
        .and.include('s8');
      await state.endSession('s8', () => true);
      const left = await state.backchannelSessions('corporate', { person: 'sub:alice' });
      expect(left.map((s) => s.sessionIndex))
        .to.have.length(BACKCHANNEL_SLOTS_PER_PERSON - 1)
        .and.not.include('s8');
    } finally {
      await store.close();
    }
  });

  it('grants a write claim once on a TLS Redis Cluster: the claim and its witness share one hash slot (ADR 0187)', async () => {
    const { url } = await tlsClusterNode();
    const store = await answering(storeAt(url));
    try {
      expect(await store.claim('write:{claims}:create:1:a:k', 'pending', 60)).to.equal(true);
      expect(await store.claim('write:{claims}:create:1:a:k', 'pending', 60)).to.equal(false);
    } finally {
      await store.close();
    }
  });

  /** The data node stops answering (SIGSTOP): commands fail within their deadline, then recover. */
  async function stallAndRecover(url: string, dataNode: LocalRedis): Promise<void> {
    const store = await answering(storeAt(url));
    try {
      await store.put('flow:stall', 'before', 60);
      dataNode.process.kill('SIGSTOP');
      const failure = await store.put('flow:stall', 'during', 60).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failure).to.be.instanceOf(FlowStoreUnavailableError);
      // Ended by the command's own deadline (0.5 s), not by the connection dropped at its socket
      // timeout nor by a hang: what it ended on, not how many ms a loaded machine took.
      expect(String((failure as Error).cause)).to.match(/did not answer within 500 ms/);
      dataNode.process.kill('SIGCONT');
      const value = await eventually(
        () =>
          store.put('flow:stall', 'after', 60).then(
            () => store.get('flow:stall'),
            () => undefined,
          ),
        'a write after the node answers again',
        10_000,
      );
      expect(value).to.equal('after');
    } finally {
      dataNode.process.kill('SIGCONT');
      await store.close();
    }
  }

  it('fails fast and recovers when the Sentinel-managed master stalls', async () => {
    const { master, url } = await sentinelManaged('stalling');
    await stallAndRecover(url, master);
  });

  it('fails fast and recovers when a Cluster node stalls', async () => {
    const { node, url } = await tlsClusterNode();
    await stallAndRecover(url, node);
  });
});

describe('flow store over plain redis://', () => {
  it('warns REDIS_PLAINTEXT at start when Redis is off loopback, and not when it is on loopback', async () => {
    const { secrets, root } = secretsDir({
      'remote/url': 'redis://redis.acme.test:6379',
      'local/url': 'redis://127.0.0.1:6379',
    });
    const { logger, logs } = capturedLogger({ component: 'test' });
    try {
      for (const name of ['remote', 'local'])
        await createFlowStore(tenantWithRedis({ urlSecretRef: { name } }), secrets, logger).close();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
    expect(logs.map((l) => [l['event'], l['reason'], l['mode']])).to.deep.equal([
      ['redis.plaintext', 'REDIS_PLAINTEXT', 'standalone'],
    ]);
  });
});
