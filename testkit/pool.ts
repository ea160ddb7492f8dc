// Pools in tests: an in-memory tenant source, one HTTP server answering on several loopback
// addresses (the "hosts" of a pool's tenants), and the switch that runs the broker and portal
// harnesses' suites against a pool instead of a dedicated part (JSM_SSO_TEST_PLACEMENT=pool).

import {
  createServer,
  type IncomingHttpHeaders,
  type RequestListener,
  request,
  type Server,
} from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { Registry } from 'prom-client';
import { checkTenant, type JsmSsoTenant, tenantId } from '../common/config/load.js';
import type { JsmSsoError } from '../common/errors.js';
import { type FlowStore, MemoryFlowStore } from '../common/flowstore/index.js';
import type { Logger } from '../common/log.js';
import type {
  GoneIncarnation,
  TenantBundle,
  TenantSource,
  TenantSourceListener,
} from '../common/pool/source.js';
import { type RunningPool, startPool } from '../common/pool/start.js';
import type { PoolFlowStore } from '../common/pool/tenant-pool.js';
import type { PartContext, PartInstance, PartName } from '../common/runtime.js';
import { exited, jsmSso, listening, onLogLine } from './part-process.js';

/** `dedicated` (default) or `pool`: how the broker and portal harnesses serve the tenant under test. */
export const TEST_PLACEMENT: 'dedicated' | 'pool' =
  process.env['JSM_SSO_TEST_PLACEMENT'] === 'pool' ? 'pool' : 'dedicated';

/** Tenants handed over in memory, changed at will: what the bench and tests feed a pool. */
export class MemoryTenantSource implements TenantSource {
  readonly #bundles = new Map<string, TenantBundle>();
  #listener: TenantSourceListener | undefined;

  constructor(bundles: TenantBundle[] = []) {
    for (const bundle of bundles) this.#bundles.set(bundle.key, bundle);
  }

  async start(listener: TenantSourceListener): Promise<void> {
    this.#listener = listener;
    for (const bundle of this.#bundles.values()) listener.upsert(bundle);
  }

  upsert(bundle: TenantBundle): void {
    this.#bundles.set(bundle.key, bundle);
    this.#listener?.upsert(bundle);
  }

  /** `gone`: the incarnation was deleted, as the kube source says of a projection marked so (ADR 0390). */
  remove(key: string, gone?: GoneIncarnation): void {
    this.#bundles.delete(key);
    this.#listener?.remove(key, gone);
  }

  invalid(key: string, error: JsmSsoError, tenant?: string): void {
    this.#listener?.invalid(key, error, tenant);
  }

  async close(): Promise<void> {
    this.#listener = undefined;
  }
}

/**
 * The pool store of a harness: the tenant under test gets the test's own store (a test reads its keys
 * under the prefix it chose, or injects faults), the others a view of it (or of memory).
 */
function harnessStore(
  store: FlowStore | undefined,
  underTest: string,
): PoolFlowStore & { close(): Promise<void> } {
  const shared = store && 'view' in store ? (store as FlowStore & PoolFlowStore) : new MemoryFlowStore();
  return {
    view: (tenant, uid) => (tenant === underTest && store ? store : shared.view(tenant, uid)),
    purge: (tenant, uid) => shared.purge(tenant, uid),
    // The test closes its own store.
    close: async () => (shared === store ? undefined : shared.close()),
  };
}

/** One HTTP server behind several listeners: each listener's connections are the server's. */
function forwardingServer(handler: RequestListener) {
  const server = createServer({ keepAliveTimeout: 60_000 }, handler);
  const sockets = new Set<Socket>();
  const listeners: NetServer[] = [];
  return {
    server,
    /** A listener at `host`:`port` (0: any free port); resolves with the port it got. */
    listen: (host: string, port: number) => {
      const listener = createNetServer((socket) => {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
        server.emit('connection', socket);
      });
      listeners.push(listener);
      return new Promise<number>((resolve, reject) => {
        listener.once('error', reject);
        listener.listen(port, host, () => resolve((listener.address() as { port: number }).port));
      });
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await Promise.all(listeners.splice(0).map((l) => new Promise((resolve) => l.close(resolve))));
    },
  };
}

/**
 * One HTTP server reachable on the same port at 127.0.0.1, 127.0.0.2, ...: distinct loopback hosts
 * (plain http:// is allowed only to loopback) in front of one handler, as an ingress puts many
 * host names in front of one pool Service.
 */
export async function listenOnLoopbacks(
  handler: RequestListener,
  count: number,
): Promise<{ server: Server; urls: string[]; close(): Promise<void> }> {
  for (let attempt = 0; ; attempt++) {
    const forwarding = forwardingServer(handler);
    try {
      let port = 0;
      for (let i = 1; i <= count; i++) port = await forwarding.listen(`127.0.0.${i}`, port);
      const urls = Array.from({ length: count }, (_u, i) => `http://127.0.0.${i + 1}:${port}`);
      return { server: forwarding.server, urls, close: forwarding.close };
    } catch (err) {
      await forwarding.close();
      // Another process may hold the port on 127.0.0.2; pick another.
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 5) throw err;
    }
  }
}

