import { type ChildProcess, spawn } from 'node:child_process';
import { createPrivateKey, randomBytes, sign } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { packageRoot } from '../common/paths.js';
import { issueSignedResponse, loadSigningCredential } from '../common/saml/index.js';
import { startDevIdp } from '../dev/idp/provider.js';
import {
  Browser,
  createPki,
  devClient,
  listenPlaceholder,
  loginThroughBroker,
  oidcIdp,
  type Pki,
  portalSp,
  startStack,
  tenantFor,
} from '../testkit/broker-harness.js';
import { startLocalRedis } from '../testkit/local-redis.js';

/**
 * Broker figures for `npm run bench`: issuance speed against raw RSA (same run; sequential and
 * concurrent, each against its like-for-like baseline), the time the broker itself adds per
 * request, full logins on one and on two `jsm-sso broker` processes sharing Redis, and memory with
 * 6,000 flows in flight.
 */
export async function benchBroker(): Promise<Record<string, number | string>> {
  return {
    ...(await signingFigures()),
    ...(await brokerTimeFigures()),
    ...(await processFigures()),
    ...(await memoryFigures()),
    // V8's young generation grows to 2 x 16 MB under allocation pressure; capped, as a deployment
    // could do with NODE_OPTIONS, the same 6,000 flows fit in far less RSS.
    ...(await memoryFigures(['--max-semi-space-size=2'], '_semi_space_2mb')),
  };
}

interface Sample {
  calls: number;
  ms: number;
}

/** Calls of `fn` completed back to back on this thread in about `ms`. */
function runSync(fn: () => void, ms: number): Sample {
  const started = performance.now();
  let calls = 0;
  while (performance.now() - started < ms) {
    fn();
    calls++;
  }
  return { calls, ms: performance.now() - started };
}

