// A desk page as native: request type groups as a left-hand navigation, icons read through the
// portal from Atlassian's request type icon links, descriptions, and a search across groups.
import { expect } from 'chai';
import { SERVICE_ACCOUNT } from '../../dev/tenant.js';
import { AtlassianClient } from '../../portal/atlassian/client.js';
import { AtlassianError } from '../../portal/atlassian/errors.js';
import { type Browser, type Harness, signIn, useHarness } from '../../testkit/portal-harness.js';

describe('portal desk page: groups, icons and descriptions', () => {
  let h: Harness;
  let alice: Browser;
  useHarness(
    async (started) => {
      h = started;
      alice = await signIn(h, 'alice@acme.test', { displayName: 'Alice Anders' });
    },
    // No cache lifetime: a desk's organizations changed for one sign-in are read by that sign-in,
    // not held from Alice's for the tenant (ADR 0319).
    { catalogueTtlMs: 0 },
  );
  const group = (name: string) =>
    h.emulator.state.serviceDesks.get('1')!.groups.find((g) => g.name === name)!;
  const typeNames = (page: string) =>
    [...page.matchAll(/href="\/desk\/1\/create\/\d+"><strong>([^<]+)</g)].map((m) => m[1]!);
  const navigation = (page: string) =>
    /<nav class="groups" aria-label="Request type groups">(.*?)<\/nav>/s.exec(page)?.[1] ?? '';

  it('lists the groups as a navigation and shows the first group’s request types', async () => {
    const page = (await alice.text('/desk/1')).body;
    const nav = navigation(page);
    expect([...nav.matchAll(/>([^<>]+)<\/a>/g)].map((m) => m[1])).to.deep.equal([
      'Get help',
      'Hardware &amp; software',
      'Access',
    ]);
    expect(nav).to.include(`href="/desk/1?group&#61;${group('Get help').id}" aria-current="page">Get help`);
    expect(typeNames(page)).to.have.members([
      'Get IT help',
      'Reset my password',
      'Report a security incident',
    ]);
    expect(page).to.include('Ask a question or report something that is not working.');
  });

  it('shows another group’s request types when its link is followed', async () => {
    const page = (await alice.text(`/desk/1?group=${group('Hardware & software').id}`)).body;
    expect(navigation(page)).to.match(/aria-current="page">Hardware &amp; software</);
    expect(typeNames(page)).to.have.members([
      'Report a broken laptop',
      'Request new hardware',
      'Request software',
    ]);
    // A group id that is not the desk's falls back to the first group.
    expect(typeNames((await alice.text('/desk/1?group=999')).body)).to.include('Get IT help');
  });

  it('searches across every group', async () => {
    const page = (await alice.text('/desk/1?q=request')).body;
    expect(typeNames(page)).to.include.members(['Request new hardware', 'Request access']);
    expect(navigation(page)).to.not.include('aria-current');
  });

  it('shows each request type’s icon, read from Atlassian’s icon link through the portal', async () => {
    const page = (await alice.text('/desk/1')).body;
    const icons = [...page.matchAll(/<img src="(\/desk\/1\/icon\/\d+)" alt=""/g)].map((m) => m[1]!);
    expect(icons).to.have.length(typeNames(page).length);
    const res = await alice.fetch(icons[0]!);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^image\/svg\+xml/);
    expect(res.headers.get('x-content-type-options')).to.equal('nosniff');
    expect(res.headers.get('content-security-policy')).to.include('sandbox');
    const body = await res.text();
    expect(body).to.match(/^<svg /);
    // The very image Atlassian serves at the type's icon link.
    const type = h.emulator.state.requestTypes.get(icons[0]!.split('/').pop()!)!;
    const atlassian = await fetch(
      `${h.emulator.url}/rest/api/2/universal_avatar/view/type/SD_REQTYPE/avatar/${10500 + (Number(type.id) % 20)}`,
      {
        headers: {
          authorization: `Basic ${Buffer.from('portal-bot@acme.test:dev-api-token').toString('base64')}`,
        },
      },
    );
    expect(body).to.equal(await atlassian.text());
    // The create form shows the icon and the description too.
    const form = (await alice.text(icons[0]!.replace('/icon/', '/create/'))).body;
    expect(form).to.include(`<img src="${icons[0]}" alt=""`);
  });

  it('answers 404 for an icon of a desk the customer may not use, or of no request type', async () => {
    const hrType = [...h.emulator.state.requestTypes.values()].find((t) => t.serviceDeskId === '2')!;
    // Erik is a customer of IT Help; HR is not open to his organization while he signs in.
    const hr = h.emulator.state.serviceDesks.get('2')!;
    const organizations = hr.organizationIds;
    hr.organizationIds = [];
    const erik = await signIn(h, 'erik@acme.test').finally(() => {
      hr.organizationIds = organizations;
    });
    expect((await erik.fetch(`/desk/2/icon/${hrType.id}`)).status).to.equal(404);
    expect((await alice.fetch(`/desk/2/icon/${hrType.id}`)).status).to.equal(200);
    expect((await alice.fetch('/desk/1/icon/99999')).status).to.equal(404);
  });

  it('fetches icons only from Jira’s request type icon viewer on the Atlassian site', async () => {
    const exchanges: unknown[] = [];
    const client = new AtlassianClient({
      siteUrl: h.emulator.url,
      ...SERVICE_ACCOUNT,
      onExchange: (e) => exchanges.push(e),
    });
    for (const url of [
      'https://evil.test/rest/api/2/universal_avatar/view/type/SD_REQTYPE/avatar/10501',
      `${h.emulator.url}/rest/servicedeskapi/request`,
      `${h.emulator.url}/rest/api/2/universal_avatar/view/type/SD_REQTYPE/avatar/10501/../../../../3/myself`,
      'not a url',
    ]) {
      const err = await client.requestTypeIcon(url).catch((e: unknown) => e);
      expect(err, url).to.be.instanceOf(AtlassianError);
      expect((err as AtlassianError).code, url).to.equal('ATLASSIAN_NOT_FOUND');
    }
    expect(exchanges).to.deep.equal([]);
  });
});
