import { type KubeObject, USER_AGENT } from '../common/kube/client.js';
import { Informer } from '../common/kube/informer.js';
import { createLogger } from '../common/log.js';
import { collectionPath, KINDS, objectPath } from '../operator/kube/kinds.js';
import { DEFAULT_RATE_PER_SECOND } from '../operator/queue.js';
import { auditedWrites, freshNamespace } from '../testkit/envtest.js';
import { chartNodeOptions } from '../testkit/operator-process.js';
import { createPool, createSharedTenantSecrets, pooledOnSharedSecrets } from '../testkit/tenants.js';
import { BROKER_ENTRY } from './broker.js';
import {
  convergenceFigures,
  createInBatches,
  idleResyncSeconds,
  idleResyncWrites,
  memoryFigures,
  progressReporter,
  sleep,
  total,
  withOperatorBench,
} from './operator-kit.js';

/**
 * Issue 16's operator figure: N tenants placed in one JsmSsoPool (default 10,000), against a real
 * kube-apiserver + etcd, the operator as its own process. Measured: time from the first create
 * until every tenant reports its placement (Applied=True, a PoolReady condition and
 * status.placement naming the pool, for its current generation), API writes per tenant during
 * convergence (the API server's audit log, by resource, next to the operator's own metric),
 * reconciles per tenant (a pool that requeued all its tenants on every count change would show
 * here as O(N)), API writes during one idle resync of every tenant (target 0) and the operator's
 * peak RSS (target < 500 MB). The pool has no kubelet behind it, so its Ready stays False and
 * every tenant's PoolReady is False/PoolNotReady: the placement, not the pods, is measured.
 * N: `npm run bench -- operator-pool --tenants N` or BENCH_OPERATOR_POOL_TENANTS.
 */
const POOL = 'shared';
const WORKERS = 8;
const RSS_TARGET_MB = 500;

interface TenantStatus {
  observedGeneration?: number;
  placement?: string;
  conditions?: { type: string; status: string }[];
}