/** Calls of async `fn` completed in about `ms` with `concurrency` calls always in flight. */
async function runConcurrent(concurrency: number, fn: () => Promise<unknown>, ms: number): Promise<Sample> {
  const started = performance.now();
  let calls = 0;
  const worker = async () => {
    while (performance.now() - started < ms) {
      await fn();
      calls++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { calls, ms: performance.now() - started };
}

/**
 * Calls per second of each workload, measured in interleaved rounds: on a shared, noisy machine
 * the load changes from second to second, and a ratio of two figures taken seconds apart measures
 * that change as much as the code. Interleaving gives every workload the same share of it.
 */
async function interleavedRates<K extends string>(
  workloads: Record<K, (ms: number) => Promise<Sample> | Sample>,
  rounds: number,
  sliceMs: number,
): Promise<Record<K, number>> {
  const totals = new Map<K, Sample>();
  for (let round = 0; round < rounds; round++) {
    for (const [name, run] of Object.entries(workloads) as [K, (ms: number) => Promise<Sample> | Sample][]) {
      const sample = await run(sliceMs);
      const total = totals.get(name) ?? { calls: 0, ms: 0 };
      totals.set(name, { calls: total.calls + sample.calls, ms: total.ms + sample.ms });
    }
  }
  return Object.fromEntries(
    [...totals].map(([name, { calls, ms }]) => [name, (calls * 1000) / ms]),
  ) as Record<K, number>;
}

/** Signatures or Responses in flight at once in the concurrent signing figures (named `_8_concurrent`). */
const CONCURRENCY = 8;

/**
 * Response issuance against raw RSA-2048 `crypto.sign`, all in this run. The broker signs with
 * async `crypto.sign` (libuv threadpool), so several signatures run in parallel on several cores:
 * the like-for-like baseline for concurrent issuance is raw async signing at the same concurrency,
 * not one thread of synchronous signing. Each Response carries two signatures (Assertion, then
 * Response over it), so 0.5 is the ceiling of both like-for-like ratios. See broker/README.md.
 */
async function signingFigures(): Promise<Record<string, number>> {
  const pki = createPki();
  const credential = loadSigningCredential(pki.brokerKey, pki.brokerCert);
  const key = createPrivateKey(pki.brokerKey);
  const data = randomBytes(256);
  const signAsync = promisify(sign);
  const issue = () =>
    issueSignedResponse(credential, {
      issuer: 'https://b/saml/metadata',
      audience: 'https://p/saml/metadata',
      acsUrl: 'https://p/saml/acs',
      inResponseTo: '_r',
      nameId: 'alice@acme.test',
      nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
      attributes: [
        { name: 'email', values: ['alice@acme.test'] },
        { name: 'groups', values: ['a', 'b'] },
      ],
      sessionIndex: '_s',
      authnInstant: new Date(),
      sessionNotOnOrAfter: new Date(Date.now() + 3_600_000),
      now: new Date(),
      lifetimeSeconds: 300,
    });
  try {
    // Warm-up (JIT, threadpool start) so that no figure pays for it.
    await runConcurrent(CONCURRENCY, issue, 300);
    // 8 rounds of 4 x 250 ms: 2 s per workload, as the single 2 s runs before.
    const rates = await interleavedRates(
      {
        rawSync: (ms) => runSync(() => sign('sha256', data, key), ms),
        rawAsync: (ms) => runConcurrent(CONCURRENCY, () => signAsync('sha256', data, key), ms),
        sequential: (ms) => runConcurrent(1, issue, ms),
        concurrent: (ms) => runConcurrent(CONCURRENCY, issue, ms),
      },
      8,
      250,
    );
    const ratio = (a: number, b: number) => Number((a / b).toFixed(3));
    return {
      'broker.raw_rsa2048_sync_signs_per_s_1_thread': Math.round(rates.rawSync),
      'broker.raw_rsa2048_async_signs_per_s_8_concurrent': Math.round(rates.rawAsync),
      'broker.signed_responses_per_s_sequential': Math.round(rates.sequential),
      'broker.signed_responses_per_s_8_concurrent': Math.round(rates.concurrent),
      // Like for like, ceiling 0.5: one Response at a time against one signature at a time.
      'broker.ratio_responses_sequential_to_raw_sync': ratio(rates.sequential, rates.rawSync),
      // NOT like for like: parallel issuance against single-thread signing (can exceed 0.5).
      'broker.ratio_responses_8_concurrent_to_raw_sync': ratio(rates.concurrent, rates.rawSync),
      // Like for like, ceiling 0.5: both sides on the threadpool with 8 in flight.
      'broker.ratio_responses_8_concurrent_to_raw_async_8_concurrent': ratio(
        rates.concurrent,
        rates.rawAsync,
      ),
    };
  } finally {
    pki.cleanup();
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

/**
 * The broker's own handling time of /saml/sso and /oidc/callback (request in to response
 * finished), minus the time it spent waiting on the IdP (discovery, token, JWKS, userinfo), in
 * one in-process broker with sequential logins.
 */
async function brokerTimeFigures(): Promise<Record<string, number>> {
  const stack = await startStack();
  // Timed where the IdP answers: the broker calls it through its own TLS fetch as single undici
  // exchanges (ADR 0113), which a wrapper of globalThis.fetch never sees.
  let idpMs = 0;
  stack.idp.server.prependListener('request', (_req, res) => {
    const started = performance.now();
    res.on('finish', () => {
      idpMs += performance.now() - started;
    });
  });
  const samples: Record<string, number[]> = { '/saml/sso': [], '/oidc/callback': [] };
  let recording = false;
  stack.broker.server.prependListener('request', (req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    const started = performance.now();
    const idpBefore = idpMs;
    res.on('finish', () => {
      if (recording) samples[path]?.push(performance.now() - started - (idpMs - idpBefore));
    });
  });
  const login = () =>
    loginThroughBroker({ portal: stack.portal, brokerUrl: stack.broker.url }, new Browser());
  try {
    await login(); // discovery and JIT warm-up
    recording = true;
    const logins = 60;
    const started = Date.now();
    for (let i = 0; i < logins; i++) await login();
    const sequentialPerSecond = (logins * 1000) / (Date.now() - started);
    const figures: Record<string, number> = {
      'broker.full_logins_per_s_in_process_sequential': Number(sequentialPerSecond.toFixed(1)),
    };
    for (const [route, list] of Object.entries(samples)) {
      list.sort((a, b) => a - b);
      const name = route === '/saml/sso' ? 'sso' : 'callback';
      figures[`broker.own_ms_${name}_p50`] = Number(percentile(list, 50).toFixed(2));
      figures[`broker.own_ms_${name}_p99`] = Number(percentile(list, 99).toFixed(2));
    }
    return figures;
  } finally {
    await stack.close();
  }
}

/**
 * `jsm-sso broker` as a child process, as deployed: the compiled dist/cli/main.js (`npm run build`),
 * whether this bench runs from dist or from source under tsx. Only without a build does it fall back
 * to the TypeScript source under tsx, whose compiler alone costs tens of MB of RSS.
 */
export const BROKER_ENTRY = existsSync(join(packageRoot(), 'dist', 'cli', 'main.js'))
  ? { runtime: 'dist', args: [join(packageRoot(), 'dist', 'cli', 'main.js')] }
  : { runtime: 'tsx', args: ['--import=tsx', join(packageRoot(), 'cli', 'main.ts')] };

/**
 * Another build of the broker to compare the CPU figure with, in the same run (its
 * `dist/cli/main.js`, e.g. of a worktree at the commit before a change): rounds alternate between
 * the two processes, so both meet the same load.
 */
export const BASELINE_ENTRY = process.env['JSM_SSO_BENCH_BASELINE_BROKER'];

export function spawnBroker(
  configFile: string,
  pki: Pki,
  publicUrlPort: number,
  nodeFlags: string[] = [],
  entry: string[] = BROKER_ENTRY.args,
  launcher: string[] = [],
): Promise<{ child: ChildProcess; url: string; managementUrl: string }> {
  const [command, ...launcherArgs] = [...launcher, process.execPath];
  const child = spawn(
    command!,
    [
      ...launcherArgs,
      ...nodeFlags,
      ...entry,
      'broker',
      '--config',
      configFile,
      '--secrets-dir',
      pki.dir,
      '--host',
      '127.0.0.1',
      '--port',
      String(publicUrlPort),
      '--management-port',
      '0',
      '--drain-seconds',
      '0',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const match = /"event":"server.listening","server":"broker","url":"([^"]+)"/.exec(buffered);
      const management = /"event":"server.listening","server":"management","url":"([^"]+)"/.exec(buffered);
      if (match && management) {
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        resolve({ child, url: match[1]!, managementUrl: management[1]! });
      }
    });
    child.once('exit', (code) => reject(new Error(`broker process exited with ${code}`)));
  });
}

