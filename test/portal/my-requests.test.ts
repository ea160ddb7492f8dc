// My requests: the "Requests" filter lists each of the customer's organizations by name, as the
// native portal does, and an organization from the URL that is not the customer's widens nothing.
import { expect } from 'chai';
import { type Browser, type Harness, signIn, startHarness } from '../../testkit/portal-harness.js';

describe('portal My requests filter by organization', () => {
  let h: Harness;
  let bob: Browser;
  before(async () => {
    h = await startHarness({
      atlassian: {
        organizationMappings: [
          { organizationId: '1', emailDomain: 'acme.test' },
          { organizationId: '2', idpGroup: 'globex-partners' },
        ],
      },
    });
    bob = await signIn(h, 'bob@acme.test', { groups: ['globex-partners'] });
  });
  after(async () => {
    await h.close();
  });

  it('offers one entry per organization, by name', async () => {
    const page = await bob.text('/requests');
    expect(page.body).to.include('<option value="org-1">Acme Corp</option>');
    expect(page.body).to.include('<option value="org-2">Globex Partners</option>');
    expect(page.body).to.not.include('value="organization"');
  });

  it('lists the requests shared with the chosen organization only', async () => {
    const globex = await bob.text('/requests?status=all&ownership=org-2');
    expect(globex.body).to.include('<option value="org-2" selected>');
    expect(globex.body)
      .to.include('Cannot reach the partner extranet')
      .and.not.include('VPN access for travel');
    const acme = await bob.text('/requests?status=all&ownership=org-1');
    expect(acme.body)
      .to.include('VPN access for travel')
      .and.not.include('Cannot reach the partner extranet');
  });

  it('sends no search for an organization that is not the customer’s', async () => {
    const from = h.exchanges.length;
    const page = await bob.text('/requests?status=all&ownership=org-999');
    expect(page.status).to.equal(200);
    expect(page.body).to.include('No requests found.');
    expect(h.exchanges.slice(from).filter((e) => e.path.startsWith('/rest/api/3/search/jql'))).to.deep.equal(
      [],
    );
  });
});

