import { execFileSync, type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { KubeClient } from '../common/kube/client.js';
import { CRD_PATH, POOL_CRD_PATH, packageRoot } from '../common/paths.js';
import { KINDS, objectPath } from '../operator/kube/kinds.js';
import { scanWhatViewersRead } from './cluster-scan.js';

/**
 * A real kube-apiserver + etcd for the operator tests, started once per mocha run by
 * .ci/k8s-envtest.sh and stopped when the run ends. Missing binaries fail the tests (they never
 * skip): .ci/k8s-tools.sh builds them.
 */
export interface Envtest {
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
  client: KubeClient;
  toolsDir: string;
  /** etcd's client URL (plain HTTP on loopback; its v3 JSON gateway answers at /v3/...). */
  etcdUrl: string;
}

let started: Promise<Envtest> | undefined;
let kubeconfigPath: string | undefined;
/** Stops the watches of testkit/cluster-scan.ts, which run while tests use the shared API server. */
let stopScan: (() => void) | undefined;
let auditLogPath: string | undefined;

/**
 * Makes the API server write an audit log of every write and every GET of one object (call before
 * `envtest()`), so the bench counts the operator's calls as the API server saw them, not as the
 * operator reports them.
 */
export function enableAuditLog(): string {
  if (started) throw new Error('enableAuditLog() must come before envtest()');
  const dir = mkdtempSync(join(tmpdir(), 'jsm-sso-audit-'));
  const policy = join(dir, 'policy.yaml');
  writeFileSync(
    policy,
    [
      'apiVersion: audit.k8s.io/v1',
      'kind: Policy',
      'omitStages: [RequestReceived]',
      'rules:',
      '  - level: Metadata',
      `    verbs: [${[...WRITE_VERBS, 'get'].join(', ')}]`,
      '  - level: None',
      '',
    ].join('\n'),
  );
  auditLogPath = join(dir, 'audit.log');
  return auditLogPath;
}

/**
 * Writes in the audit log (enableAuditLog) made with this User-Agent, by verb, or by verb and
 * resource (`patch tenants/status`) to tell which objects a write storm hits.
 */
export function auditedWrites(userAgent: string, by: 'verb' | 'resource' = 'verb'): Record<string, number> {
  return audited(userAgent, WRITE_VERBS, by);
}

/** GETs of one object in the audit log (enableAuditLog) made with this User-Agent, by resource. */
export function auditedReads(userAgent: string): Record<string, number> {
  return audited(userAgent, ['get'], 'resource');
}

const WRITE_VERBS = ['create', 'update', 'patch', 'delete', 'deletecollection'];

function audited(userAgent: string, verbs: string[], by: 'verb' | 'resource'): Record<string, number> {
  if (!auditLogPath) throw new Error('enableAuditLog() was not called');
  const counts: Record<string, number> = {};
  for (const line of readFileSync(auditLogPath, 'utf8').split('\n')) {
    if (!line) continue;
    const event = JSON.parse(line) as {
      userAgent?: string;
      verb: string;
      stage: string;
      objectRef?: { resource?: string; subresource?: string };
    };
    if (event.stage !== 'ResponseComplete' || event.userAgent !== userAgent || !verbs.includes(event.verb))
      continue;
    const ref = event.objectRef;
    const key =
      by === 'verb'
        ? event.verb
        : `${event.verb} ${ref?.resource ?? '?'}${ref?.subresource ? `/${ref.subresource}` : ''}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

export function envtest(): Promise<Envtest> {
  started ??= start();
  return started;
}

/**
 * The directory .ci/k8s-tools.sh fills (building what is missing or stale; instant when cached),
 * with kube-scheduler, kubelet, kubectl and the pause image too when `withNode`.
 */
export function k8sToolsDir(withNode = false): string {
  return execFileSync('bash', [join(packageRoot(), '.ci/k8s-tools.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...(withNode ? { JSM_SSO_WITH_NODE: '1' } : {}) },
  })
    .trim()
    .split('\n')
    .pop()!;
}

async function start(): Promise<Envtest> {
  const toolsDir = k8sToolsDir();
  // kube-controller-manager runs the garbage collector: what a tenant owns is deleted with it, what
  // it does not own must survive (test/operator/ownership.test.ts waits for the real thing).
  requireTools(toolsDir, ['helm', 'kube-controller-manager']);
  kubeconfigPath = join(mkdtempSync(join(tmpdir(), 'jsm-sso-envtest-')), 'kubeconfig');
  launch(kubeconfigPath, toolsDir, true, [
    // The script's ClusterIP range is a /24: ~250 Services, i.e. 125 tenants (two Services each),
    // after which every Service apply fails with "range is full". Clusters default to far larger
    // ranges; a /16 lets the scale tests and the bench run thousands of tenants. Later flags win.
    '--service-cluster-ip-range=10.96.0.0/16',
    ...(auditLogPath
      ? [
          `--audit-policy-file=${join(dirname(auditLogPath), 'policy.yaml')}`,
          `--audit-log-path=${auditLogPath}`,
        ]
      : []),
    process.env['K8S_ENVTEST_APISERVER_ARGS'] ?? '',
  ]);
  process.once('exit', stopSync);
  const { kubeConfig, client } = clientFor(kubeconfigPath);
  await installCrd(client);
  // Under mocha only: the bench's thousands of tenants are no test's writes.
  if (typeof afterEach === 'function') stopScan = scanWhatViewersRead(clientFor(kubeconfigPath).client);
  return { kubeconfigPath, kubeConfig, client, toolsDir, etcdUrl: etcdUrlOf(kubeconfigPath) };
}

/**
 * An API server and etcd of the test's own, not the run's shared one: for a test that needs other
 * API server flags, acts on etcd itself, or needs `controllers` of kube-controller-manager
 * (`deployment-controller`, `replicaset-controller`...: then it runs them beside the garbage
 * collector, the namespace and ServiceAccount controllers; else no controller-manager). No CRDs;
 * `stop` ends it (and the process's exit, should the test not get there).
 */
export function separateEnvtest(
  apiserverArgs: string[],
  controllers: string[] = [],
): Envtest & { stop(): void } {
  const toolsDir = k8sToolsDir();
  const path = join(mkdtempSync(join(tmpdir(), 'jsm-sso-envtest-')), 'kubeconfig');
  launch(path, toolsDir, controllers.length > 0, apiserverArgs, controllers);
  // What the product writes there is read as on the shared one (ADR 0278).
  const stopScan = typeof afterEach === 'function' ? scanWhatViewersRead(clientFor(path).client) : undefined;
  const stop = () => {
    stopScan?.();
    stopCluster(path);
  };
  process.once('exit', stop);
  const { kubeConfig, client } = clientFor(path);
  return { kubeconfigPath: path, kubeConfig, client, toolsDir, etcdUrl: etcdUrlOf(path), stop };
}

/** Starts .ci/k8s-envtest.sh's cluster, its kubeconfig written at `path`. */
function launch(
  path: string,
  toolsDir: string,
  controllerManager: boolean,
  apiserverArgs: string[],
  controllers: string[] = [],
): void {
  requireTools(toolsDir, ['kube-apiserver', 'etcd']);
  const result = spawnSync('bash', [join(packageRoot(), '.ci/k8s-envtest.sh'), 'start', path], {
    encoding: 'utf8',
    env: {
      ...process.env,
      JSM_SSO_TOOLS_DIR: toolsDir,
      K8S_ENVTEST_KCM: controllerManager ? '1' : '0',
      K8S_ENVTEST_KCM_CONTROLLERS: controllers.join(','),
      K8S_ENVTEST_APISERVER_ARGS: apiserverArgs.join(' '),
    },
  });
  if (result.status !== 0) throw new Error(`k8s-envtest.sh start failed:\n${result.stderr}`);
}

/** Missing binaries fail the tests (they never skip). */
function requireTools(toolsDir: string, binaries: string[]): void {
  for (const binary of binaries) {
    if (!existsSync(join(toolsDir, binary)))
      throw new Error(`${binary} missing in ${toolsDir}: run bash .ci/k8s-tools.sh`);
  }
}

/** etcd's client URL, which the script records next to the cluster's other state. */
function etcdUrlOf(path: string): string {
  return readFileSync(join(readFileSync(`${path}.state`, 'utf8').trim(), 'etcd.url'), 'utf8').trim();
}

/** A kubeconfig file's config and a client with the tests' own User-Agent. */
export function clientFor(kubeconfigPath: string): { kubeConfig: KubeConfig; client: KubeClient } {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  // Its own User-Agent, so the audit log tells the tests' writes from the operator's.
  return { kubeConfig, client: new KubeClient(kubeConfig, { userAgent: 'jsm-sso-tests' }) };
}

function stopSync(): void {
  stopScan?.();
  stopScan = undefined;
  if (!kubeconfigPath) return;
  stopCluster(kubeconfigPath);
  kubeconfigPath = undefined;
}

function stopCluster(path: string): void {
  spawnSync('bash', [join(packageRoot(), '.ci/k8s-envtest.sh'), 'stop', path], { stdio: 'ignore' });
}

// Root-level hook, registered once when the first test file imports this module (the bench
// imports it outside mocha and relies on the exit handler instead).
if (typeof after === 'function') after(() => stopSync());

/** Stops the API server now (for the bench; tests stop it when the run ends). */
export function stopEnvtest(): void {
  stopSync();
  started = undefined;
}

/**
 * Runs a bash script as a user's shell would run the docs' commands (`-euo pipefail`, from the
 * package root), with this API server's kubeconfig and its kubectl and helm first on PATH.
 */
export function runScript(env: Envtest, script: string): SpawnSyncReturns<string> {
  return spawnSync('bash', ['-euo', 'pipefail', '-c', script], {
    cwd: packageRoot(),
    // Not a socket on stdin: bash takes one (libuv's pipes are socket pairs) for a remote shell's and,
    // at SHLVL 1, reads /etc/bash.bashrc, which fails under -u (PS1 unbound) before the script runs.
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    env: { ...process.env, KUBECONFIG: env.kubeconfigPath, PATH: `${env.toolsDir}:${process.env['PATH']}` },
  });
}

/** Applies the CRDs (JsmSsoTenant, JsmSsoPool) and waits until the API server serves them. */
export async function installCrd(client: KubeClient): Promise<void> {
  for (const path of [CRD_PATH, POOL_CRD_PATH]) {
    const crd = parse(readFileSync(path, 'utf8'));
    await client.apply(objectPath(KINDS.crd, undefined, crd.metadata.name), crd, {
      fieldManager: 'jsm-sso-tests',
    });
    await established(client, crd.metadata.name, crd.spec.names.plural);
  }
}

async function established(client: KubeClient, name: string, plural: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const live = await client.get<{ status?: { conditions?: { type: string; status: string }[] } }>(
      objectPath(KINDS.crd, undefined, name),
    );
    if (live?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) {
      // Discovery of the new resource can lag a moment behind Established.
      const discovery = await client.get<{ resources?: { name: string }[] }>('/apis/jsm-sso.io/v1alpha1');
      if (discovery?.resources?.some((r) => r.name === plural)) return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the CRD ${name} did not become Established`);
}

let namespaceCounter = 0;

/** A fresh namespace per test, so tests never see each other's objects. */
export async function freshNamespace(client: KubeClient, prefix = 'op'): Promise<string> {
  const name = `${prefix}-${process.pid}-${++namespaceCounter}`;
  await client.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return name;
}

/**
 * Compacts etcd's history up to its current revision, through its v3 JSON gateway (`etcdUrl` of an
 * Envtest): a watch or a list's continue token from before then meets 410 Gone where the API server
 * reads etcd itself.
 */
export async function compactEtcd(etcdUrl: string): Promise<void> {
  const post = async (path: string, body: unknown) => {
    const answer = await fetch(`${etcdUrl}${path}`, { method: 'POST', body: JSON.stringify(body) });
    if (answer.status !== 200) throw new Error(`etcd ${path}: ${answer.status}`);
    return (await answer.json()) as { header: { revision: string } };
  };
  const { revision } = (await post('/v3/kv/range', { key: Buffer.from('/').toString('base64') })).header;
  await post('/v3/kv/compaction', { revision, physical: true });
}

/** Polls `check` until it returns a value (not undefined/false) or the deadline passes. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}
