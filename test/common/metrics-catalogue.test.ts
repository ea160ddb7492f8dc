import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { type Metric, Registry } from 'prom-client';
import { createBrokerTelemetry } from '../../broker/telemetry.js';
import { createLogger } from '../../common/log.js';
import { type CataloguedMetric, METRIC_CATALOGUE, tenantMetrics } from '../../common/metrics.js';
import { createPortalTelemetry } from '../../portal/telemetry.js';

const names = Object.keys(METRIC_CATALOGUE) as CataloguedMetric[];

/** What prom-client keeps of a declaration (its fields are not in its public types). */
type Declared = Metric & { help: string; labelNames: string[]; upperBounds?: number[] };

describe('metric catalogue (common/metrics-catalogue.json)', () => {
  it('is the broker and portal metrics, each registered with exactly its type, help, labels and buckets', async () => {
    const registry = new Registry();
    createBrokerTelemetry(
      registry,
      createLogger({ component: 'test', level: 'silent' }),
      'acme',
      'test key material',
    );
    createPortalTelemetry(registry, 'acme');
    const exported = (await registry.getMetricsAsJSON()).map((m) => m.name);
    expect([...exported].sort()).to.deep.equal([...names].sort());
    for (const name of names) {
      const spec = METRIC_CATALOGUE[name];
      const metric = registry.getSingleMetric(name) as Declared;
      const json = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
      expect(json?.type, name).to.equal(spec.type);
      expect(metric.help, name).to.equal(spec.help);
      expect(metric.labelNames, name).to.deep.equal(['tenant', ...spec.labels]);
      if (spec.type === 'histogram') expect(metric.upperBounds, name).to.deep.equal(spec.buckets);
    }
  });

  it('keeps the names, labels and buckets the alerts and dashboards were written against', () => {
    const { jsm_sso_broker_login_duration_seconds: login, jsm_sso_portal_page_duration_seconds: page } =
      METRIC_CATALOGUE;
    expect(login.buckets).to.deep.equal([0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300]);
    expect(page.labels).to.deep.equal(['method', 'route']);
    expect(page.buckets).to.deep.equal([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
    expect(METRIC_CATALOGUE.jsm_sso_portal_client_aborts_total.labels).to.deep.equal([]);
  });

  it('refuses a name it does not list, and a counter declared as a histogram', () => {
    const metrics = tenantMetrics(new Registry(), 'portal');
    // @ts-expect-error: an unknown metric name does not compile
    expect(() => metrics.counter('jsm_sso_broker_unknown_total')).to.throw(/not a counter/);
    expect(() => metrics.histogram('jsm_sso_broker_refusals_total')).to.throw(/not a histogram/);
    expect(() => metrics.counter('jsm_sso_broker_login_duration_seconds')).to.throw(/not a counter/);
  });

  it('returns the metric already declared when a second tenant of a pool asks for it', () => {
    const metrics = tenantMetrics(new Registry(), 'portal');
    expect(metrics.counter('jsm_sso_portal_refusals_total')).to.equal(
      metrics.counter('jsm_sso_portal_refusals_total'),
    );
  });

  it('is listed in full in the metrics table of docs/monitoring.md, with its labels', () => {
    const doc = readFileSync('docs/monitoring.md', 'utf8');
    for (const name of names) {
      const labels = ['tenant', ...METRIC_CATALOGUE[name].labels].join(',');
      expect(doc, name).to.contain(`| \`${name}{${labels}}\` |`);
    }
  });
});
