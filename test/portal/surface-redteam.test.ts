// A red-team pass on the portal's HTTP surface as a hostile customer or page would attack it (ADR 0300):
// what docs/attacks.md did not yet send. Each attack asserts the refusal it must get.
import { request as httpRequest } from 'node:http';
import { expect } from 'chai';
import { inflateRedirectPayload } from '../../common/saml/deflate.js';
import type { CustomerRequest } from '../../dev/jsm-emulator/state.js';
import { TEST_PLACEMENT } from '../../testkit/pool.js';
import { type Browser, type Harness, signIn, useHarness } from '../../testkit/portal-harness.js';

/** One raw GET with a request target no browser sends (absolute-form), and the cookies given. */
function rawGet(h: Harness, target: string, cookie: string) {
  return raw(h, 'GET', target, { cookie });
}

/** One raw request: any method and header fields, as a script (not a browser) sends them. */
function raw(h: Harness, method: string, target: string, headers: Record<string, string>) {
  const { port } = new URL(h.url);
  return new Promise<{ status: number; location: string; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method, path: target, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            location: res.headers.location ?? '',
            headers: res.headers,
            body,
          }),
        );
      });
      req.on('error', reject);
      req.end();
    },
  );
}

describe('portal: red-team pass on the HTTP surface (ADR 0300)', () => {
  let h: Harness;
  let alice: Browser;
  useHarness(async (started) => {
    h = started;
    alice = await signIn(h, 'alice@acme.test');
  });
  const request = (summary: string) =>
    [...h.emulator.state.requests.values()].find((r) => r.fieldValues['summary'] === summary)!;
  let moves = 0;
  const move = (r: CustomerRequest): { from: string; to: string } => {
    const from = r.key;
    r.previousKeys = [...(r.previousKeys ?? []), from];
    r.key = `IT-${800 + ++moves}`;
    return { from, to: r.key };
  };

  describe("a moved request's redirect", () => {
    it('leads an old key written in another letter case to the new key, never back to itself', async () => {
      const { from, to } = move(request('Laptop screen flickers'));
      for (const path of [`/REQUESTS/${from}`, `/Requests/${from}?x=1`]) {
        const page = await alice.fetch(path);
        await page.arrayBuffer();
        expect(page.status, path).to.equal(301);
        expect(page.headers.get('location'), path).to.equal(
          `/requests/${to}${path.includes('?') ? '?x=1' : ''}`,
        );
      }
    });

    it('sends an absolute-form request target to a path of the portal, never to the host it names', async () => {
      const { from, to } = move(request('Printer on 3rd floor jams every morning'));
      const cookie = [...alice.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      for (const target of [
        `http://evil.example/requests/${from}`,
        `https://evil.example:8443/REQUESTS/${from}/attachment/1?x=1`,
      ]) {
        const answer = await rawGet(h, target, cookie);
        if (TEST_PLACEMENT === 'pool') {
          // A pool's front door routes by host: a target naming another host than the Host header names
          // no one tenant and is refused (POOL_HOST_INVALID) before any part sees it: no redirect at all.
          expect([answer.status, answer.location], target).to.deep.equal([400, '']);
          continue;
        }
        expect(answer.status, target).to.equal(301);
        expect(answer.location, target).to.equal(target.replace(/^.*\/requests\/[^/]+/i, `/requests/${to}`));
      }
    });
  });

  it('answers OPTIONS, TRACE and the other methods no route takes with a 404 page that sends back nothing of the request (ADR 0326)', async () => {
    // Cross-site tracing: a TRACE echoing the request would hand a page's script the HttpOnly cookie.
    const cookie = [...alice.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    for (const method of ['OPTIONS', 'TRACE', 'PUT', 'DELETE', 'PATCH'])
      for (const target of ['/', '/requests', '/logout', '/saml/acs', '*']) {
        const answer = await raw(h, method, target, { cookie, 'x-probe': 'echo-me' });
        const what = `${method} ${target}`;
        expect(answer.status, what).to.equal(404);
        expect(answer.headers['cache-control'], what).to.equal('no-store');
        expect(answer.headers['content-type'], what).to.match(/^text\/html/);
        for (const sent of [...alice.cookies.values(), 'echo-me'])
          expect(answer.body, what).to.not.include(sent);
      }
  });

  describe('behind a proxy whose forwarded header fields are believed (the operator sets one hop)', () => {
    let proxied: Harness;
    useHarness(
      (started) => {
        proxied = started;
      },
      { trustedProxyHops: 1 },
    );

    it("builds the AuthnRequest's ACS URL and every Location from the tenant's own URL, whatever X-Forwarded-Host, Forwarded or X-Forwarded-Proto name (ADR 0326)", async () => {
      // The Host stays the tenant's own, as a pool's front door needs it to route here at all.
      const forged = {
        host: new URL(proxied.url).host,
        'x-forwarded-host': 'evil.test',
        forwarded: 'host=evil.test;proto=https',
        'x-forwarded-proto': 'https',
      };
      const login = await raw(proxied, 'GET', '/login?return=/requests', forged);
      expect(login.status).to.equal(303);
      const sso = new URL(login.location);
      expect(sso.origin).to.equal('https://broker.acme.test');
      const authnRequest = inflateRedirectPayload(sso.searchParams.get('SAMLRequest') ?? '');
      expect(authnRequest).to.include(`AssertionConsumerServiceURL="${proxied.url}/saml/acs"`);
      expect(authnRequest).to.not.include('evil.test');
      const signedOut = await raw(proxied, 'GET', '/requests', forged);
      expect(signedOut.location).to.match(/^\/login\?return=/);
      const metadata = await raw(proxied, 'GET', '/saml/metadata', forged);
      expect(metadata.body).to.include(`Location="${proxied.url}/saml/acs"`).and.not.include('evil.test');
    });
  });
});
