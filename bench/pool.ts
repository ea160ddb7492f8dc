// Issue 16's pool figures, from real `jsm-sso broker|portal --pool-dir` processes reading one folder
// of tenant bundles: RSS with 1, 100, 1,000 and 10,000 idle tenants and the marginal memory per
// tenant; how long a tenant added to the running pools takes to be served by both; RSS once every
// tenant has been used (built parts bounded, ADR 0123); and sign-ins per
// second of broker CPU spread over 100 tenants against the same at one tenant, in the same process
// and in interleaved rounds (the ratio is only meaningful measured side by side).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import { MemoryFlowStore } from '../common/flowstore/index.js';
import { freePort } from '../common/net.js';
import { createSelfSignedCertificate } from '../common/pki.js';
import { DEFAULT_BUILT_PART_LIMITS } from '../common/pool/built-parts.js';
import { startDevIdp } from '../dev/idp/provider.js';
import { ServiceProvider } from '../portal/saml/sp.js';
import { Browser, CLIENT_SECRET, loginAtDevIdp } from '../testkit/broker-harness.js';
import { memoryOf } from '../testkit/operator-process.js';
import { onLogLine } from '../testkit/part-process.js';
import { startPoolProcess } from '../testkit/pool.js';
import { BROKER_ENTRY } from './broker.js';
import { type BundleKeys, brokerUrlOf, PoolBundles, type PoolPorts, portalUrlOf } from './pool-bundles.js';

/** Idle tenant counts measured; `JSM_SSO_BENCH_POOL_TENANTS` caps them for a quick run. */
const IDLE_STEPS = [1, 100, 1_000, 10_000];
const MAX_TENANTS = Number(process.env['JSM_SSO_BENCH_POOL_TENANTS'] ?? 10_000);
/** Tenants sign-ins are spread over, each with its own keys. */
const ACTIVE_TENANTS = 100;
const ROUNDS = 10;
const SIGN_INS_PER_ROUND = 40;
const CONCURRENCY = 4;
/** Let a pool settle (lazy work, GC) before its RSS is read. */
const SETTLE_MS = 3_000;
/** Idle CPU is read over a little more than one periodic rescan of the pool folder (every 10 s). */
const IDLE_CPU_WINDOW_MS = 10_500;

const TARGETS = {
  perTenantMb: 2,
  addedMs: 5_000,
  spreadRatio: 0.9,
};