/**
 * Full logins per second with 8 browsers at once, against one `jsm-sso broker` process and against
 * two sharing Redis (each login starts on one process and its callback lands on the other, as
 * behind a load balancer). The dev IdP and the browsers run in this process, on the same cores.
 */
async function processFigures(): Promise<Record<string, number>> {
  const pki = createPki();
  const redis = await startLocalRedis();
  const publicUrl = await listenPlaceholder();
  publicUrl.server.close();
  const idp = await startDevIdp({ clients: [devClient(publicUrl.url)] });
  mkdirSync(join(pki.dir, 'redis'));
  writeFileSync(join(pki.dir, 'redis', 'url'), redis.url);
  const tenant = tenantFor(publicUrl.url, [oidcIdp('corporate', idp.issuer)], (spec) => {
    spec.redis = { urlSecretRef: { name: 'redis' } };
  });
  const configFile = join(pki.dir, 'tenant.yaml');
  writeFileSync(configFile, stringify(tenant));
  const a = await spawnBroker(configFile, pki, 0);
  const b = await spawnBroker(configFile, pki, 0);
  const spawned = [a, b];
  const portal = portalSp(publicUrl.url, pki);
  const run = async (startVia: string, callbackVia: string, seconds: number) => {
    const end = Date.now() + seconds * 1000;
    let done = 0;
    const worker = async () => {
      while (Date.now() < end) {
        await loginThroughBroker({ portal, brokerUrl: publicUrl.url, callbackVia }, new Browser(), {
          startVia,
        });
        done++;
      }
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: 8 }, worker));
    return { done, perSecond: (done * 1000) / (Date.now() - started) };
  };
  try {
    await run(a.url, b.url, 1); // warm-up: discovery in both processes
    const one = await run(a.url, a.url, 8);
    const two = await run(a.url, b.url, 8);
    // Fresh processes for the CPU figure, started and warmed alike, so neither carries more history.
    const measured = [
      await spawnBroker(configFile, pki, 0),
      ...(BASELINE_ENTRY ? [await spawnBroker(configFile, pki, 0, [], [BASELINE_ENTRY])] : []),
    ];
    spawned.push(...measured);
    for (const broker of measured) await run(broker.url, broker.url, 2);
    const cpu = await cpuPerLogin(measured, (url) => run(url, url, 2));
    return {
      'broker.full_logins_per_s_1_process_8_concurrent': Number(one.perSecond.toFixed(1)),
      'broker.full_logins_per_s_2_processes_redis_8_concurrent': Number(two.perSecond.toFixed(1)),
      'broker.process_cpu_ms_per_login_p50': cpu[0]!,
      ...(cpu[1] === undefined
        ? {}
        : {
            'broker.process_cpu_ms_per_login_p50_baseline': cpu[1],
            'broker.ratio_cpu_per_login_to_baseline': Number((cpu[0]! / cpu[1]).toFixed(3)),
          }),
    };
  } finally {
    for (const { child } of spawned) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    await idp.close();
    await redis.stop();
    pki.cleanup();
  }
}

