// Customer journeys under a fault mix: sign in, raise a request, comment, sign out, while Atlassian
// answers writes with 429 (Retry-After 1 s) and 503 at random. Counts journeys completed, lost (the
// customer could not finish) and requests duplicated (one form, more than one request).
import { startLocalRedis } from '../testkit/local-redis.js';
import { csrfOf, signIn, startHarness } from '../testkit/portal-harness.js';

/** `JSM_SSO_BENCH_FAULTS_JOURNEYS` sets fewer for a quick run (the stage's own test runs one). */
const JOURNEYS = Number(process.env['JSM_SSO_BENCH_FAULTS_JOURNEYS'] ?? 20);

/**
 * On $REDIS_URL, else on a Redis of its own, whose URL is set for the portal harness only while the
 * journeys run: the stages after this one (pool, pool-kube) start pools that inherit the environment
 * and take REDIS_URL for their flow store, which named a stopped Redis (ADR 0359).
 */
export async function benchFaults(): Promise<Record<string, number | string>> {
  if (process.env['REDIS_URL']) return journeysUnderFaults();
  const redis = await startLocalRedis();
  process.env['REDIS_URL'] = redis.url;
  try {
    return await journeysUnderFaults();
  } finally {
    delete process.env['REDIS_URL'];
    await redis.stop();
  }
}

async function journeysUnderFaults(): Promise<Record<string, number | string>> {
  const h = await startHarness();
  let completed = 0;
  let lost = 0;
  let faultsInjected = 0;
  const started = performance.now();
  try {
    for (let i = 0; i < JOURNEYS; i++) {
      const summary = `Bench journey ${i} ${Date.now()}`;
      const rules = [];
      const roll = () => Math.random();
      if (roll() < 0.5)
        rules.push({
          status: 429,
          retryAfterSeconds: 1,
          pathPrefix: '/rest/servicedeskapi/request',
          method: 'POST',
          times: 1 + Math.floor(roll() * 2),
        });
      if (roll() < 0.3)
        rules.push({
          status: 503,
          retryAfterSeconds: 1,
          pathPrefix: '/rest/servicedeskapi/request',
          method: 'POST',
          times: 1,
        });
      faultsInjected += rules.reduce((n, r) => n + r.times, 0);
      h.emulator.faults.set(...rules);
      const browser = await signIn(h, 'alice@acme.test', { displayName: 'Alice Anders' });
      const desk = (await browser.text('/desk/1')).body;
      const typeId = /href="\/desk\/1\/create\/(\d+)"><strong>Get IT help/.exec(desk)![1]!;
      const form = (await browser.text(`/desk/1/create/${typeId}`)).body;
      const body = new FormData();
      body.append('_csrf', csrfOf(form));
      body.append('_write', /name="_write" value="([^"]+)"/.exec(form)![1]!);
      body.append('f_summary', summary);
      body.append('f_description', 'A journey under faults.');
      const created = await browser.fetch(`/desk/1/create/${typeId}`, {
        method: 'POST',
        body,
        headers: { origin: h.url },
      });
      const location = created.headers.get('location') ?? '';
      let ok = created.status === 303;
      if (ok) {
        const page = (await browser.text(location)).body;
        const write = /action="\/requests\/[^/]+\/comment"[^>]*>.*?name="_write" value="([^"]+)"/s.exec(
          page,
        )![1]!;
        const comment = await browser.post(location.replace(/\?.*$/, '/comment'), {
          _csrf: csrfOf(page),
          _write: write,
          body: 'Any news?',
        });
        ok = comment.status === 303;
        const out = await browser.post('/logout', { _csrf: csrfOf(page) });
        ok &&= out.status === 200;
      }
      if (ok) completed++;
      else lost++;
    }
    const bySummary = new Map<string, number>();
    for (const r of h.emulator.state.requests.values()) {
      const s = String(r.fieldValues['summary']);
      if (s.startsWith('Bench journey')) bySummary.set(s, (bySummary.get(s) ?? 0) + 1);
    }
    const duplicated = [...bySummary.values()].filter((n) => n > 1).length;
    return {
      'journeys (sign in, raise, comment, sign out)': JOURNEYS,
      'faults injected on writes (429, 503)': faultsInjected,
      'journeys completed': completed,
      'journeys lost': lost,
      'requests duplicated': duplicated,
      'seconds for all journeys': (performance.now() - started) / 1000,
    };
  } finally {
    await h.close();
  }
}
