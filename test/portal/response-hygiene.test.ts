// What every answer of the portal carries whatever the route: no caching of anything a signed-in
// customer is shown (a shared computer keeps nothing), and nothing taken from the Host header a
// client sends. The GET routes are read from the running portal's router, so a new one fails here
// until it is listed (ADR 0147).
import { request as httpRequest } from 'node:http';
import { expect } from 'chai';
import {
  type Browser,
  type Harness,
  portalRoutes,
  signIn,
  useHarness,
} from '../../testkit/portal-harness.js';

/** Not personal and the same for everyone (the tenant's colour): browsers may keep it. */
const CACHEABLE = new Set(['/favicon.svg', '/favicon.ico']);

describe('portal: response hygiene on every route', () => {
  let h: Harness;
  let alice: Browser;
  useHarness(async (started) => {
    h = started;
    alice = await signIn(h, 'alice@acme.test', { groups: ['portal-admins'] });
  });

  /** One URL per GET route, with parameters alice may use, and the status she gets. */
  function visits(): Record<string, { path: string; status: number }> {
    const printer = [...h.emulator.state.requests.values()].find(
      (r) => r.fieldValues['summary'] === 'Laptop screen flickers',
    )!;
    const png = printer.attachments.find((a) => a.filename === 'screen.png')!;
    const type = [...h.emulator.state.requestTypes.values()].find((t) => t.name === 'Get IT help')!;
    const article = h.emulator.state.articles.find((a) => a.serviceDeskId === '1')!;
    const inProgress = [...h.emulator.state.requests.values()].find(
      (r) => r.fieldValues['summary'] === 'Printer on 3rd floor jams every morning',
    )!;
    return {
      '/': { path: '/', status: 200 },
      '/activity': { path: '/activity', status: 200 },
      '/desk/:deskId': { path: '/desk/1', status: 200 },
      '/desk/:deskId/article/:pageId': {
        path: `/desk/1/article/${article.id}?title=${encodeURIComponent(article.title)}`,
        status: 200,
      },
      '/desk/:deskId/create/:typeId': { path: `/desk/1/create/${type.id}`, status: 200 },
      '/desk/:deskId/icon/:typeId': { path: `/desk/1/icon/${type.id}`, status: 200 },
      '/desk/:deskId/suggest': { path: '/desk/1/suggest?q=vpn', status: 200 },
      '/favicon.ico': { path: '/favicon.ico', status: 200 },
      '/favicon.svg': { path: '/favicon.svg', status: 200 },
      '/locale': { path: '/locale?lang=en&return=/requests', status: 303 },
      '/login': { path: '/login?return=/requests', status: 303 },
      '/profile': { path: '/profile', status: 200 },
      '/requests': { path: '/requests', status: 200 },
      '/requests/:key': { path: `/requests/${printer.key}`, status: 200 },
      '/requests/:key/attachment/:attachmentId': {
        path: `/requests/${printer.key}/attachment/${png.id}`,
        status: 200,
      },
      '/requests/:key/attachment/:attachmentId/thumbnail': {
        path: `/requests/${printer.key}/attachment/${png.id}/thumbnail`,
        status: 200,
      },
      '/requests/:key/share': { path: `/requests/${printer.key}/share`, status: 200 },
      '/requests/:key/transition/:transitionId': {
        path: `/requests/${inProgress.key}/transition/761`,
        status: 200,
      },
      '/saml/metadata': { path: '/saml/metadata', status: 200 },
      '/saml/slo': { path: '/saml/slo', status: 400 },
      '/signed-out': { path: '/signed-out', status: 200 },
    };
  }

  it('knows every GET route of the portal (a new one must be visited here)', () => {
    expect(portalRoutes(h).flatMap((r) => (r.startsWith('GET ') ? [r.slice(4)] : []))).to.deep.equal(
      Object.keys(visits()).sort(),
    );
  });

  it('lets no browser or proxy keep any answer but the favicon (Cache-Control: no-store)', async () => {
    for (const [route, visit] of Object.entries(visits())) {
      const res = await alice.fetch(visit.path);
      await res.arrayBuffer();
      expect(res.status, route).to.equal(visit.status);
      if (CACHEABLE.has(route)) expect(res.headers.get('cache-control'), route).to.match(/^public/);
      else expect(res.headers.get('cache-control'), route).to.equal('no-store');
    }
    // Refusals and pages for someone not signed in too.
    for (const path of ['/requests/IT-99999', '/no-such-page', '/requests']) {
      const res = await fetch(h.url + path, { redirect: 'manual' });
      await res.arrayBuffer();
      expect(res.headers.get('cache-control'), path).to.equal('no-store');
    }
  });

  it('lets no page frame any answer, sniff it or run what it did not send: pages, files, refusals (ADR 0300)', async () => {
    const answers: [string, Response, number][] = [];
    for (const [route, visit] of Object.entries(visits()))
      answers.push([route, await alice.fetch(visit.path), visit.status]);
    // Refusals: a page that does not exist, a request that is not hers, a form from another origin,
    // and the same signed out.
    answers.push(['no such page', await alice.fetch('/no-such-page'), 404]);
    answers.push(['no such request', await alice.fetch('/requests/IT-99999'), 404]);
    answers.push([
      'a form from elsewhere',
      await alice.post('/logout', {}, { origin: 'https://evil.test' }),
      403,
    ]);
    answers.push(['signed out', await fetch(`${h.url}/no-such-page`, { redirect: 'manual' }), 404]);
    for (const [what, res, status] of answers) {
      await res.arrayBuffer();
      expect(res.status, what).to.equal(status);
      const csp = res.headers.get('content-security-policy') ?? '';
      // Framing: X-Frame-Options DENY for every browser, frame-ancestors where the global CSP stands
      // (a file's or an icon's sandboxing CSP names none, and browsers then keep to X-Frame-Options).
      expect(res.headers.get('x-frame-options'), what).to.equal('DENY');
      expect(csp, what).to.match(/^default-src 'none'/);
      if (!csp.includes('sandbox')) expect(csp, what).to.include("frame-ancestors 'none'");
      expect(csp, what).to.not.match(/unsafe-eval|script-src[^;]*(unsafe-inline|\*)/);
      expect(res.headers.get('x-content-type-options'), what).to.equal('nosniff');
    }
  });

  it('answers HEAD on every GET route as it answers GET: the same status and Location, signed in or not (RFC 9110 9.3.2)', async () => {
    // An uptime monitor checks a help center with HEAD: a signed-out HEAD answered 401 "signed out
    // while writing a form" (and logged PORTAL_SESSION_MISSING) where GET sends to sign-in.
    const from = h.logs.length;
    for (const [route, visit] of Object.entries(visits())) {
      const head = await alice.fetch(visit.path, { method: 'HEAD' });
      expect(head.status, `HEAD ${route}, signed in`).to.equal(visit.status);
      const [get, anonymousHead] = await Promise.all(
        (['GET', 'HEAD'] as const).map((method) =>
          fetch(h.url + visit.path, { method, redirect: 'manual' }).then(async (res) => {
            await res.arrayBuffer();
            // Each sign-in start signs a new AuthnRequest: where it goes is what must agree.
            return { status: res.status, location: res.headers.get('location')?.split('?SAMLRequest=')[0] };
          }),
        ),
      );
      expect(anonymousHead, `HEAD ${route}, signed out`).to.deep.equal(get);
    }
    expect(h.logs.slice(from).filter((l) => l['reason'] === 'PORTAL_SESSION_MISSING')).to.deep.equal([]);
  });

  it('takes nothing from a forged Host or X-Forwarded-Host: no Location, link or form points there', async () => {
    const cookie = [...alice.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const { port } = new URL(h.url);
    const send = (path: string, withCookie: boolean) =>
      new Promise<{ status: number; location: string; body: string }>((resolve, reject) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port,
            path,
            headers: {
              host: 'evil.test',
              'x-forwarded-host': 'evil.test',
              'x-forwarded-proto': 'https',
              ...(withCookie ? { cookie } : {}),
            },
          },
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => {
              body += c;
            });
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, location: res.headers.location ?? '', body }),
            );
          },
        );
        req.on('error', reject);
        req.end();
      });
    for (const [path, withCookie] of [
      ['/login?return=/requests', false],
      ['/requests', false],
      ['/saml/metadata', false],
      ['/requests', true],
      ['/profile', true],
    ] as const) {
      const answer = await send(path, withCookie);
      expect(answer.location, path).to.not.include('evil.test');
      expect(answer.body, path).to.not.include('evil.test');
    }
  });
});
