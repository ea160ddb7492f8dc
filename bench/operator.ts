import { type KubeClient, type KubeObject, USER_AGENT } from '../common/kube/client.js';
import { collectionPath, KINDS, objectPath } from '../operator/kube/kinds.js';
import { auditedReads, auditedWrites, freshNamespace } from '../testkit/envtest.js';
import {
  createSharedTenantSecrets,
  createTenantSecrets,
  createUnrelatedSecrets,
  tenantObject,
  tenantOnSharedSecrets,
} from '../testkit/tenants.js';
import {
  convergenceFigures,
  createInBatches,
  idleResyncSeconds,
  idleResyncWrites,
  memoryFigures,
  progressReporter,
  sleep,
  total,
  until,
  withOperatorBench,
} from './operator-kit.js';

/**
 * The operator at scale against a real kube-apiserver + etcd, the operator running as its own
 * process (`jsm-sso operator`, so its RSS is its own) next to 120 unrelated 700 KiB Secrets (Helm
 * release history): N dedicated tenants created at once, time until all report ConfigValid=True,
 * API writes per tenant counted by the API server's audit log (User-Agent jsm-sso-operator) next to
 * the operator's own jsm_sso_operator_api_writes_total, the same for 20 tenants with generated
 * signing keys, GETs per tenant and the operator's CPU time to converge, API writes (target 0) and
 * GETs during one idle resync, operator RSS with the unrelated Secrets only (target < 200 MB), RSS
 * and heap before the N tenants and at N (the difference per tenant is what a dedicated tenant
 * costs the operator), and reconcile p99. Tenants share one pair
 * of signing Secrets so the main figure measures reconciling, not 2N RSA key generations. N:
 * `--tenants N` or BENCH_OPERATOR_TENANTS (default 1000). When N does not converge within
 * BENCH_OPERATOR_BUDGET_S (default 170 s), the figures say how many did, per tenant, so the
 * extrapolation is explicit. Every process it starts (the operator, etcd, kube-apiserver,
 * kube-controller-manager) is stopped in `finally`, on failure too.
 */
/** The resync period of a small run; a larger N gets a longer one (idleResyncSeconds). */
const MIN_RESYNC_SECONDS = 20;
/** Helm release history next to the tenants: 120 x 700 KiB (84 MiB), as issue 13 measured it. */
const UNRELATED_SECRETS = Number(process.env['BENCH_OPERATOR_UNRELATED_SECRETS'] ?? 120);
const UNRELATED_SECRET_KIB = 700;
const GENERATED_TENANTS = 20;

