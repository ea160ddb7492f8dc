import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse as parseYaml, stringify } from 'yaml';
import { type ClusterAccess, kubeconfigAccess } from '../../common/kube/access.js';
import { KubeClient, type KubeObject } from '../../common/kube/client.js';
import { createLogger } from '../../common/log.js';
import { startOperator } from '../../operator/cli.js';
import { collectionPath, KINDS } from '../../operator/kube/kinds.js';
import { LeaderElector } from '../../operator/leader.js';
import { StopDeadlineError } from '../../operator/stop.js';
import { capturedLogger } from '../../testkit/captured-logs.js';
import { type CuttableForward, cuttableForward } from '../../testkit/cuttable-forward.js';
import { type Envtest, envtest, eventually, freshNamespace } from '../../testkit/envtest.js';
import { chartOperatorPodSpec, spawnOperator } from '../../testkit/operator-process.js';
import { tenantObject } from '../../testkit/tenants.js';

/**
 * An API server that stops answering without closing the connection (a control-plane node lost, a
 * load balancer dropping its flows): the real kube-apiserver behind a forwarder that drops every
 * connection and holds the new ones open, unanswered. Nothing the operator asks may wait for ever.
 */
describe('the API server stops answering', function () {
  this.timeout(60_000);
  let env: Envtest;
  let forward: CuttableForward;
  let namespace: string;
  const logger = createLogger({ component: 'operator', level: 'silent' });
  const closers: (() => unknown)[] = [];

  before(async () => {
    env = await envtest();
    namespace = await freshNamespace(env.client, 'unanswered');
  });
  beforeEach(async () => {
    forward = await cuttableForward(Number(new URL(env.client.server).port));
    closers.push(() => forward.close());
  });
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  /** The test cluster's credentials, its server reached through the forwarder. */
  async function throughForward(): Promise<ClusterAccess> {
    const admin = await kubeconfigAccess(env.kubeconfigPath);
    return {
      getCurrentCluster: () => ({ server: `https://127.0.0.1:${forward.port}` }),
      applyToHTTPSOptions: (options) => admin.applyToHTTPSOptions(options),
    };
  }

  it('a leader gives its lease up after the renew deadline, instead of waiting on the renewal for ever', async () => {
    const client = new KubeClient(await throughForward());
    const elector = new LeaderElector({
      client,
      namespace,
      name: 'unanswered-leader',
      identity: 'leader',
      logger,
      leaseDurationSeconds: 2,
      renewDeadlineMs: 1_500,
      retryPeriodMs: 200,
    });
    closers.push(() => client.close());
    expect(await elector.acquire()).to.equal(true);
    let lost = false;
    elector.keepRenewing(() => {
      lost = true;
    });
    forward.cut();
    await eventually(async () => forward.held() > 0, 'a renewal waiting on an unanswered connection');
    // The operator exits here (onLeaseLost), so Kubernetes restarts it as a standby.
    await eventually(async () => lost, 'the lease to be given up');
    expect(elector.holds()).to.equal(false);
  });

  it('a request fails once the request timeout passes, and the client serves the next one', async () => {
    const client = new KubeClient(await throughForward(), { requestTimeoutMs: 1_000 });
    closers.push(() => client.close());
    const configMaps = collectionPath(KINDS.configMap, namespace);
    forward.cut();
    const unanswered = await client.list(configMaps).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(forward.held(), 'the request waited on an unanswered connection').to.be.greaterThan(0);
    // Node's http aborts the exchange with an AbortError whose cause is the timeout's reason.
    expect((unanswered?.cause as Error | undefined)?.name, String(unanswered)).to.equal('TimeoutError');
    forward.resume();
    expect((await client.list(configMaps)).items).to.be.an('array');
  });
});

/**
 * SIGTERM while the API server is silent: the operator must still stop within its pod's
 * terminationGracePeriodSeconds (the chart's), as the kubelet SIGKILLs it after. Each API request is
 * bounded by the 70 s request timeout only, and the lease's release is one more request.
 */