/**
 * One HTTP server at 127.0.0.1 on `count` ports of its own: tenants at one host name on different
 * ports (ADR 0230(d)), which a browser sends the same cookies (RFC 6265 8.5: cookies keep to a host,
 * not to a port).
 */
export async function listenOnPorts(
  handler: RequestListener,
  count: number,
): Promise<{ server: Server; urls: string[]; close(): Promise<void> }> {
  const forwarding = forwardingServer(handler);
  const urls: string[] = [];
  for (let i = 0; i < count; i++) urls.push(`http://127.0.0.1:${await forwarding.listen('127.0.0.1', 0)}`);
  return { server: forwarding.server, urls, close: forwarding.close };
}

/** A copy of `tenant` named `name`, at `url` for `part`: another tenant of the same pool. */
export function tenantAt(tenant: JsmSsoTenant, part: PartName, name: string, url: string): JsmSsoTenant {
  const copy = structuredClone(tenant);
  copy.metadata = { ...copy.metadata, name };
  copy.spec[part].url = url;
  return checkTenant(copy);
}

export interface HarnessPool<T extends PartInstance> {
  /** The part of the tenant under test, built by the pool (as its first request would). */
  part: T;
  /** Its context as the pool built it (view of the store, child logger, the pool's registry). */
  context: PartContext;
  running: RunningPool;
  close(): Promise<void>;
}

/**
 * What a harness runs in pool placement: the tenant under test and two other tenants (copies of it
 * at 127.0.0.2 and .3 on the same port, never asked) in one pool, served on `server`.
 */
export async function harnessPool<T extends PartInstance>(options: {
  server: Server;
  part: PartName;
  tenant: JsmSsoTenant;
  secrets: TenantBundle['secrets'];
  build: (context: PartContext) => Promise<T>;
  store?: FlowStore;
  registry: Registry;
  logger: Logger;
}): Promise<HarnessPool<T>> {
  const { tenant, part, secrets } = options;
  const url = new URL(tenant.spec[part].url);
  const others = [2, 3].map((n) => {
    const name = `${tenant.metadata!.name}-other-${n}`;
    return {
      key: name,
      tenant: tenantAt(tenant, part, name, `${url.protocol}//127.0.0.${n}${url.port ? `:${url.port}` : ''}`),
      secrets,
    };
  });
  const source = new MemoryTenantSource([{ key: 'under-test', tenant, secrets }, ...others]);
  const store = harnessStore(options.store, tenantId(tenant));
  let context: PartContext | undefined;
  const running = await startPool({
    part,
    build: (built) => {
      if (built.tenantId === tenantId(tenant)) context = built;
      return options.build(built);
    },
    source,
    store,
    registry: options.registry,
    logger: options.logger,
  });
  options.server.removeAllListeners('request');
  options.server.on('request', running.handler);
  const built = (await running.pool.partOf('under-test')) as T;
  return {
    part: built,
    context: context!,
    running,
    close: async () => {
      await running.close();
      await store.close();
    },
  };
}

/**
 * A request with any Host header (fetch always sends the URL's) to the server at `url`: a GET unless
 * `init` says otherwise; `host` undefined sends the URL's own.
 */
export function withHost(
  url: string,
  host: string | undefined,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; body: string; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const headers = { ...init.headers, ...(host === undefined ? {} : { host }) };
    const req = request(new URL(path, url), { method: init.method ?? 'GET', headers }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    // An over-size body may be answered before it is all sent.
    req.on('error', reject);
    req.end(init.body);
  });
}

/**
 * `jsm-sso <part> <placement>` (`--pool-dir DIR` or `--pool NAME ...`) as a process (from source
 * unless `entry` says otherwise) on 127.0.0.1:`port`, its JSON log lines collected; `urls` resolves
 * once both servers listen.
 */
export function startPoolProcess(
  part: PartName,
  placement: string[],
  port: number,
  env: NodeJS.ProcessEnv = {},
  entry?: string[],
) {
  const child = jsmSso(
    [
      part,
      ...placement,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--management-port',
      '0',
      '--drain-seconds',
      '0.2',
    ],
    env,
    entry,
  );
  const logs: Array<Record<string, unknown>> = [];
  onLogLine(child, (line) => logs.push(line));
  return { child, logs, done: exited(child), urls: listening(child, [part, 'management']) };
}

/**
 * Polls `check` every 25 ms until it returns a value, or throws after `ms`: for what a pool process
 * takes up asynchronously (a file-system watch reacts in milliseconds, a poll within seconds).
 */
export async function within<T>(ms: number, check: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