export async function benchOperatorPool(
  options: { tenants?: number } = {},
): Promise<Record<string, number | string>> {
  const n = options.tenants ?? Number(process.env['BENCH_OPERATOR_POOL_TENANTS'] ?? 10_000);
  const budgetMs = Number(process.env['BENCH_OPERATOR_POOL_BUDGET_S'] ?? 1800) * 1000;
  // The period leaves the operator idle between resyncs, so the idle writes are those of a full
  // resync and nothing else.
  const resyncSeconds = idleResyncSeconds(n, 60);
  return withOperatorBench(async ({ env, startOperator }): Promise<Record<string, number | string>> => {
    const tenantNs = await freshNamespace(env.client, 'bench-pt');
    const poolNs = await freshNamespace(env.client, 'bench-pp');
    await createSharedTenantSecrets(env.client, tenantNs);
    await createPool(env.client, poolNs, POOL, {
      broker: { autoscaling: { minReplicas: 2, maxReplicas: 8 } },
      portal: { autoscaling: { minReplicas: 2, maxReplicas: 8 } },
    });
    // The chart's heap is sized for 10,000 tenants (operator/README.md, "Memory and sizing");
    // BENCH_OPERATOR_NODE_OPTIONS runs the operator with other flags, to measure another size.
    const nodeOptions = process.env['BENCH_OPERATOR_NODE_OPTIONS'];
    const operator = await startOperator(
      [tenantNs, poolNs],
      ['--workers', String(WORKERS), '--resync-seconds', String(resyncSeconds)],
      nodeOptions,
    );
    await operator.quiet();

    // Placement watched, not polled: listing 10,000 tenants every few seconds would load the API
    // server the operator is measured against.
    const placement = `pool ${poolNs}/${POOL}`;
    const placed = new Set<string>();
    const watcher = new Informer<KubeObject>({
      client: env.client,
      path: collectionPath(KINDS.tenant, tenantNs),
      logger: createLogger({ component: 'bench', level: 'error' }),
      onEvent: (type, tenant) => {
        const name = tenant.metadata.name ?? '';
        const status = tenant['status'] as TenantStatus | undefined;
        const done =
          type !== 'DELETED' &&
          status?.observedGeneration === tenant.metadata.generation &&
          status?.placement === placement &&
          status.conditions?.some((c) => c.type === 'Applied' && c.status === 'True') === true &&
          status.conditions.some((c) => c.type === 'PoolReady');
        if (done) placed.add(name);
        else placed.delete(name);
      },
    });
    watcher.start();
    await watcher.whenSynced();

    const auditedBefore = auditedWrites(USER_AGENT, 'resource');
    const before = await operator.metrics();
    const memoryBefore = await operator.memorySample();
    const started = Date.now();
    await createInBatches(
      env.client,
      collectionPath(KINDS.tenant, tenantNs),
      Array.from({ length: n }, (_, i) => pooledOnSharedSecrets(tenantNs, `t${i}`, poolNs, POOL)),
    );
    const createSeconds = (Date.now() - started) / 1000;
    let peakQueue = 0;
    const progress = progressReporter(n, 'placed');
    // Scraped every 5 s, not every second: a scrape walks every tenant's conditions, and scraped as
    // often as the placement is checked it was a measurable share of the CPU being measured.
    for (let second = 0; placed.size < n && Date.now() - started < budgetMs && !operator.exited(); second++) {
      if (second % 5 === 0)
        peakQueue = Math.max(peakQueue, (await operator.metrics().catch(() => undefined))?.queueDepth ?? 0);
      progress(placed.size);
      await sleep(1000);
    }
    const died = operator.exited();
    if (died) {
      return {
        'pooled tenants (N)': n,
        result: `the operator exited (${died}) after ${(Date.now() - started) / 1000} s with ${placed.size} tenants placed`,
        'operator Node flags': nodeOptions ?? chartNodeOptions(),
        command: `npm run bench -- operator-pool --tenants ${n}`,
      };
    }
    const convergeSeconds = (Date.now() - started) / 1000;
    const converged = placed.size;
    const complete = converged === n;
    await watcher.stop();
    // Settled: the pool's count and the last Events land after the tenants' status. Past the
    // budget the queue is still full: the figures are taken as they stand.
    const settled = complete ? await operator.quiet() : await operator.metrics();
    const settleSeconds = (Date.now() - started) / 1000;
    const writes = difference(auditedWrites(USER_AGENT, 'resource'), auditedBefore);
    const pool = await env.client.get<KubeObject & { status?: { tenantCount?: number } }>(
      objectPath(KINDS.pool, poolNs, POOL),
    );

    let idleWrites: number | string = 'not measured (did not converge)';
    let idleAudited: number | string = idleWrites;
    if (complete) {
      const auditedIdle = total(auditedWrites(USER_AGENT));
      idleWrites = await idleResyncWrites(
        operator,
        settled,
        n,
        (resyncSeconds + n / DEFAULT_RATE_PER_SECOND + 120) * 1000,
      );
      idleAudited = total(auditedWrites(USER_AGENT)) - auditedIdle;
    }
    const memoryAtN = await operator.memorySample();
    const per = (count: number) => count / Math.max(1, converged);
    return {
      'pooled tenants (N)': n,
      'tenants placed (Applied=True, PoolReady, status.placement)': converged,
      ...convergenceFigures({ n, converged, done: 'placed', budgetMs, createSeconds, convergeSeconds }),
      'settled, queue empty (s, from first create)': settleSeconds,
      [`floor set by the queue's ${DEFAULT_RATE_PER_SECOND} reconciles/s (s)`]: n / DEFAULT_RATE_PER_SECOND,
      'API writes per tenant, convergence (audit log)': per(total(writes)),
      'API writes per tenant, convergence (operator metric)': per(settled.writes - before.writes),
      'API writes by resource, convergence (audit log)': Object.entries(writes)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => `${k}: ${v}`)
        .join(', '),
      'reconciles per tenant, convergence': per(settled.reconcileCount - before.reconcileCount),
      'peak queue depth': peakQueue,
      'pool status.tenantCount': pool?.status?.tenantCount ?? 'none',
      'API writes per idle resync (operator metric; target 0)': idleWrites,
      'API writes per idle resync (audit log; target 0)': idleAudited,
      ...memoryFigures(memoryBefore, memoryAtN, n, { peakRssMb: RSS_TARGET_MB }),
      'reconcile p99 (s, histogram bucket bound)': settled.p99,
      'operator Node flags': nodeOptions ?? chartNodeOptions(),
      'operator runtime (dist as installed, tsx without a build)': BROKER_ENTRY.runtime,
      [`resync period (s, ${WORKERS} workers)`]: resyncSeconds,
      command: `npm run bench -- operator-pool --tenants ${n}`,
    };
  });
}

function difference(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after)
      .map(([key, count]) => [key, count - (before[key] ?? 0)] as const)
      .filter(([, count]) => count > 0),
  );
}