describe('the operator stops within its grace period while the API server does not answer', function () {
  this.timeout(120_000);
  let env: Envtest;
  let forward: CuttableForward;
  let namespace: string;
  let graceMs: number;
  const closers: (() => unknown)[] = [];

  before(async () => {
    env = await envtest();
    namespace = await freshNamespace(env.client, 'stop-unanswered');
    graceMs = chartOperatorPodSpec(env.toolsDir).terminationGracePeriodSeconds! * 1000;
  });
  beforeEach(async () => {
    forward = await cuttableForward(Number(new URL(env.client.server).port));
    closers.push(() => forward.close());
  });
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  /** `stop` settled before the kubelet's SIGKILL would have come; false if it had to come. */
  async function settlesWithinGrace(stop: Promise<unknown>): Promise<boolean> {
    let killAt: NodeJS.Timeout | undefined;
    const killed = new Promise<false>((resolve) => {
      killAt = setTimeout(() => resolve(false), graceMs);
    });
    try {
      return await Promise.race([stop.then(() => true), killed]);
    } finally {
      clearTimeout(killAt);
    }
  }

  it('aborts a reconcile waiting on the API server, gives the lease up and stops (OPERATOR_STOP_DEADLINE)', async () => {
    const admin = await kubeconfigAccess(env.kubeconfigPath);
    const { logger, logs } = capturedLogger({ component: 'operator' });
    let leaseLost = false;
    const operator = await startOperator(
      {
        kubeConfig: {
          getCurrentCluster: () => ({ server: `https://127.0.0.1:${forward.port}` }),
          applyToHTTPSOptions: (options) => admin.applyToHTTPSOptions(options),
        },
        settings: { image: 'jsm-sso:test', ingressNamespaceLabels: {}, metricsNamespaceLabels: {} },
        namespaces: [namespace],
        managementPort: 0,
        host: '127.0.0.1',
        leaderElection: {
          namespace,
          name: 'stop-in-process',
          leaseDurationSeconds: 15,
          renewDeadlineMs: 10_000,
          retryPeriodMs: 2_000,
        },
        workers: 1,
        resyncMs: 600_000,
        identity: 'in-process',
        hashKeySecret: { namespace, name: 'stop-in-process-hash-key' },
      },
      logger,
      () => {
        leaseLost = true;
      },
    );
    let stopped: Promise<void> | undefined;
    closers.push(() => stopped ?? operator.stop());
    await operator.leading;
    await eventually(async () => operator.controller.synced, 'the caches to sync');
    forward.cut();
    // A tenant whose event arrived just before the API server went silent: its reconcile's first
    // request waits on an unanswered connection.
    const tenant = tenantObject(namespace, 'acme') as unknown as KubeObject;
    tenant.metadata = {
      ...tenant.metadata,
      uid: '0f6d1c4e-0000-4000-8000-000000000001',
      resourceVersion: '1',
      generation: 1,
    };
    operator.controller.remember(KINDS.tenant, tenant);
    operator.controller.queue.add(`${namespace}/acme`);
    await eventually(async () => operator.controller.busy > 0 && forward.held() > 0, 'a reconcile waiting');

    stopped = operator.stop();
    expect(await settlesWithinGrace(stopped), 'stopped before SIGKILL').to.equal(true);
    const aborted = logs.find((l) => l['event'] === 'operator.requests_aborted');
    expect(aborted?.['reason'], JSON.stringify(logs.slice(-5))).to.equal(new StopDeadlineError().code);
    expect(logs.find((l) => l['event'] === 'leader.release_failed')?.['reason']).to.equal(
      'OPERATOR_LEASE_NOT_RELEASED',
    );
    // The stop's own release is no loss of the lease (which would exit the process with 1).
    expect(leaseLost).to.equal(false);
    expect(logs.find((l) => l['event'] === 'operator.stopped')).to.include({
      lease: 'left to expire',
      requestsAborted: true,
    });
  });

  it('as a process: SIGTERM during the outage exits 0 with its last word logged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jsm-sso-stop-'));
    closers.push(() => rmSync(dir, { recursive: true, force: true }));
    const kubeconfig = parseYaml(readFileSync(env.kubeconfigPath, 'utf8')) as {
      clusters: { cluster: { server: string } }[];
    };
    for (const { cluster } of kubeconfig.clusters) cluster.server = `https://127.0.0.1:${forward.port}`;
    writeFileSync(join(dir, 'kubeconfig'), stringify(kubeconfig), { mode: 0o600 });
    const operator = spawnOperator({
      kubeconfig: join(dir, 'kubeconfig'),
      namespace,
      port: 0,
      logLevel: 'info',
      leaderElection: { namespace, id: 'stop-process' },
      pipeLog: true,
    });
    const exited = once(operator, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    closers.push(() => operator.exitCode === null && operator.kill('SIGKILL'));
    let log = '';
    operator.stdout!.on('data', (d) => (log += d));
    operator.stderr!.on('data', (d) => (log += d));
    await eventually(async () => log.includes('"event":"operator.synced"'), 'the leader to sync', 60_000);
    forward.cut();
    await eventually(async () => forward.held() > 0, 'a renewal waiting on an unanswered connection');

    operator.kill('SIGTERM');
    expect(await settlesWithinGrace(exited), `exited before SIGKILL:\n${log}`).to.equal(true);
    expect((await exited)[0], log).to.equal(0);
    const lines = log
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l['event'] === 'leader.release_failed')?.['reason']).to.equal(
      'OPERATOR_LEASE_NOT_RELEASED',
    );
    // stdout and stderr interleave as they arrive, so the line is found, not taken as the last.
    expect(
      lines.find((l) => l['event'] === 'operator.stopped'),
      log,
    ).to.include({ lease: 'left to expire' });
  });
});
