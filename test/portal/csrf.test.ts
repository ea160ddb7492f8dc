import { expect } from 'chai';
import { CROSS_SITE_POSTS } from '../../portal/web.js';
import {
  type Browser,
  csrfOf,
  formPost,
  type Harness,
  portalRoutes,
  reasons,
  signIn,
  useHarness,
} from '../../testkit/portal-harness.js';

/**
 * Every state-changing POST of the portal refuses a form without the session's CSRF token, and one
 * with the token but from another origin (OWASP ASVS 4.0 V4.2.2, V50.4). The routes are read from
 * the running portal's router (every route with a method other than GET or HEAD, wherever it was
 * mounted), so a new one fails here until it is attacked below. Two exceptions: `/saml/acs`, the
 * broker's auto-posting page is cross-site by design; its guard is the signed Response answering this
 * browser's pending login (test/portal/sign-in.test.ts). `/saml/slo` is posted server to server by
 * the broker (SOAP, no cookie); its guard is the broker's signature on a fresh, once-only
 * LogoutRequest (test/portal/backchannel-logout.test.ts).
 */
const CROSS_SITE_BY_DESIGN = new Set(['/saml/acs', '/saml/slo']);

describe('portal: CSRF on every state-changing POST', () => {
  let h: Harness;
  let alice: Browser;
  useHarness(async (started) => {
    h = started;
    // An admin too, so that /activity/revoke's admin guard lets the forged form reach the CSRF check.
    alice = await signIn(h, 'alice@acme.test', { groups: ['portal-admins'] });
  });

  /** Each POST route with its parameters filled for alice, and the form a browser would send. */
  function attacks(): Record<string, { path: string; multipart: boolean; fields: Record<string, string> }> {
    const key = h.keyOf('Printer on 3rd floor jams every morning');
    const type = [...h.emulator.state.requestTypes.values()][0]!;
    return {
      '/activity/revoke': { path: '/activity/revoke', multipart: false, fields: { accountId: 'x' } },
      '/desk/:deskId/create/:typeId': {
        path: `/desk/${type.serviceDeskId}/create/${type.id}`,
        multipart: true,
        fields: { f_summary: 'forged request' },
      },
      '/logout': { path: '/logout', multipart: false, fields: {} },
      '/requests/:key/attachment': { path: `/requests/${key}/attachment`, multipart: true, fields: {} },
      '/requests/:key/comment': {
        path: `/requests/${key}/comment`,
        multipart: false,
        fields: { body: 'forged' },
      },
      '/requests/:key/organizations/add': {
        path: `/requests/${key}/organizations/add`,
        multipart: false,
        fields: { organizationId: '1' },
      },
      '/requests/:key/organizations/remove': {
        path: `/requests/${key}/organizations/remove`,
        multipart: false,
        fields: { organizationId: '1' },
      },
      '/requests/:key/participants/add': {
        path: `/requests/${key}/participants/add`,
        multipart: false,
        fields: { accountId: 'x' },
      },
      '/requests/:key/participants/remove': {
        path: `/requests/${key}/participants/remove`,
        multipart: false,
        fields: { accountId: 'x' },
      },
      '/requests/:key/transition': {
        path: `/requests/${key}/transition`,
        multipart: false,
        fields: { transitionId: '1' },
      },
    };
  }

  it('knows every state-changing route of the portal (a new one must be attacked here)', () => {
    const covered = Object.keys(attacks()).map((r) => `POST ${r}`);
    const routes = portalRoutes(h).filter((r) => !/^(GET|HEAD) /.test(r));
    expect(routes, 'routes read from the router').to.include('POST /requests/:key/transition');
    expect([...CROSS_SITE_POSTS], "the portal's exempt posts (web.originFirst)").to.deep.equal([
      ...CROSS_SITE_BY_DESIGN,
    ]);
    expect(routes.filter((r) => !CROSS_SITE_BY_DESIGN.has(r.replace(/^POST /, '')))).to.deep.equal(
      covered.sort(),
    );
  });

  it('takes no method override: a GET that asks to be a POST changes nothing', async () => {
    const site = () => JSON.stringify([...h.emulator.state.requests.values()]);
    const before = site();
    for (const attack of Object.values(attacks())) {
      const query = new URLSearchParams({ ...attack.fields, _method: 'POST' }).toString();
      const res = await alice.fetch(`${attack.path}?${query}`, {
        headers: { 'x-http-method-override': 'POST', 'x-method-override': 'POST' },
      });
      await res.arrayBuffer();
      // The GET page where there is one (the raise form), else 404: never the action's 303.
      expect(res.status, attack.path).to.be.oneOf([200, 404]);
    }
    expect(site(), 'requests, comments, participants, statuses').to.equal(before);
    expect((await alice.fetch('/requests')).status, 'still signed in').to.equal(200);
  });

  it('refuses each without the token and with the token from another origin, changing nothing', async () => {
    const token = csrfOf((await alice.text('/profile')).body);
    const requestsBefore = h.emulator.state.requests.size;
    const commentsBefore = [...h.emulator.state.requests.values()].reduce((n, r) => n + r.comments.length, 0);
    for (const [route, attack] of Object.entries(attacks())) {
      for (const [label, csrf, origin] of [
        ['no token', undefined, alice.base],
        ['another origin', token, 'https://evil.test'],
      ] as const) {
        const from = h.logs.length;
        const fields = { ...attack.fields, ...(csrf === undefined ? {} : { _csrf: csrf }) };
        const post = formPost(origin, fields, attack.multipart, route.endsWith('/attachment'));
        const res = await alice.fetch(attack.path, post);
        await res.arrayBuffer();
        expect(res.status, `${route}, ${label}`).to.equal(403);
        expect(reasons(h, from), `${route}, ${label}`).to.include('PORTAL_CSRF');
      }
    }
    expect(h.emulator.state.requests.size).to.equal(requestsBefore);
    expect([...h.emulator.state.requests.values()].reduce((n, r) => n + r.comments.length, 0)).to.equal(
      commentsBefore,
    );
    // Still signed in: the forged sign-outs ended nothing.
    expect((await alice.fetch('/requests')).status).to.equal(200);
  });

  it('refuses a form from another origin before anything of it costs an Atlassian call, multipart forms too (ADR 0250)', async () => {
    const token = csrfOf((await alice.text('/profile')).body);
    const calls: Record<string, string[]> = {};
    for (const [route, attack] of Object.entries(attacks())) {
      // The comment form is multipart when it carries files (commentWithFiles), url-encoded when not.
      for (const multipart of attack.multipart
        ? [true]
        : route.endsWith('/comment')
          ? [false, true]
          : [false]) {
        const label = `${route}${multipart ? ', multipart' : ''}`;
        const post = formPost('https://evil.test', { ...attack.fields, _csrf: token }, multipart);
        // Whatever the session's own reads (organizations, the account's standing) wanted is read now.
        await (await alice.fetch('/profile')).arrayBuffer();
        // And the status names a My requests view of an earlier test left to read (ADR 0293).
        await h.app.statusNamesRead();
        const from = h.exchanges.length;
        const logged = h.logs.length;
        const res = await alice.fetch(attack.path, post);
        await res.arrayBuffer();
        expect(res.status, label).to.equal(403);
        expect(reasons(h, logged), label).to.include('PORTAL_CSRF');
        calls[label] = h.exchanges.slice(from).map((e) => `${e.method} ${e.path}`);
      }
    }
    expect(calls, 'Atlassian calls').to.deep.equal(
      Object.fromEntries(Object.keys(calls).map((label) => [label, []])),
    );
  });

  it("keeps no session's token at rest, and takes only the session's own: not another's, not what Redis holds", async () => {
    const bob = await signIn(h, 'bob@acme.test');
    const aliceToken = csrfOf((await alice.text('/profile')).body);
    const bobToken = csrfOf((await bob.text('/profile')).body);
    expect(aliceToken).to.not.equal(bobToken);
    // A dump of the tenant's Redis: every key and every value the portal keeps.
    const keys = (await h.storedKeys()).map((k) => k.key);
    const values = await h.storedValues();
    for (const token of [aliceToken, bobToken]) {
      expect(
        values.filter((v) => v.includes(token)),
        'values holding a token',
      ).to.deep.equal([]);
      expect(
        keys.filter((k) => k.includes(token)),
        'keys holding a token',
      ).to.deep.equal([]);
    }
    const path = `/requests/${h.keyOf('Printer on 3rd floor jams every morning')}/comment`;
    const comment = (token: string) => alice.post(path, { body: 'from the at-rest test', _csrf: token });
    // What an attacker with the dump could try as the token: each stored key's last part and each value.
    const dumped = [...keys.map((k) => k.split(':').pop() ?? ''), ...values];
    for (const forged of [bobToken, ...dumped]) {
      const from = h.logs.length;
      const res = await comment(forged);
      await res.arrayBuffer();
      expect(res.status, forged.slice(0, 60)).to.equal(403);
      expect(reasons(h, from)).to.include('PORTAL_CSRF');
    }
    const res = await comment(aliceToken);
    await res.arrayBuffer();
    expect(res.status, "alice's own token").to.equal(303);
    const bobRes = await bob.post('/logout', { _csrf: bobToken });
    await bobRes.arrayBuffer();
    expect(bobRes.status, "bob's own token").to.equal(200);
  });
});
