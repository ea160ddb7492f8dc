import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parseAllDocuments, stringify } from 'yaml';
import { createBrokerTelemetry } from '../../broker/telemetry.js';
import { MemoryFlowStore, POOL_MEMORY_STORE_SHARES } from '../../common/flowstore/index.js';
import { createLogger } from '../../common/log.js';
import { registerMemoryStoreEvictions } from '../../common/memory-store-evictions.js';
import { createMetricsRegistry } from '../../common/metrics.js';
import { packageRoot } from '../../common/paths.js';
import { registerPoolMemoryStoreMetrics } from '../../common/pool/memory-store-metrics.js';
import { registerSigningCertificateExpiry } from '../../common/signing-certificate-metrics.js';
import { FAILURE_REASONS } from '../../operator/errors.js';
import { createOperatorMetrics } from '../../operator/metrics.js';
import { createPortalTelemetry } from '../../portal/telemetry.js';
import { helmPath, promtoolPath } from '../../testkit/tools.js';

const CHART = join(packageRoot(), 'charts/jsm-sso');
const CASES = join(packageRoot(), 'test/monitoring/alerts.promtest.yaml');
const DASHBOARD = join(CHART, 'files/dashboards/jsm-sso.json');

interface RuleGroups {
  groups: { name: string; rules: { alert?: string; expr: string }[] }[];
}