/**
 * The broker process's own CPU time (user + system, from its `process_cpu_seconds_total`) per full
 * login: the median of 9 rounds of 2 s, each round's CPU over its logins. CPU time, unlike wall
 * time or logins per second, barely moves with the load of other processes on a shared machine, so
 * this is the figure to compare two builds of the broker by (ADR 0066). With several processes the
 * rounds alternate between them.
 */
async function cpuPerLogin(
  brokers: ReadonlyArray<{ url: string; managementUrl: string }>,
  round: (url: string) => Promise<{ done: number }>,
): Promise<number[]> {
  const cpuSeconds = async (managementUrl: string) => {
    const text = await (await fetch(`${managementUrl}/metrics`)).text();
    return Number(/^process_cpu_seconds_total (\S+)/m.exec(text)![1]);
  };
  const perLogin = brokers.map((): number[] => []);
  for (let i = 0; i < 9; i++) {
    // Each round in the other order, so that neither build always runs first.
    const order = [...brokers.entries()];
    if (i % 2 === 1) order.reverse();
    for (const [n, broker] of order) {
      const before = await cpuSeconds(broker.managementUrl);
      const { done } = await round(broker.url);
      perLogin[n]!.push((((await cpuSeconds(broker.managementUrl)) - before) * 1000) / done);
    }
  }
  return perLogin.map((list) =>
    Number(
      percentile(
        [...list].sort((x, y) => x - y),
        50,
      ).toFixed(3),
    ),
  );
}

/**
 * RSS of a `jsm-sso broker` process (in-memory flow store) holding 6,000 logins in flight: each
 * a signed AuthnRequest accepted and sent on to the IdP, none completed. Each login holds three
 * entries (the flow, the AuthnRequest's replay marker, the OIDC state), so 6,000 is what the store's
 * cap of DEFAULT_MEMORY_STORE_MAX_ENTRIES (20,000) holds; beyond it the broker answers 503.
 */
async function memoryFigures(
  nodeFlags: string[] = [],
  suffix = '',
): Promise<Record<string, number | string>> {
  const pki = createPki();
  const publicUrl = await listenPlaceholder();
  publicUrl.server.close();
  const idp = await startDevIdp({ clients: [devClient(publicUrl.url)] });
  const configFile = join(pki.dir, 'tenant.yaml');
  writeFileSync(configFile, stringify(tenantFor(publicUrl.url, [oidcIdp('corporate', idp.issuer)])));
  const broker = await spawnBroker(configFile, pki, 0, nodeFlags);
  const rssMb = () => {
    const status = readFileSync(`/proc/${broker.child.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
  };
  // The broker's own view of its V8 heap (prom-client default metrics on the management port).
  const heapUsedMb = async () => {
    const text = await (await fetch(`${broker.managementUrl}/metrics`)).text();
    return Number(/^nodejs_heap_size_used_bytes (\S+)/m.exec(text)![1]) / 1024 / 1024;
  };
  try {
    const portal = portalSp(publicUrl.url, pki);
    const flows = 6_000;
    const startFlow = async () => {
      const authorize = new URL(await portal.getAuthorizeUrlAsync('rs', undefined, {}));
      const response = await fetch(`${broker.url}/saml/sso${authorize.search}`, { redirect: 'manual' });
      if (response.status !== 302) throw new Error(`broker answered ${response.status}`);
    };
    await startFlow(); // discovery
    const idle = rssMb();
    const heapIdle = await heapUsedMb();
    let started = 1;
    const worker = async () => {
      while (started < flows) {
        started++;
        await startFlow();
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const loaded = rssMb();
    const heapLoaded = await heapUsedMb();
    const figures: Record<string, number> = {
      'broker.process_rss_mb_before': Math.round(idle),
      'broker.process_rss_mb_6000_flows_in_flight': Math.round(loaded),
      // RSS growth over the flows; the heap figures show how little of it is live flow state.
      'broker.process_rss_bytes_per_flow': Math.round(((loaded - idle) * 1024 * 1024) / flows),
      'broker.process_heap_used_mb_before': Number(heapIdle.toFixed(1)),
      'broker.process_heap_used_mb_6000_flows_in_flight': Number(heapLoaded.toFixed(1)),
    };
    return {
      ...(suffix ? {} : { 'broker.process_runtime': BROKER_ENTRY.runtime }),
      ...Object.fromEntries(Object.entries(figures).map(([key, value]) => [`${key}${suffix}`, value])),
    };
  } finally {
    broker.child.kill('SIGTERM');
    await new Promise((resolve) => broker.child.once('exit', resolve));
    await idp.close();
    pki.cleanup();
  }
}