export async function benchPool(): Promise<Record<string, number | string>> {
  const root = mkdtempSync(join(tmpdir(), 'jsm-sso-pool-bench-'));
  const ports: PoolPorts = { broker: await freePort(), portal: await freePort() };
  const activeCount = Math.min(ACTIVE_TENANTS, MAX_TENANTS);
  const idp = await startDevIdp({
    clients: [
      {
        client_id: 'jsm-sso',
        client_secret: CLIENT_SECRET,
        redirect_uris: Array.from(
          { length: activeCount },
          (_, i) => `${brokerUrlOf(i, ports)}/oidc/callback`,
        ),
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
  });
  // Every tenant host is reached at the pools' port on 127.0.0.1, as DNS and an ingress would do.
  const previousDispatcher = getGlobalDispatcher();
  const ingress = loopbackIngress();
  setGlobalDispatcher(ingress);
  const pools: PoolProcess[] = [];
  try {
    // The site is never called: the figures need the portal's sign-in pages, not Atlassian.
    const bundles = new PoolBundles(root, ports, idp.issuer, 'http://127.0.0.1:9');
    const shared = await keysFor('shared');
    const active = await Promise.all(Array.from({ length: activeCount }, (_, i) => keysFor(`bench-${i}`)));
    const keysOf = (index: number) => active[index] ?? shared;
    const figures: Record<string, number | string> = {};

    // --- RSS with idle tenants ---------------------------------------------------------------
    bundles.add(0, keysOf(0));
    const broker = startBenchPool('broker', bundles.dir, ports.broker);
    const portal = startBenchPool('portal', bundles.dir, ports.portal);
    pools.push(broker, portal);
    await Promise.all(pools.map((p) => p.listening));
    let added = 1;
    const rss: Record<number, number> = {};
    for (const step of IDLE_STEPS.filter((n) => n <= MAX_TENANTS)) {
      for (; added < step; added++) bundles.add(added, keysOf(added));
      await Promise.all(pools.map((p) => p.waitForTenants(step)));
      const cpuBefore = pools.map((p) => cpuMsOf(p.pid));
      await new Promise((resolve) => setTimeout(resolve, IDLE_CPU_WINDOW_MS));
      const idleCpu = pools.map((p, i) => (100 * (cpuMsOf(p.pid) - cpuBefore[i]!)) / IDLE_CPU_WINDOW_MS);
      const brokerMb = memoryOf(broker.pid).rssMb;
      const portalMb = memoryOf(portal.pid).rssMb;
      rss[step] = brokerMb + portalMb;
      figures[`pool.rss_mb_${step}_idle_tenants (broker + portal)`] =
        `${round1(rss[step])} (broker ${round1(brokerMb)}, portal ${round1(portalMb)})`;
      // What an idle pool spends watching its folder (events, and a look at every bundle every 10 s).
      figures[`pool.idle_cpu_percent_of_a_core_${step}_tenants (broker, portal)`] =
        `${round1(idleCpu[0]!)}, ${round1(idleCpu[1]!)}`;
    }
    // A scrape of the largest pools: the signing-certificate gauge parses nothing after the first (ADR 0122).
    for (const [name, pool] of [
      ['broker', broker],
      ['portal', portal],
    ] as const) {
      const scrape = async () => (await fetch(`${await pool.management}/metrics`)).text();
      await scrape();
      const before = cpuMsOf(pool.pid);
      await scrape();
      figures[`pool.metrics_scrape_cpu_ms_${added}_tenants (${name})`] = round1(cpuMsOf(pool.pid) - before);
    }
    const most = Math.max(...Object.keys(rss).map(Number));
    const perTenantMb = most > 1 ? (rss[most]! - rss[1]!) / (most - 1) : Number.NaN;
    figures[
      `pool.marginal_mb_per_idle_tenant (1 to ${most}, broker + portal; target <= ${TARGETS.perTenantMb})`
    ] = verdict(perTenantMb, perTenantMb <= TARGETS.perTenantMb, 4);

    // --- a tenant added to the running pools, until both serve it ---------------------------
    const started = performance.now();
    bundles.add(added, keysOf(added));
    await Promise.all([
      untilServed(`${brokerUrlOf(added, ports)}/saml/metadata`),
      untilServed(`${portalUrlOf(added, ports)}/saml/metadata`),
    ]);
    const addedMs = performance.now() - started;
    figures[`pool.tenant_added_to_served_ms (pools of ${added}; target <= ${TARGETS.addedMs})`] = verdict(
      addedMs,
      addedMs <= TARGETS.addedMs,
      0,
    );

    // --- every tenant used once: built parts stay within the pools' limit ----------------------
    const tenantsNow = added + 1;
    await useEachOnce(tenantsNow, (i) => [
      `${brokerUrlOf(i, ports)}/saml/metadata`,
      `${portalUrlOf(i, ports)}/saml/metadata`,
    ]);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const usedBrokerMb = memoryOf(broker.pid).rssMb;
    const usedPortalMb = memoryOf(portal.pid).rssMb;
    figures[
      `pool.rss_mb_after_each_of_${tenantsNow}_tenants_used_once (broker + portal; at most ${DEFAULT_BUILT_PART_LIMITS.max} parts kept built each)`
    ] =
      `${round1(usedBrokerMb + usedPortalMb)} (broker ${round1(usedBrokerMb)}, portal ${round1(usedPortalMb)})`;

    // --- sign-ins per second of broker CPU: 100 tenants against 1 ----------------------------
    // In a broker pool of the 100 tenants only: the big folder's re-reading would add noise.
    await Promise.all(pools.map((p) => p.stop()));
    const activeBundles = new PoolBundles(join(root, 'active'), ports, idp.issuer, 'http://127.0.0.1:9');
    for (let i = 0; i < activeCount; i++) activeBundles.add(i, keysOf(i));
    const signInBroker = startBenchPool('broker', activeBundles.dir, ports.broker);
    pools.push(signInBroker);
    await signInBroker.listening;
    await signInBroker.waitForTenants(activeCount);
    const sps = Array.from(
      { length: activeCount },
      (_, i) =>
        new ServiceProvider({
          portalUrl: portalUrlOf(i, ports),
          brokerUrl: brokerUrlOf(i, ports),
          signingKeyPem: keysOf(i).portal.keyPem,
          signingCertPem: keysOf(i).portal.certPem,
          brokerCertificates: { kind: 'configured', certificates: async () => [keysOf(i).broker.certPem] },
          replayStore: new MemoryFlowStore(),
          signatureAlgorithm: bundles.tenant(i).spec.signatureAlgorithm,
        }),
    );
    let next = 0;
    const spread = () => next++ % activeCount;
    // Warm-up: each active tenant's broker is built and has read its IdP's discovery.
    await signIns(sps, ports, activeCount, spread);
    const cpu = { one: 0, spread: 0 };
    const roundRatios: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const round = { one: 0, spread: 0 };
      // Each goes first in half the rounds, so a drift in the machine's load favours neither.
      for (const kind of r % 2 === 0 ? (['one', 'spread'] as const) : (['spread', 'one'] as const)) {
        const before = cpuMsOf(signInBroker.pid);
        await signIns(sps, ports, SIGN_INS_PER_ROUND, kind === 'one' ? () => 0 : spread);
        round[kind] = cpuMsOf(signInBroker.pid) - before;
        cpu[kind] += round[kind];
      }
      // The same number of sign-ins each way: the ratio of sign-ins per CPU second is that of CPU.
      roundRatios.push(round.one / round.spread);
    }
    const signInsEach = ROUNDS * SIGN_INS_PER_ROUND;
    figures['pool.sign_ins_per_broker_cpu_s_1_tenant'] = round1((signInsEach * 1000) / cpu.one);
    figures[`pool.sign_ins_per_broker_cpu_s_spread_over_${activeCount}_tenants`] = round1(
      (signInsEach * 1000) / cpu.spread,
    );
    const ratio = cpu.one / cpu.spread;
    roundRatios.sort((x, y) => x - y);
    figures[`pool.ratio_sign_ins_per_core_${activeCount}_tenants_to_1 (target >= ${TARGETS.spreadRatio})`] =
      `${verdict(ratio, ratio >= TARGETS.spreadRatio, 3)}; per round ${roundRatios[0]!.toFixed(2)}-${roundRatios.at(-1)!.toFixed(2)}`;
    return figures;
  } finally {
    await Promise.all(pools.map((p) => p.stop()));
    setGlobalDispatcher(previousDispatcher);
    await ingress.close();
    await idp.close();
    rmSync(root, { recursive: true, force: true });
  }
}

/** A figure beside whether it meets its target: the bench says so where a target is missed. */
function verdict(value: number, met: boolean, digits: number): string {
  return `${value.toFixed(digits)} (${met ? 'met' : 'MISSED'})`;
}

function round1(value: number): number {
  return Number(value.toFixed(1));
}

async function keysFor(label: string): Promise<BundleKeys> {
  const [broker, portal] = await Promise.all([
    createSelfSignedCertificate({ commonName: `${label} broker` }),
    createSelfSignedCertificate({ commonName: `${label} portal` }),
  ]);
  return { broker, portal };
}

/** An HTTP client dispatcher that connects every host to 127.0.0.1 at the URL's port (Host unchanged). */
function loopbackIngress(): Agent {
  return new Agent({
    connect: (options, callback) => {
      const socket = connect({ host: '127.0.0.1', port: Number(options.port) });
      socket.once('connect', () => callback(null, socket));
      socket.once('error', (err) => callback(err, null));
    },
  });
}

interface PoolProcess {
  pid: number;
  listening: Promise<void>;
  /** The management server's URL (/metrics). */
  management: Promise<string>;
  waitForTenants(count: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `jsm-sso <part> --pool-dir DIR` as deployed (BROKER_ENTRY) on 127.0.0.1:`port`, counting the tenants
 * it logs as added. On its memory store whatever the shell exports: a pool takes $REDIS_URL when set
 * (local runs), and the figures are those of a pool without Redis (ADR 0359).
 */
function startBenchPool(part: 'broker' | 'portal', dir: string, port: number): PoolProcess {
  const { child, done, urls } = startPoolProcess(
    part,
    ['--pool-dir', dir],
    port,
    { REDIS_URL: '' },
    BROKER_ENTRY.args,
  );
  let tenants = 0;
  let onChange = () => {};
  onLogLine(child, (line) => {
    if (line['event'] !== 'pool.tenant_added') return;
    tenants++;
    onChange();
  });
  return {
    pid: child.pid!,
    listening: urls.then(() => undefined),
    management: urls.then((at) => at['management']!),
    waitForTenants: (count) =>
      new Promise<void>((resolve, reject) => {
        void done.then(() => reject(new Error(`${part} pool exited with ${tenants} of ${count} tenants`)));
        onChange = () => {
          if (tenants >= count) resolve();
        };
        onChange();
      }),
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await done;
    },
  };
}

/** Polls `url` until it answers 200 (a tenant the pool has not taken yet answers 404). */
async function untilServed(url: string, withinMs = 60_000): Promise<void> {
  const deadline = performance.now() + withinMs;
  while (performance.now() < deadline) {
    const res = await fetch(url).catch(() => undefined);
    await res?.arrayBuffer();
    if (res?.status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`${url} not served within ${withinMs} ms`);
}

/** GETs the URLs of each of tenants 0..count-1 once, 8 at a time, each expected to answer 200. */
async function useEachOnce(count: number, urlsOf: (index: number) => string[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      for (const url of urlsOf(next++)) {
        const res = await fetch(url);
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

/** `total` full sign-ins, `CONCURRENCY` at a time, at the tenants `pick` names; each Response checked. */
async function signIns(
  sps: ServiceProvider[],
  ports: PoolPorts,
  total: number,
  pick: () => number,
): Promise<void> {
  let started = 0;
  const worker = async () => {
    while (started < total) {
      started++;
      const tenant = pick();
      const sp = sps[tenant]!;
      const browser = new Browser();
      const { url, requestId } = sp.authnRedirect();
      const sso = await browser.request(url);
      if (sso.status !== 302) throw new Error(`broker answered ${sso.status}: ${await sso.text()}`);
      const { fields } = await loginAtDevIdp(browser, new URL(sso.headers.get('location')!, url).href, {
        brokerUrl: brokerUrlOf(tenant, ports),
      });
      await sp.acs(fields['SAMLResponse'], requestId);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** CPU (user + system) a process has used, in milliseconds (/proc/PID/stat, clock ticks). */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces), from field 3 on: utime is 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}
