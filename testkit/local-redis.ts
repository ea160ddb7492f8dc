import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RedisOptions } from 'ioredis';
import { freePort } from '../common/net.js';
import { checkStoreAtRest } from './store-scan.js';

export { freePort } from '../common/net.js';

const execFileAsync = promisify(execFile);

export interface LocalRedis {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Runs `send` while `redis` is stopped (SIGSTOP: its connections stay up and nothing answers, the stall a
 * missing command deadline hangs on), and resumes it (SIGCONT) whatever `send` did.
 */
export async function whileStalled<T>(redis: LocalRedis, send: () => Promise<T>): Promise<T> {
  redis.process.kill('SIGSTOP');
  try {
    return await send();
  } finally {
    redis.process.kill('SIGCONT');
  }
}

/**
 * A redis-server whose data is snapshotted to `dir` only when asked (SAVE), as a Redis with RDB
 * persistence between two of its save points: a crash brings back the state of the last snapshot.
 */
export function startSnapshottedRedis(dir: string, port?: number): Promise<LocalRedis> {
  return startLocalRedis(['--dir', dir, '--dbfilename', 'dump.rdb'], port);
}

/**
 * Kills `redis` (SIGKILL: nothing is saved) and starts it again on its port from its last snapshot in
 * `dir`: what was written since that snapshot is gone, what was in it is back.
 */
export async function crashAndRestart(redis: LocalRedis, dir: string): Promise<LocalRedis> {
  if (redis.process.exitCode === null && redis.process.signalCode === null) {
    const exited = new Promise((resolve) => redis.process.once('exit', resolve));
    redis.process.kill('SIGKILL');
    await exited;
  }
  await redis.stop();
  return startSnapshottedRedis(dir, redis.port);
}

/**
 * A replica of the master on 127.0.0.1 at `masterPort`, returned once in sync: a Sentinel-managed
 * store's one-time markers wait for a replica to hold them (ADR 0261).
 */
export async function startLocalReplica(masterPort: number): Promise<LocalRedis> {
  const replica = await startLocalRedis(['--replicaof', '127.0.0.1', String(masterPort)]);
  await inSync(
    replica,
    () =>
      spawnSync('redis-cli', ['-p', String(replica.port), 'info', 'replication'], { encoding: 'utf8' })
        .stdout ?? '',
  );
  return replica;
}

/** Waits until `replication` (a replica's INFO replication) says its link to the master is up. */
async function inSync(replica: LocalRedis, replication: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!replication().includes('master_link_status:up')) {
    if (Date.now() > deadline) {
      await replica.stop();
      throw new Error('the replica did not reach its master');
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * What a test starts, stopped after each test in the reverse order of its start: `started` awaits a
 * Redis and records its stop; `stops` takes any other. Call inside a mocha `describe`.
 */
export function stoppedAfterEach(): {
  started: (redis: Promise<LocalRedis>) => Promise<LocalRedis>;
  stops: (() => Promise<void>)[];
} {
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });
  const started = async (redis: Promise<LocalRedis>) => {
    const running = await redis;
    stops.push(() => running.stop());
    return running;
  };
  return { started, stops };
}

export async function startLocalRedis(extraArgs: string[] = [], port?: number): Promise<LocalRedis> {
  const start = (chosen: number) =>
    spawnRedis(['--port', String(chosen), ...extraArgs], chosen, `redis://127.0.0.1:${chosen}`, [], {});
  // A port the caller names (a restart on the same port) is that port or a PortTakenError.
  return port === undefined ? onFreePort(start) : start(port);
}

export interface LocalTlsRedisOptions {
  /** PEM files for the server (certificate chain, key) and the CA that client certificates must chain to. */
  certFile: string;
  keyFile: string;
  caFile: string;
  /** `--tls-auth-clients`: yes (client certificate required), optional, or no. */
  authClients: 'yes' | 'optional' | 'no';
  /** A client certificate for the readiness ping when authClients is yes. */
  client?: { certFile: string; keyFile: string };
  /** A one-node Redis Cluster owning every slot (TLS on the cluster bus too). */
  cluster?: boolean;
  /** Addresses to listen on besides 127.0.0.1 (test/cluster: the node's bridge address, for pods). */
  alsoBind?: string[];
  /**
   * A replica of the TLS master on 127.0.0.1 at this port, replicating over TLS and showing `client`
   * (its own certificate is a server one); started once in sync.
   */
  replicaOf?: number;
  /**
   * With `cluster`: a replica of the TLS cluster's one master on 127.0.0.1 at this port (it joins the
   * cluster and follows it, showing `client` on the cluster bus and for replication), started once in
   * sync: a Cluster's one-time markers wait for a replica to hold them (ADR 0272).
   */
  clusterReplicaOf?: number;
}

/** A throwaway redis-server that speaks TLS only (`--port 0`); its url is rediss://127.0.0.1:<port>. */
export async function startLocalTlsRedis(options: LocalTlsRedisOptions): Promise<LocalRedis> {
  const clusterArgs = options.cluster
    ? // A lone node does not know its own address until it meets a peer, so it is told.
      [
        '--cluster-enabled',
        'yes',
        '--tls-cluster',
        'yes',
        '--cluster-config-file',
        'nodes.conf',
        '--cluster-announce-ip',
        '127.0.0.1',
      ]
    : [];
  const replicated = options.replicaOf ?? options.clusterReplicaOf;
  const replicaArgs =
    replicated === undefined
      ? []
      : [
          '--tls-replication',
          'yes',
          ...(options.replicaOf === undefined ? [] : ['--replicaof', '127.0.0.1', String(options.replicaOf)]),
          ...(options.client
            ? [
                '--tls-client-cert-file',
                options.client.certFile,
                '--tls-client-key-file',
                options.client.keyFile,
              ]
            : []),
        ];
  const cliArgs = tlsCliArgs(options);
  const redis = await onFreePort((chosen) =>
    spawnRedis(
      [...tlsServerArgs(chosen, options), ...clusterArgs, ...replicaArgs],
      chosen,
      `rediss://127.0.0.1:${chosen}`,
      cliArgs,
      tlsClientOptions(options),
    ),
  );
  const cli = (...args: string[]) =>
    spawnSync('redis-cli', [...cliArgs, '-p', String(redis.port), ...args], { encoding: 'utf8' }).stdout ??
    '';
  if (options.replicaOf !== undefined) await inSync(redis, () => cli('info', 'replication'));
  if (options.clusterReplicaOf !== undefined) {
    const master = String(options.clusterReplicaOf);
    const masterId = spawnSync('redis-cli', [...cliArgs, '-p', master, 'cluster', 'myid'], {
      encoding: 'utf8',
    }).stdout.trim();
    cli('cluster', 'meet', '127.0.0.1', master);
    // It can follow the master once it has heard of it.
    const deadline = Date.now() + 10_000;
    while (cli('cluster', 'replicate', masterId).trim() !== 'OK') {
      if (Date.now() > deadline) {
        await redis.stop();
        throw new Error('the cluster replica did not find its master');
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    await inSync(redis, () => cli('info', 'replication'));
  } else if (options.cluster) cli('cluster', 'addslotsrange', '0', '16383');
  if (options.cluster) {
    const deadline = Date.now() + 10_000;
    while (!cli('cluster', 'info').includes('cluster_state:ok')) {
      if (Date.now() > deadline) {
        await redis.stop();
        throw new Error('the cluster did not reach cluster_state:ok');
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return redis;
}

/** A TLS-only Redis Sentinel watching the master on 127.0.0.1:`masterPort` as group `name`. */
export async function startLocalTlsSentinel(
  options: LocalTlsRedisOptions & { masterPort: number; name: string },
): Promise<LocalRedis> {
  return onFreePort((chosen) =>
    spawnRedis(
      ['--sentinel', ...tlsServerArgs(chosen, options), '--tls-replication', 'yes'],
      chosen,
      `sentinels://127.0.0.1:${chosen}?name=${options.name}`,
      tlsCliArgs(options),
      undefined,
      `sentinel monitor ${options.name} 127.0.0.1 ${options.masterPort} 1\n`,
    ),
  );
}

/**
 * The timers of the sentinels startLocalSentinel starts, in ms. A failover's steps wait on them, and
 * Redis's defaults are made for a production's patience, not a test's: the old master is turned into
 * a replica only on an INFO reply (`infoPeriod`, 10 s by default) once it has been listed as a replica
 * for 4 × `publishPeriod` (8 s by default); a sentinel whose timer fired more than 2 s late (a loaded
 * machine) enters TILT and does nothing for `tiltPeriod` (30 s by default, past any test's budget).
 * Set with SENTINEL DEBUG (Redis 7); the TILT trigger itself is kept, as TILT is what keeps a stalled
 * sentinel from failing over on its own.
 */
export const SENTINEL_TIMERS = {
  downAfter: 1_000,
  failoverTimeout: 5_000,
  infoPeriod: 1_000,
  publishPeriod: 250,
  tiltPeriod: 2_000,
} as const;

/** A plain Redis Sentinel watching the master on 127.0.0.1:`masterPort` as group `name`, quick to fail over. */
export async function startLocalSentinel(options: { masterPort: number; name: string }): Promise<LocalRedis> {
  const sentinel = await onFreePort((chosen) =>
    spawnRedis(
      ['--sentinel', '--port', String(chosen)],
      chosen,
      `sentinel://127.0.0.1:${chosen}?name=${options.name}`,
      [],
      undefined,
      `sentinel monitor ${options.name} 127.0.0.1 ${options.masterPort} 1\n` +
        `sentinel down-after-milliseconds ${options.name} ${SENTINEL_TIMERS.downAfter}\n` +
        `sentinel failover-timeout ${options.name} ${SENTINEL_TIMERS.failoverTimeout}\n`,
    ),
  );
  const timers = Object.entries({
    'info-period': SENTINEL_TIMERS.infoPeriod,
    'publish-period': SENTINEL_TIMERS.publishPeriod,
    'tilt-period': SENTINEL_TIMERS.tiltPeriod,
  }).flatMap(([name, ms]) => [name, String(ms)]);
  // The sentinel just answered its PING: no deadline, which a loaded machine could miss.
  const answer = await execFileAsync(
    'redis-cli',
    ['-p', String(sentinel.port), 'sentinel', 'debug', ...timers],
    {
      encoding: 'utf8',
    },
  ).then(
    ({ stdout }) => stdout,
    (err: Error) => err.message,
  );
  if (answer.trim() !== 'OK') {
    await sentinel.stop();
    throw new Error(`the sentinel refused its timers: ${answer.trim() || 'no answer'}`);
  }
  return sentinel;
}

function tlsServerArgs(port: number, options: LocalTlsRedisOptions): string[] {
  return [
    '--port',
    '0',
    '--tls-port',
    String(port),
    '--tls-cert-file',
    options.certFile,
    '--tls-key-file',
    options.keyFile,
    '--tls-ca-cert-file',
    options.caFile,
    '--tls-auth-clients',
    options.authClients,
    ...(options.alsoBind?.length
      ? // This bind replaces spawnRedis's loopback-only one. Protected mode (no password) would
        // answer clients from those addresses DENIED; the client certificate authenticates them.
        ['--bind', '127.0.0.1', ...options.alsoBind, '--protected-mode', 'no']
      : []),
  ];
}

function tlsCliArgs(options: LocalTlsRedisOptions): string[] {
  return [
    '--tls',
    '--cacert',
    options.caFile,
    ...(options.client ? ['--cert', options.client.certFile, '--key', options.client.keyFile] : []),
  ];
}

/**
 * How the privacy scan's client reaches a TLS Redis: its CA, and the client certificate when it has
 * one; the server's name is not checked, as the server is the test's own on loopback.
 */
function tlsClientOptions(options: LocalTlsRedisOptions): RedisOptions {
  const client = options.client && {
    cert: readFileSync(options.client.certFile),
    key: readFileSync(options.client.keyFile),
  };
  return { tls: { ca: readFileSync(options.caFile), ...client, checkServerIdentity: () => undefined } };
}

/**
 * A redis-server that could not open its port because another process holds it: freePort() found the
 * port free, and between that look and the server's bind someone else (a parallel test process, an
 * outgoing connection) took it.
 */
export class PortTakenError extends Error {
  readonly code = 'PORT_TAKEN';
}

/** Ports tried before giving up: each clash is another process's brief hold, never the same port twice. */
const PORT_ATTEMPTS = 5;

/**
 * Starts a server on a port from `pickPort`, again on another port while the one picked turns out
 * taken. Exported for the test that hands it a taken port first.
 */
export async function onFreePort(
  start: (port: number) => Promise<LocalRedis>,
  pickPort: () => Promise<number> = freePort,
): Promise<LocalRedis> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(await pickPort());
    } catch (err) {
      if (!(err instanceof PortTakenError) || attempt === PORT_ATTEMPTS) throw err;
    }
  }
}

/**
 * A redis-cli answer, or '' when none came within 2 s (a silent listener on the port, or a stalled
 * Redis, must not hang the run).
 */
export async function redisCli(args: string[]): Promise<string> {
  try {
    return (await execFileAsync('redis-cli', args, { encoding: 'utf8', timeout: 2_000 })).stdout;
  } catch {
    return '';
  }
}

/** The privacy scan's client gives up on a Redis that does not answer: it must not hold up a stop. */
const UNWAITED: RedisOptions = { connectTimeout: 2_000, commandTimeout: 2_000, retryStrategy: () => null };

/**
 * `atRest`, when given, is how the privacy scan's client reaches the server (a Sentinel holds no
 * data: none); `config`, when given, goes to a config file read before the flags (Sentinel needs a
 * writable one).
 */
async function spawnRedis(
  args: string[],
  port: number,
  url: string,
  pingArgs: string[],
  atRest?: RedisOptions,
  config?: string,
): Promise<LocalRedis> {
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    throw new Error('redis-server is not installed (apt-get install redis-server)');
  }
  const dir = mkdtempSync(join(tmpdir(), 'jsm-sso-redis-'));
  const configArgs: string[] = [];
  if (config !== undefined) {
    writeFileSync(join(dir, 'redis.conf'), config);
    configArgs.push(join(dir, 'redis.conf'));
  }
  const log = join(dir, 'redis.log');
  const child = spawn(
    'redis-server',
    [
      ...configArgs,
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      // A replica's full sync starts at once. Redis 7 first waits 5 s for more replicas to share it
      // (repl-diskless-sync-delay): a fixed timer in every replica sync of the tests, half of the
      // 10 s most of them are given, that a loaded machine added to.
      '--repl-diskless-sync-delay',
      '0',
      '--dir',
      dir,
      '--logfile',
      log,
      ...args,
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const giveUp = async (err: Error): Promise<never> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
    throw err;
  };
  const cli = (...command: string[]) => redisCli([...pingArgs, '-p', String(port), ...command]);
  const deadline = Date.now() + 10_000;
  for (;;) {
    // Whoever answers on the port must be this child: a PONG alone would also come from another
    // test's Redis that took the port first, and this test would share (and flush) its data.
    const pid = /^process_id:(\d+)/m.exec(await cli('info', 'server'))?.[1];
    if (pid !== undefined && Number(pid) !== child.pid) {
      return giveUp(new PortTakenError(`port ${port} is another Redis's (pid ${pid}), not the one started`));
    }
    // INFO answers while a snapshot loads; PING waits for the data.
    if (pid !== undefined && (await cli('ping')).trim() === 'PONG') break;
    if (child.exitCode !== null) {
      const said = existsSync(log) ? readFileSync(log, 'utf8') : '';
      if (/Address already in use/.test(said)) {
        return giveUp(new PortTakenError(`port ${port} was taken before redis-server could open it`));
      }
      return giveUp(
        new Error(`redis-server exited on port ${port}: ${said.trim().split('\n').slice(-3).join(' | ')}`),
      );
    }
    if (Date.now() > deadline) return giveUp(new Error(`redis-server did not start on port ${port}`));
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    port,
    process: child,
    async stop() {
      // A process ended by a signal has no exit code, only its signalCode.
      if (child.exitCode === null && child.signalCode === null) {
        // What the product stored in the test's own Redis is read before it is gone (ADR 0278);
        // under mocha only, as a bench's Redis holds its synthetic load. A Redis the test left
        // unable to answer (paused, its ACL changed) is not read: its error is no finding.
        if (atRest && typeof afterEach === 'function')
          await checkStoreAtRest(url, { ...atRest, ...UNWAITED }).catch(() => undefined);
        child.kill('SIGTERM');
      }
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