export async function benchOperator(
  options: { tenants?: number } = {},
): Promise<Record<string, number | string>> {
  const n = options.tenants ?? Number(process.env['BENCH_OPERATOR_TENANTS'] ?? 1000);
  const budgetMs = Number(process.env['BENCH_OPERATOR_BUDGET_S'] ?? 170) * 1000;
  const resyncSeconds = idleResyncSeconds(n, MIN_RESYNC_SECONDS);
  return withOperatorBench(async ({ env, startOperator }) => {
    const namespace = await freshNamespace(env.client, 'bench');
    await createSharedTenantSecrets(env.client, namespace);
    // Present before the operator starts, as Helm release history is: it must not cost memory.
    await createUnrelatedSecrets(env.client, namespace, UNRELATED_SECRETS, UNRELATED_SECRET_KIB);

    // Tenants with generated signing keys get their own namespace, measured before the N tenants
    // keep the operator busy with resyncs.
    const keysNamespace = await freshNamespace(env.client, 'bench-keys');
    const operator = await startOperator(
      [namespace, keysNamespace],
      ['--workers', '8', '--resync-seconds', String(resyncSeconds)],
    );
    // Every Secret listed (as metadata), before any tenant: what the unrelated Secrets cost.
    const withSecretsOnly = operator.memory().rssMb;
    const generated = await writesWithGeneratedKeys(env.client, keysNamespace);
    const auditedBefore = total(auditedWrites(USER_AGENT));
    const readsBefore = total(auditedReads(USER_AGENT));
    const writesBefore = (await operator.metrics()).writes;
    const memoryBefore = await operator.memorySample();
    const cpuBefore = operator.cpuSeconds();

    const started = Date.now();
    const tenants = collectionPath(KINDS.tenant, namespace);
    await createInBatches(
      env.client,
      tenants,
      Array.from({ length: n }, (_, i) => tenantOnSharedSecrets(namespace, `t${i}`)),
    );
    const createSeconds = (Date.now() - started) / 1000;
    const convergedCount = async () =>
      (await env.client.list<KubeObject>(tenants)).items.filter((t) =>
        (t['status'] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions?.some(
          (c) => c.type === 'ConfigValid' && c.status === 'True',
        ),
      ).length;
    let converged = 0;
    const progress = progressReporter(n, 'converged');
    while (Date.now() - started < budgetMs) {
      converged = await convergedCount();
      if (converged === n) break;
      progress(converged);
      await sleep(2000);
    }
    const convergeSeconds = (Date.now() - started) / 1000;
    const complete = converged === n;
    // Writes are counted now: the idle resync below writes (or should not) on top of these.
    const atConvergence = await operator.metrics();
    const audited = total(auditedWrites(USER_AGENT)) - auditedBefore;
    const reads = total(auditedReads(USER_AGENT)) - readsBefore;
    const cpuSeconds = operator.cpuSeconds() - cpuBefore;

    // Idle resync: wait until the operator is quiet, then for one full relist of every tenant.
    let idleWrites: number | string = 'not measured (did not converge)';
    let idleReads: number | string = idleWrites;
    if (complete) {
      const settled = await operator.quiet();
      const readsIdle = total(auditedReads(USER_AGENT));
      idleWrites = await idleResyncWrites(operator, settled, n, (resyncSeconds + 60) * 1000);
      idleReads = total(auditedReads(USER_AGENT)) - readsIdle;
    }
    const final = await operator.metrics();
    const memoryAtN = await operator.memorySample();
    return {
      'tenants (N)': n,
      'tenants converged (ConfigValid=True)': converged,
      ...convergenceFigures({ n, converged, done: 'converged', budgetMs, createSeconds, convergeSeconds }),
      'API writes per tenant, shared Secrets (API server audit log)': audited / Math.max(1, converged),
      'API writes per tenant, shared Secrets (operator metric)':
        (atConvergence.writes - writesBefore) / Math.max(1, converged),
      [`API writes per tenant, generated signing keys (audit log, ${GENERATED_TENANTS} tenants)`]: generated,
      [`unrelated Secrets present (${UNRELATED_SECRET_KIB} KiB each)`]: UNRELATED_SECRETS,
      'operator RSS with the unrelated Secrets, before tenants (MB, target < 200)': withSecretsOnly,
      'API reads (GET) per tenant, shared Secrets (audit log)': reads / Math.max(1, converged),
      'operator CPU to converge (s, user + system)': cpuSeconds,
      'API writes per idle resync (target 0)': idleWrites,
      'API reads (GET) per idle resync (audit log)': idleReads,
      ...memoryFigures(memoryBefore, memoryAtN, n, { rssAtNMb: 250 }),
      'resync period (s)': resyncSeconds,
      'reconcile p99 (s, histogram bucket bound)': final.p99,
      'reconcile p50 (s, histogram bucket bound)': final.p50,
      reconciles: final.reconcileCount,
      command: 'npm run bench -- operator',
    };
  });
}

/**
 * Writes per tenant as the API server's audit log counts them, for tenants that reference their
 * own Secrets and get generated signing keys (two Secrets and their SigningKeyGenerated Events
 * more than tenants on shared Secrets).
 */
async function writesWithGeneratedKeys(client: KubeClient, namespace: string): Promise<number> {
  const before = total(auditedWrites(USER_AGENT));
  const names = Array.from({ length: GENERATED_TENANTS }, (_, i) => `g${i}`);
  for (const name of names) {
    await createTenantSecrets(client, namespace, name);
    await client.create(collectionPath(KINDS.tenant, namespace), tenantObject(namespace, name));
  }
  const appliedTrue = async () => {
    for (const name of names) {
      const t = await client.get<KubeObject>(objectPath(KINDS.tenant, namespace, name));
      const conditions = (t?.['status'] as { conditions?: { type: string; status: string }[] } | undefined)
        ?.conditions;
      if (!conditions?.some((c) => c.type === 'Applied' && c.status === 'True')) return false;
    }
    return true;
  };
  await until(appliedTrue, 120_000, `${GENERATED_TENANTS} tenants with generated keys`);
  // Let the last Events land: they follow the status write.
  await sleep(2000);
  return (total(auditedWrites(USER_AGENT)) - before) / GENERATED_TENANTS;
}
