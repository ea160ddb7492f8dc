import { getHeapStatistics } from 'node:v8';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { buildInfo } from './build-info.js';
import catalogue from './metrics-catalogue.json' with { type: 'json' };

/**
 * One registry per process part. Node's default process metrics keep their standard names
 * (`process_cpu_seconds_total`, `nodejs_heap_size_used_bytes`, ...) so that stock Node.js dashboards
 * and alerts work unchanged; jsm-sso's own metrics are prefixed `jsm_sso_`.
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const { version, revision } = buildInfo();
  new Gauge({
    name: 'jsm_sso_build_info',
    help: 'Always 1; the labels say which release and source revision this process runs.',
    labelNames: ['version', 'revision'],
    registers: [registry],
  }).set({ version, revision }, 1);
  new Gauge({
    name: 'jsm_sso_heap_limit_bytes',
    help: "V8's heap size limit (--max-old-space-size plus the young generation); nodejs_heap_size_used_bytes near it means the process is about to run out of heap.",
    registers: [registry],
  }).set(getHeapStatistics().heap_size_limit);
  return registry;
}

/**
 * The `tenant` label a pooled part gives its aggregated series (ADR 0101): a pool of 10,000 tenants
 * keeps per-tenant series only for sign-in outcomes, Atlassian call outcomes and signing-certificate
 * expiry; every other series is the pool's, summed over its tenants.
 */
export const POOL_AGGREGATE_TENANT = '*';

/** The two `tenant` label values one part's telemetry uses: equal for a dedicated part. */
export interface TenantLabels {
  /** For the few key metrics: always the tenant. */
  perTenant: string;
  /** For everything else: the tenant when dedicated, POOL_AGGREGATE_TENANT in a pool. */
  aggregated: string;
}

export function tenantLabels(tenantId: string, pooled = false): TenantLabels {
  return { perTenant: tenantId, aggregated: pooled ? POOL_AGGREGATE_TENANT : tenantId };
}

/** What dropTenantSeries needs of a registered metric: prom-client's counters, gauges and histograms all have it. */
interface LabelledMetric {
  labelNames?: readonly string[];
  get(): Promise<{ values: Array<{ labels: Record<string, string | number | undefined> }> }>;
  remove(labels: Record<string, string | number>): void;
}

/**
 * Removes every series of `registry` labelled `tenant="<tenantId>"` (ADR 0367): a pool process runs
 * for weeks while tenants leave it, and a series kept after its tenant left grew the scrape with
 * every tenant the pool had ever served and kept naming a tenant no longer there. A histogram's
 * bucket carries `le`, which is no label of its own: only the metric's labels name the series.
 */
export async function dropTenantSeries(registry: Registry, tenantId: string): Promise<void> {
  for (const metric of registry.getMetricsAsArray() as unknown as LabelledMetric[]) {
    const labelNames = metric.labelNames ?? [];
    if (!labelNames.includes('tenant')) continue;
    for (const { labels } of (await metric.get()).values) {
      if (labels['tenant'] !== tenantId) continue;
      const named = labelNames.filter((name) => labels[name] !== undefined);
      metric.remove(Object.fromEntries(named.map((name) => [name, labels[name]!])));
    }
  }
}

/**
 * What the broker and the portal export, by name (common/metrics-catalogue.json): the one place
 * that says each metric's type, help, labels and buckets, so that docs/monitoring.md, the alert
 * rules and the code read the same list (test/common/metrics-catalogue.test.ts holds them together).
 */
export type CataloguedMetric = keyof typeof catalogue;

export interface MetricSpec {
  /** The part that declares it: its telemetry declares all of its part's metrics at once. */
  part: 'broker' | 'portal';
  type: 'counter' | 'histogram';
  help: string;
  /** Label names after `tenant`, which every catalogued metric has first. */
  labels: readonly string[];
  /** Histograms only: upper bounds in seconds. */
  buckets?: readonly number[];
  /** Why the buckets are where they are (JSON has no comments); not exported. */
  note?: string;
}

/** The catalogue, checked once at load: a malformed entry stops the process before it serves. */
export const METRIC_CATALOGUE: Readonly<Record<CataloguedMetric, MetricSpec>> = checkCatalogue(catalogue);

function checkCatalogue(
  raw: Record<string, { part: string; type: string; help: string; labels: string[]; buckets?: number[] }>,
) {
  for (const [name, spec] of Object.entries(raw)) {
    const valid =
      (spec.type === 'counter' && spec.buckets === undefined) ||
      (spec.type === 'histogram' && Array.isArray(spec.buckets) && spec.buckets.length > 0);
    if (
      !valid ||
      !name.startsWith(`jsm_sso_${spec.part}_`) ||
      !['broker', 'portal'].includes(spec.part) ||
      spec.help === ''
    )
      throw new Error(
        `common/metrics-catalogue.json: ${name} is not a valid broker or portal counter or histogram`,
      );
  }
  return raw as Record<CataloguedMetric, MetricSpec>;
}

/**
 * Declares every metric the catalogue gives `part` in `registry`, each labelled first by tenant,
 * so that the portal and the broker name and label their series the same way and a scrape lists
 * them all before the first event; the part's telemetry then reaches them by name. A metric
 * already declared (by another tenant of the same pool) is kept as it is: one set of metric
 * objects per process.
 */
export function tenantMetrics(registry: Registry, part: MetricSpec['part']) {
  const declare = (name: CataloguedMetric, type: MetricSpec['type']) => {
    const spec = METRIC_CATALOGUE[name];
    if (spec?.type !== type) throw new Error(`${name} is not a ${type} in common/metrics-catalogue.json`);
    const existing = registry.getSingleMetric(name);
    if (existing) return existing;
    const common = { name, help: spec.help, labelNames: ['tenant', ...spec.labels], registers: [registry] };
    return type === 'counter'
      ? new Counter(common)
      : new Histogram({ ...common, buckets: [...(spec.buckets ?? [])] });
  };
  for (const name of Object.keys(METRIC_CATALOGUE) as CataloguedMetric[])
    if (METRIC_CATALOGUE[name].part === part) declare(name, METRIC_CATALOGUE[name].type);
  return {
    counter: (name: CataloguedMetric) => declare(name, 'counter') as Counter,
    histogram: (name: CataloguedMetric) => declare(name, 'histogram') as Histogram,
  };
}
