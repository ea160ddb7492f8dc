import { expect } from 'chai';
import { type Harness, signIn, useHarness } from '../../testkit/portal-harness.js';

/** The sample count of a histogram series whose labels include all of `labels`. */
async function histogramCount(h: Harness, name: string, labels: Record<string, string>): Promise<number> {
  const metric = await h.registry.getSingleMetric(name)?.get();
  const series = (metric?.values ?? []).filter(
    (v) =>
      (v as { metricName?: string }).metricName === `${name}_count` &&
      Object.entries(labels).every(([k, value]) => (v.labels as Record<string, unknown>)[k] === value),
  );
  return series.reduce((sum, v) => sum + v.value, 0);
}

describe('portal metrics', () => {
  let h: Harness;
  useHarness((started) => {
    h = started;
  });

  it('times pages by route pattern, never by the address asked for', async () => {
    const alice = await signIn(h, 'alice@acme.test');
    const key = h.keyOf('Printer on 3rd floor jams every morning');
    const before = await histogramCount(h, 'jsm_sso_portal_page_duration_seconds', {
      method: 'GET',
      route: '/requests/:key',
    });
    expect((await alice.text(`/requests/${key}`)).status).to.equal(200);
    expect((await alice.text('/no/such/page')).status).to.equal(404);
    expect(
      await histogramCount(h, 'jsm_sso_portal_page_duration_seconds', {
        method: 'GET',
        route: '/requests/:key',
      }),
    ).to.equal(before + 1);
    expect(
      await histogramCount(h, 'jsm_sso_portal_page_duration_seconds', { route: 'other' }),
    ).to.be.greaterThan(0);
    const text = await h.registry.metrics();
    expect(text).to.not.include(key);
    expect(text).to.not.include('/no/such/page');
  });

  it('times each Atlassian call by method and counts it by status', async () => {
    // Carol's requests have fewer (type, status) pairs than My requests reads while it answers: no
    // status name is left to read after the page (ADR 0293), so every call it makes is made, and
    // counted both here and in the metrics, by the time it answers. Bob's have more: the reads made
    // after his page landed between the two counts.
    const carol = await signIn(h, 'carol@acme.test');
    const timed = (method: string) =>
      histogramCount(h, 'jsm_sso_portal_atlassian_call_duration_seconds', { method });
    const calls = h.exchanges.length;
    const before = { GET: await timed('GET'), POST: await timed('POST') };
    expect((await carol.text('/requests?status=all&ownership=all')).status).to.equal(200);
    const made = h.exchanges.slice(calls);
    const statusNameReads = made.filter((e) => e.path.startsWith('/rest/servicedeskapi/request/'));
    expect(statusNameReads.length, 'status names all read while the page answered').to.be.below(5);
    expect(made.map((e) => e.method)).to.include.members(['GET', 'POST']);
    for (const method of ['GET', 'POST'] as const) {
      const count = made.filter((e) => e.method === method).length;
      expect(await timed(method), method).to.equal(before[method] + count);
    }
    expect(await h.registry.metrics()).to.match(
      /^jsm_sso_portal_atlassian_calls_total\{[^}]*status="200"\} \d+/m,
    );
  });
});