/** The chart's PrometheusRule spec (`groups`), rendered with helm and extra `--set`s. */
function renderedRules(...set: string[]): RuleGroups {
  const out = execFileSync(
    helmPath(),
    [
      'template',
      'rel',
      CHART,
      '--set',
      'metrics.prometheusRule.enabled=true',
      ...set.flatMap((s) => ['--set', s]),
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const rule = parseAllDocuments(out)
    .map((d) => d.toJS() as { kind?: string; spec?: RuleGroups } | null)
    .find((d) => d?.kind === 'PrometheusRule');
  if (!rule?.spec) throw new Error('the chart rendered no PrometheusRule');
  return rule.spec;
}

/** Runs `promtool test rules` on the test cases against `rules`; returns its exit code and output. */
function promtoolTest(rules: RuleGroups): { code: number; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'jsm-sso-alerts-'));
  try {
    writeFileSync(join(dir, 'rules.yaml'), stringify(rules));
    copyFileSync(CASES, join(dir, 'cases.yaml'));
    const promtool = promtoolPath();
    execFileSync(promtool, ['check', 'rules', join(dir, 'rules.yaml')], { stdio: 'pipe' });
    try {
      const output = execFileSync(promtool, ['test', 'rules', join(dir, 'cases.yaml')], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      return { code: 0, output };
    } catch (err) {
      const e = err as { status: number; stdout: string; stderr: string };
      return { code: e.status, output: `${e.stdout}${e.stderr}` };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every series name jsm-sso exposes: process defaults, operator, broker, portal, certificates. */
async function exposedSeriesNames(): Promise<Set<string>> {
  const registry = createMetricsRegistry();
  const logger = createLogger({ component: 'test', level: 'silent' });
  createBrokerTelemetry(registry, logger, 't', 'test key material');
  createPortalTelemetry(registry, 't');
  createOperatorMetrics(registry, { queueDepth: () => 0, conditions: () => [] });
  registerSigningCertificateExpiry(registry, 'broker', () => [{ tenantId: 't', expiry: {} }]);
  // A pool without Redis: its memory store's series.
  const poolStore = new MemoryFlowStore({ tenantShares: POOL_MEMORY_STORE_SHARES });
  registerPoolMemoryStoreMetrics(registry, poolStore);
  registerMemoryStoreEvictions(registry, poolStore, (owner) => owner);
  await poolStore.close();
  const names = new Set<string>();
  for (const metric of await registry.getMetricsAsJSON()) {
    names.add(metric.name);
    if (String(metric.type) === 'histogram')
      for (const s of ['_bucket', '_sum', '_count']) names.add(metric.name + s);
  }
  return names;
}

const METRIC_NAME = /\b(?:jsm_sso|process|nodejs)_[a-z0-9_]+\b/g;

interface Dashboard {
  panels: { title?: string; targets?: { expr: string }[] }[];
  templating: { list: { query?: { query?: string } }[] };
}

const dashboard = () => JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
const seriesIn = (queries: string[]) => new Set(queries.flatMap((q) => q.match(METRIC_NAME) ?? []));
const panelQueries = (d: Dashboard) => d.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
const alertQueries = () => renderedRules().groups.flatMap((g) => g.rules.map((r) => r.expr));

describe('alert rules and dashboard (charts/jsm-sso)', function () {
  this.timeout(120_000);

  it('pass promtool check and every promtool unit test with the default thresholds', () => {
    const { code, output } = promtoolTest(renderedRules());
    expect(code, output).to.equal(0);
    expect(output).to.include('SUCCESS');
  });

  it('fail the unit tests when a threshold moves (the tests can tell)', () => {
    const { code, output } = promtoolTest(
      renderedRules(
        'metrics.prometheusRule.refusedSignInRatio=0.5',
        'metrics.prometheusRule.certificateExpiryWarningDays=10',
        'metrics.prometheusRule.heapUsedRatio=0.95',
      ),
    );
    expect(code).to.equal(1);
    expect(output).to.include('JsmSsoSignInsRefused');
    expect(output).to.include('JsmSsoSigningCertificateExpiring');
    expect(output).to.include('JsmSsoHeapNearLimit');
  });

  it('cover each alert the monitoring pack promises', () => {
    const alerts = renderedRules().groups.flatMap((g) => g.rules.map((r) => r.alert));
    expect(alerts).to.include.members([
      'JsmSsoTenantNotReady',
      'JsmSsoReconcileErrors',
      'JsmSsoSignInsRefused',
      'JsmSsoAtlassianErrors',
      'JsmSsoIdpKeysUnreadable',
      'JsmSsoSigningCertificateExpiring',
      'JsmSsoHeapNearLimit',
      'JsmSsoFlowStoreRefusing',
      'JsmSsoPoolTenantShareUsed',
      'JsmSsoFlowStoreSessionsEvicted',
    ]);
    const tested = readFileSync(CASES, 'utf8');
    for (const alert of new Set(alerts))
      expect(tested, `a promtool case for ${alert}`).to.include(`alertname: ${alert}`);
  });

  it("feed the reconcile-error alert only reasons the operator counts (operator/errors.ts), a tenant's and a pool's", () => {
    // A case on a reason the operator no longer emits (it once fed "Conflict") proves nothing.
    const reasons = [
      ...readFileSync(CASES, 'utf8').matchAll(
        /jsm_sso_operator_reconcile_errors_total\{[^}]*reason="([^"]+)"/g,
      ),
    ].map((m) => m[1]!);
    expect(reasons).to.include.members(['ApplyFailed', 'SecretMissing']);
    expect(reasons.filter((reason) => !Object.hasOwn(FAILURE_REASONS, reason))).to.deep.equal([]);
  });

  it('query only series that jsm-sso exposes, in the rules and in the dashboard', async () => {
    const exposed = await exposedSeriesNames();
    const board = dashboard();
    const used = seriesIn([
      ...alertQueries(),
      ...panelQueries(board),
      ...board.templating.list.flatMap((v) => (v.query?.query ? [v.query.query] : [])),
    ]);
    expect(used.size).to.be.greaterThan(15);
    expect([...used].filter((name) => !exposed.has(name))).to.deep.equal([]);
    expect(used).to.include('process_cpu_seconds_total').and.include('jsm_sso_build_info');
  });

  it('show on the dashboard every series an alert fires on: the person it wakes finds it there', () => {
    // The portal's 5xx (JsmSsoFlowStoreRefusing), failed IdP key reads and the heap limit were
    // alerted on with no panel (ADR 0212).
    const onPanels = seriesIn(panelQueries(dashboard()));
    const alerted = [...seriesIn(alertQueries())];
    expect(alerted).to.include('jsm_sso_portal_errors_total');
    expect(alerted.filter((name) => !onPanels.has(name))).to.deep.equal([]);
  });
});