describe('portal My requests: desk and request type columns and filters, sorting, paging with counts', () => {
  let h: Harness;
  let alice: Browser;
  before(async () => {
    h = await startHarness();
    alice = await signIn(h, 'alice@acme.test', { displayName: 'Alice Anders' });
  });
  after(async () => {
    await h.close();
  });
  const keysOf = (page: string) =>
    [...page.matchAll(/<td data-label="Reference"><a href="\/requests\/([A-Z]+-\d+)">/g)].map((m) => m[1]!);
  const rowOf = (page: string, summary: string) =>
    /<tr>(?:(?!<\/tr>).)*<\/tr>/gs.exec(page.slice(page.lastIndexOf('<tr>', page.indexOf(summary))))?.[0] ??
    '';
  const typeId = (name: string) =>
    [...h.emulator.state.requestTypes.values()].find((t) => t.name === name)!.id;

  it('shows each request’s service desk and request type', async () => {
    const page = (await alice.text('/requests?status=all')).body;
    const row = rowOf(page, 'Summer vacation');
    expect(row).to.include('<td data-label="Service desk">HR</td>');
    expect(row).to.include('<td data-label="Request type">Request time off</td>');
    expect(rowOf(page, 'Printer on 3rd floor jams every morning')).to.include(
      '<td data-label="Service desk">IT Help</td><td data-label="Request type">Get IT help</td>',
    );
  });

  it('filters by service desk and by request type, and ignores a desk or type that is not hers', async () => {
    const hr = (await alice.text('/requests?status=all&desk=2')).body;
    expect(hr).to.include('Summer vacation').and.not.include('Printer on 3rd floor');
    expect(hr).to.include('<option value="2" selected>HR</option>');
    const software = (await alice.text(`/requests?status=all&type=1:${typeId('Request software')}`)).body;
    expect(software).to.include('Adobe Creative Cloud for the brochure');
    for (const other of ['Printer on 3rd floor', 'Summer vacation', 'Laptop screen flickers'])
      expect(software).to.not.include(other);
    // A type of another desk under this desk's id, or a desk that does not exist: the whole list.
    const forged = (await alice.text(`/requests?status=all&type=1:${typeId('Request time off')}&desk=999`))
      .body;
    expect(forged).to.include('Summer vacation').and.include('Printer on 3rd floor');
  });

  it('sorts by creation or last update, either way', async () => {
    const newest = keysOf((await alice.text('/requests?status=all')).body);
    const oldest = keysOf((await alice.text('/requests?status=all&sort=created-asc')).body);
    expect(newest.length).to.be.greaterThan(3);
    expect(oldest).to.deep.equal([...newest].reverse());
    // Touch the oldest request: it leads "Recently updated".
    const touched = [...h.emulator.state.requests.values()].find((r) => r.key === oldest[0])!;
    touched.updated = Date.now() + 60_000;
    const updated = keysOf((await alice.text('/requests?status=all&sort=updated-desc')).body);
    expect(updated[0]).to.equal(oldest[0]);
    expect((await alice.text('/requests?status=all&sort=bogus')).body).to.include(
      '<option value="created-desc" selected>',
    );
  });

  it('pages forward and back with Atlassian’s count', async () => {
    const accountId = h.emulator.state.userByEmail('alice@acme.test')!.accountId;
    const auth = `Basic ${Buffer.from('portal-bot@acme.test:dev-api-token').toString('base64')}`;
    for (let i = 0; i < 25; i++) {
      const res = await fetch(`${h.emulator.url}/rest/servicedeskapi/request`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          serviceDeskId: '1',
          requestTypeId: typeId('Get IT help'),
          raiseOnBehalfOf: accountId,
          requestFieldValues: { summary: `Paging request ${i}` },
        }),
      });
      expect(res.status).to.equal(201);
    }
    const total = [...h.emulator.state.requests.values()].filter((r) => r.reporterId === accountId).length;
    const first = (await alice.text('/requests?status=all&ownership=mine')).body;
    expect(first).to.include(`Requests 1–20 of about ${total}`);
    expect(first).to.not.include('rel="prev"');
    const next = /<a class="button" href="([^"]+)" rel="next">Next page<\/a>/
      .exec(first)![1]!
      .replace(/&amp;/g, '&');
    const second = (await alice.text(next.replace(/&#61;/g, '='))).body;
    expect(second).to.include(`Requests 21–${Math.min(40, total)} of`);
    expect(keysOf(second)).to.not.include.members(keysOf(first).slice(0, 1));
    const previous = /<a class="button secondary" href="([^"]+)" rel="prev">Previous<\/a>/.exec(second)![1]!;
    const back = (await alice.text(previous.replace(/&amp;/g, '&').replace(/&#61;/g, '='))).body;
    expect(keysOf(back)).to.deep.equal(keysOf(first));
    // A start that does not fit the trail is a bad paging link.
    expect((await alice.text('/requests?status=all&start=7')).status).to.equal(400);
  });

  it('says a page after the first that comes back empty is the end, not that nothing was found', async () => {
    const accountId = h.emulator.state.userByEmail('alice@acme.test')!.accountId;
    const first = (await alice.text('/requests?status=all&ownership=mine')).body;
    const next = /<a class="button" href="([^"]+)" rel="next">/.exec(first)![1]!;
    // Her other requests go (moved to another project, deleted) before she follows Next.
    const shown = keysOf(first);
    for (const [id, r] of h.emulator.state.requests)
      if (r.reporterId === accountId && !shown.includes(r.key)) h.emulator.state.requests.delete(id);
    const page = await alice.text(next.replace(/&amp;/g, '&').replace(/&#61;/g, '='));
    expect(page.status).to.equal(200);
    expect(page.body).to.include('No more requests.').and.not.include('No requests found.');
    expect(page.body).to.match(/<a class="button secondary" href="[^"]+" rel="prev">Previous<\/a>/);
  });
});

