// The portal's own cost per page, beyond Atlassian's latency: the JSM emulator answers every call
// after a fixed 50 ms, the portal runs in-process for the latency figures (its outgoing calls are
// timed to separate Atlassian's time from the portal's), then as two real processes sharing Redis
// for throughput and memory.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { parseTenant, tenantId } from '../common/config/load.js';
import { SecretDirectory } from '../common/config/secrets.js';
import { RedisFlowStore } from '../common/flowstore/index.js';
import { createLogger } from '../common/log.js';
import { createMetricsRegistry } from '../common/metrics.js';
import { freePort } from '../common/net.js';
import { startJsmEmulator } from '../dev/jsm-emulator/emulator.js';
import { createPortalApp } from '../portal/app.js';
import { makeKeyPair } from '../testkit/keys.js';
import { startLocalRedis } from '../testkit/local-redis.js';
import { BROKER_URL, type Browser, signInAt } from '../testkit/portal-harness.js';

const ATLASSIAN_DELAY_MS = 50;
const SAMPLES = 60;
const LOAD_SECONDS = 10;
const CONCURRENCY = 16;

interface Interval {
  start: number;
  end: number;
}

/** Milliseconds covered by at least one interval, within [from, to]. */
function covered(intervals: Interval[], from: number, to: number): number {
  const sorted = intervals
    .map((i) => ({ start: Math.max(i.start, from), end: Math.min(i.end, to) }))
    .filter((i) => i.end > i.start);
  sorted.sort((a, b) => a.start - b.start);
  let total = 0;
  let cursor = from;
  for (const i of sorted) {
    if (i.end <= cursor) continue;
    total += i.end - Math.max(i.start, cursor);
    cursor = i.end;
  }
  return total;
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

function tenantYaml(portalUrl: string, siteUrl: string, withRedis: boolean): string {
  return stringify({
    apiVersion: 'jsm-sso.io/v1alpha1',
    kind: 'JsmSsoTenant',
    metadata: { name: 'bench' },
    spec: {
      portal: { url: portalUrl, title: 'Bench Help Center', ...(withRedis ? { replicas: 2 } : {}) },
      broker: { url: BROKER_URL },
      identityProviders: [
        {
          name: 'corp',
          oidc: { issuer: 'https://idp.bench.test', clientId: 'x', clientSecretRef: { name: 'oidc' } },
        },
      ],
      atlassian: { siteUrl, credentialsSecretRef: { name: 'bench-atlassian' } },
      ...(withRedis ? { redis: { urlSecretRef: { name: 'bench-redis' } } } : {}),
    },
  });
}

export async function benchPortal(): Promise<Record<string, number | string>> {
  const emulator = await startJsmEmulator({ faults: [{ delayMs: ATLASSIAN_DELAY_MS }] });
  const redis = await startLocalRedis();
  const dir = mkdtempSync(join(tmpdir(), 'portal-bench-'));
  const write = (secret: string, key: string, value: string) => {
    mkdirSync(join(dir, secret), { recursive: true });
    writeFileSync(join(dir, secret, key), value);
  };
  const brokerKey = makeKeyPair('bench broker');
  const portalKey = makeKeyPair('bench portal');
  write('bench-broker-signing', 'tls.crt', brokerKey.certPem);
  write('bench-portal-signing', 'tls.crt', portalKey.certPem);
  write('bench-portal-signing', 'tls.key', portalKey.keyPem);
  write('bench-atlassian', 'email', 'portal-bot@acme.test');
  write('bench-atlassian', 'apiToken', 'dev-api-token');
  write('bench-redis', 'url', redis.url);
  const children: ChildProcess[] = [];
  let server: Server | undefined;
  const store = RedisFlowStore.connect(redis.url, 'bench-inprocess');
  try {
    // --- latency and calls per page, in-process ------------------------------------------
    server = createServer();
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const tenant = parseTenant(tenantYaml(url, emulator.url, false));
    const calls: Interval[] = [];
    const app = await createPortalApp({
      tenant,
      tenantId: tenantId(tenant),
      secrets: new SecretDirectory(dir),
      logger: createLogger({ component: 'portal', level: 'silent' }),
      registry: createMetricsRegistry(),
      store,
    });
    server.on('request', app.handler);
    const realFetch = globalThis.fetch;
    globalThis.fetch = async (input, init) => {
      const target = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (!target.startsWith(emulator.url)) return realFetch(input, init);
      const interval = { start: performance.now(), end: Number.POSITIVE_INFINITY };
      calls.push(interval);
      try {
        const response = await realFetch(input, init);
        // Count the body too: the portal waits for it.
        const body = await response.arrayBuffer();
        const empty = response.status === 204 || response.status === 304;
        return new Response(empty ? null : body, {
          status: response.status,
          statusText: response.statusText,
          headers: response.headers,
        });
      } finally {
        interval.end = performance.now();
      }
    };
    const browser = await signInAt(url, brokerKey, 'alice@acme.test');
    const detailKey = [...emulator.state.requests.values()].find(
      (r) => r.fieldValues['summary'] === 'Laptop screen flickers',
    )!.key;
    const pages: Record<string, string> = {
      home: '/',
      'my requests': '/requests?status=all&ownership=all',
      'request detail': `/requests/${detailKey}`,
    };
    const out: Record<string, number | string> = {
      'Atlassian latency per call (ms, fixed)': ATLASSIAN_DELAY_MS,
    };
    for (const [name, path] of Object.entries(pages)) {
      await timePage(browser, path); // warm the catalogue cache
      const overheads: number[] = [];
      const callCounts: number[] = [];
      for (let i = 0; i < SAMPLES; i++) {
        const before = calls.length;
        const { start, end } = await timePage(browser, path);
        overheads.push(end - start - covered(calls.slice(before), start, end));
        callCounts.push(calls.length - before);
      }
      out[`${name}: portal overhead p50 (ms)`] = percentile(overheads, 50);
      out[`${name}: portal overhead p99 (ms)`] = percentile(overheads, 99);
      out[`${name}: Atlassian calls per view (warm cache)`] = percentile(callCounts, 50);
    }
    globalThis.fetch = realFetch;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;

    // --- throughput and memory, two processes sharing Redis ---------------------------------
    const ports = [await freePort(), await freePort()];
    const config = join(dir, 'tenant.yaml');
    // One public URL for both replicas, as behind a load balancer; sessions live in Redis.
    writeFileSync(config, tenantYaml(`http://127.0.0.1:${ports[0]}`, emulator.url, true));
    for (const port of ports) children.push(startPortalProcess(config, dir, port, await freePort()));
    await Promise.all(ports.map((p) => waitReady(`http://127.0.0.1:${p}/saml/metadata`)));
    const session = await signInAt(`http://127.0.0.1:${ports[0]}`, brokerKey, 'alice@acme.test');
    const cookie = [...session.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const loadPaths = ['/', '/requests?status=all&ownership=all'];
    let done = 0;
    let failed = 0;
    let maxRss = 0;
    const rssTimer = setInterval(() => {
      const total = children.reduce((sum, c) => sum + rssOf(c.pid), 0);
      maxRss = Math.max(maxRss, total);
    }, 250);
    const deadline = performance.now() + LOAD_SECONDS * 1000;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, worker) => {
        for (let i = 0; performance.now() < deadline; i++) {
          const port = ports[(worker + i) % ports.length]!;
          const res = await realFetch(`http://127.0.0.1:${port}${loadPaths[i % loadPaths.length]}`, {
            headers: { cookie },
          });
          await res.arrayBuffer();
          if (res.status === 200) done++;
          else failed++;
        }
      }),
    );
    clearInterval(rssTimer);
    const seconds = (performance.now() - started) / 1000;
    out[`page views per second (2 processes, ${CONCURRENCY} concurrent, home + my requests)`] =
      done / seconds;
    out['failed page views under load'] = failed;
    out['RSS under load, both processes (MB)'] = maxRss / 1024 / 1024;
    return out;
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(
      children.map(
        (c) => new Promise((resolve) => (c.exitCode !== null ? resolve(null) : c.once('exit', resolve))),
      ),
    );
    if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
    await store.close();
    await emulator.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function timePage(browser: Browser, path: string): Promise<{ start: number; end: number }> {
  const start = performance.now();
  const res = await browser.fetch(path);
  await res.arrayBuffer();
  const end = performance.now();
  if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
  return { start, end };
}

function startPortalProcess(
  config: string,
  secretsDir: string,
  port: number,
  managementPort: number,
): ChildProcess {
  // From source (tsx) run cli/main.ts through tsx; from dist run the compiled CLI.
  const fromSource = import.meta.url.endsWith('.ts');
  const main = fileURLToPath(new URL(`../cli/main.${fromSource ? 'ts' : 'js'}`, import.meta.url));
  const args = [
    ...(fromSource ? ['--import', 'tsx'] : []),
    main,
    'portal',
    '--config',
    config,
    '--secrets-dir',
    secretsDir,
  ];
  args.push(
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--management-port',
    String(managementPort),
    '--drain-seconds',
    '0',
  );
  return spawn(process.execPath, args, { stdio: 'ignore', env: { ...process.env, LOG_LEVEL: 'warn' } });
}

async function waitReady(url: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not come up`);
}

function rssOf(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
