// "How can we help?": one search over request types and knowledge base articles, a knowledge base
// section on the home page and on each desk, and the optional anonymous access to the knowledge base.
import { expect } from 'chai';
import { requestTypeMatches } from '../../portal/help-search.js';
import { type Browser, type Harness, reasons, signIn, useHarness } from '../../testkit/portal-harness.js';

describe('portal: one help search over request types and articles', () => {
  let h: Harness;
  let alice: Browser;
  useHarness(async (harness) => {
    h = harness;
    alice = await signIn(h, 'alice@acme.test');
  });

  it('matches a request type when every word is in its name or description', () => {
    const laptop = { name: 'Report a broken laptop', description: 'Screen, keyboard or battery' };
    expect(requestTypeMatches(laptop, 'broken LAPTOP')).to.equal(true);
    expect(requestTypeMatches(laptop, 'keyboard')).to.equal(true);
    expect(requestTypeMatches(laptop, 'laptop printer')).to.equal(false);
  });

  it('finds request types (linked to their forms) and articles in one search from the home page', async () => {
    const page = await alice.text('/?q=vpn');
    expect(page.status).to.equal(200);
    expect(page.body).to.include('How can we help?');
    const types = /<section[^>]*aria-labelledby="rt-h"[\s\S]*?<\/section>/.exec(page.body)![0];
    expect(types).to.match(/href="\/desk\/1\/create\/\d+"/);
    const articles = /<section[^>]*aria-labelledby="kb-h"[\s\S]*?<\/section>/.exec(page.body)![0];
    expect(articles).to.include('Connect to the VPN');
    const empty = await alice.text('/?q=zzzz-nothing');
    expect(empty.body)
      .to.include('No request types match your search.')
      .and.include('No articles match your search.');
  });

  it('has a knowledge base section on the home page and on each desk, searched with the desk', async () => {
    expect((await alice.text('/')).body).to.match(/<h2 id="kb-h">Knowledge base<\/h2>/);
    const desk = await alice.text('/desk/1');
    expect(desk.body).to.match(/<h2 id="kb-h">Knowledge base<\/h2>/);
    const searched = await alice.text('/desk/1?q=VPN');
    const section = /<section[^>]*aria-labelledby="kb-h"[\s\S]*?<\/section>/.exec(searched.body)![0];
    expect(section)
      .to.include('Connect to the VPN')
      .and.match(/href="\/desk\/1\/article\//);
    // The desk's own knowledge base only.
    expect((await alice.text('/desk/1?q=policy')).body).to.not.include('Vacation policy');
  });
});

describe('portal: anonymous visitors, when the tenant does not allow them', () => {
  let h: Harness;
  useHarness((harness) => {
    h = harness;
  });

  it('sends them to sign in for the home page, a desk and an article', async () => {
    for (const path of ['/', '/?q=vpn', '/desk/1', '/desk/1/article/1?title=Connect%20to%20the%20VPN']) {
      const res = await fetch(h.url + path, { redirect: 'manual' });
      expect(res.status, path).to.equal(303);
      expect(res.headers.get('location'), path).to.match(/^\/login\?return=/);
    }
  });
});

describe('portal: anonymous visitors, when the tenant allows them (spec.portal.anonymousAccess)', () => {
  let h: Harness;
  useHarness(
    (harness) => {
      h = harness;
    },
    { portal: { anonymousAccess: { serviceDeskIds: ['1'] } } },
  );
  const get = (path: string) => fetch(h.url + path, { redirect: 'manual' });

  it('shows the home page with the public desks only and searches their articles, never request types', async () => {
    const from = h.exchanges.length;
    const home = await get('/');
    expect(home.status).to.equal(200);
    const body = await home.text();
    expect(body).to.include('IT Help').and.not.include('Human Resources');
    expect(body).to.include('href="/login"');
    const search = await (await get('/?q=policy%20vpn')).text();
    expect(search).to.include('Connect to the VPN').and.not.include('Vacation policy');
    expect(search)
      .to.not.include('aria-labelledby="rt-h"')
      .and.not.match(/\/create\//);
    // Nothing about requests was asked of Atlassian for them.
    const paths = h.exchanges.slice(from).map((e) => e.path);
    expect(paths.filter((p) => /search\/jql|\/request\b|\/requesttype|\/customer/.test(p))).to.deep.equal([]);
  });

  it('opens a public desk as its knowledge base, and its articles, but no other desk', async () => {
    const desk = await (await get('/desk/1?q=VPN')).text();
    expect(desk)
      .to.include('Connect to the VPN')
      .and.not.match(/\/create\//);
    const link = /href="(\/desk\/1\/article\/[^"]+)"/
      .exec(desk)![1]!
      .replace(/&amp;/g, '&')
      .replace(/&#61;/g, '=');
    const article = await get(link);
    expect(article.status).to.equal(200);
    expect(await article.text()).to.include('Install the VPN profile from the self-service portal');
    const from = h.logs.length;
    expect((await get('/desk/2')).status).to.equal(404);
    expect((await get('/desk/2?q=policy')).status).to.equal(404);
    expect(reasons(h, from)).to.deep.equal(['PORTAL_DESK_NOT_FOUND', 'PORTAL_DESK_NOT_FOUND']);
  });

  it('never shows them requests, forms or anything of a customer: those still need sign-in', async () => {
    const key = h.keyOf('Printer on 3rd floor jams every morning');
    for (const path of [
      '/requests',
      `/requests/${key}`,
      '/desk/1/create/1',
      '/profile',
      '/activity',
      '/desk/1/icon/1',
    ]) {
      const res = await get(path);
      expect(res.status, path).to.equal(303);
      expect(res.headers.get('location'), path).to.match(/^\/login\?return=/);
    }
  });

  it('still gives a signed-in customer their own desks and request types', async () => {
    const alice = await signIn(h, 'alice@acme.test');
    const home = await alice.text('/?q=vpn');
    expect(home.body).to.include('aria-labelledby="rt-h"');
  });
});

describe('portal: anonymous pages are rate limited per client IP', () => {
  let h: Harness;
  useHarness(
    (harness) => {
      h = harness;
    },
    { portal: { anonymousAccess: { serviceDeskIds: ['1'] }, limits: { anonymousPages: { perIp: 3 } } } },
  );

  it('answers 429 with Retry-After once an address has read too many pages, without asking Atlassian', async () => {
    for (let i = 0; i < 3; i++) expect((await fetch(`${h.url}/?q=vpn${i}`)).status).to.equal(200);
    const from = h.exchanges.length;
    const logsFrom = h.logs.length;
    const refused = await fetch(`${h.url}/?q=vpn`);
    expect(refused.status).to.equal(429);
    expect(Number(refused.headers.get('retry-after'))).to.be.greaterThan(0);
    expect(h.exchanges.slice(from)).to.deep.equal([]);
    expect(reasons(h, logsFrom)).to.include('PORTAL_RATE_LIMITED');
  });
});