describe('portal My requests: search text (JQL and Jira text-search syntax)', () => {
  let h: Harness;
  let alice: Browser;
  before(async () => {
    h = await startHarness();
    alice = await signIn(h, 'alice@acme.test', { displayName: 'Alice Anders' });
    const accountId = h.emulator.state.userByEmail('alice@acme.test')!.accountId;
    const typeId = [...h.emulator.state.requestTypes.values()].find((t) => t.name === 'Get IT help')!.id;
    const res = await fetch(`${h.emulator.url}/rest/servicedeskapi/request`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from('portal-bot@acme.test:dev-api-token').toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        serviceDeskId: '1',
        requestTypeId: typeId,
        raiseOnBehalfOf: accountId,
        requestFieldValues: { summary: 'Order toner by Friday for the print room' },
      }),
    });
    expect(res.status).to.equal(201);
  });
  after(async () => {
    await h.close();
  });
  const searched = (from: number) =>
    h.exchanges.slice(from).filter((e) => e.path.startsWith('/rest/api/3/search/'));

  it('counts a search whose words include ORDER BY (the count is asked with the same query)', async () => {
    const from = h.exchanges.length;
    const page = await alice.text(`/requests?status=all&q=${encodeURIComponent('toner ORDER BY Friday')}`);
    expect(page.status).to.equal(200);
    expect(page.body).to.include('Order toner by Friday for the print room');
    expect(page.body).to.include('Requests 1–1 of 1');
    expect(searched(from).map((e) => [e.path, e.status])).to.deep.equal([
      ['/rest/api/3/search/jql', 200],
      ['/rest/api/3/search/approximate-count', 200],
    ]);
  });

  it('takes ALL-CAPS OR as a word, never widening the search to requests without the others', async () => {
    const page = await alice.text(`/requests?status=all&q=${encodeURIComponent('toner OR laptop')}`);
    expect(page.status).to.equal(200);
    expect(page.body).to.not.include('Laptop screen flickers');
  });

  it('finds nothing for a search with no letter or digit, instead of dropping the search', async () => {
    const from = h.exchanges.length;
    const page = await alice.text(`/requests?status=all&q=${encodeURIComponent('"*? \\ ~')}`);
    expect(page.status).to.equal(200);
    expect(page.body).to.include('No requests found.').and.not.include('Laptop screen flickers');
    expect(searched(from)).to.deep.equal([]);
  });

  it('finds the request whatever JQL or Lucene syntax surrounds its words', async () => {
    const typed = [
      'toner" ORDER BY "friday',
      'toner\\" print "room',
      'toner\nfriday',
      '(toner) [friday] ~ print*',
    ];
    // JQL's reserved words, and a search longer than the box takes (cut at 100 characters).
    const nothing = ['"is" EMPTY null order by', `toner ${'x'.repeat(300)}`];
    for (const q of [...typed, ...nothing]) {
      const from = h.exchanges.length;
      const page = await alice.text(`/requests?status=all&q=${encodeURIComponent(q)}`);
      expect(page.status, q).to.equal(200);
      expect(
        searched(from).map((e) => e.status),
        q,
      ).to.deep.equal([200, 200]);
      expect(page.body.includes('Order toner by Friday for the print room'), q).to.equal(typed.includes(q));
    }
  });

  it('answers a search ending in NOT or AND with the list, not an error page', async () => {
    for (const q of ['laptop NOT', 'AND laptop', 'NOT', 'laptop OR', 'laptop AND NOT OR screen']) {
      const from = h.exchanges.length;
      const page = await alice.text(`/requests?status=all&q=${encodeURIComponent(q)}`);
      expect(page.status, q).to.equal(200);
      expect(
        searched(from).map((e) => e.status),
        q,
      ).to.deep.equal([200, 200]);
    }
  });
});
