// An outside attack suite's IDOR pass: every route that takes an identifier, sent one the customer
// must not reach. The answer is the one a thing that does not exist gets, and nothing is read for
// them or written (ADR 0147).
import { expect } from 'chai';
import type { RequestType } from '../../dev/jsm-emulator/state.js';
import {
  addGuests,
  type Browser,
  csrfOf,
  type Harness,
  reasons,
  signIn,
  useHarness,
} from '../../testkit/portal-harness.js';

describe('portal: identifiers of things the customer may not reach (IDOR)', () => {
  let h: Harness;
  let alice: Browser;
  let erik: Browser;
  let mia: Browser;
  let hidden: RequestType;
  useHarness(
    async (started) => {
      h = started;
      // A request type in no group: JSM hides it from the portal (agents use such types for e-mail
      // requests and for requests raised inside Jira).
      const shown = [...h.emulator.state.requestTypes.values()].find((t) => t.name === 'Get IT help')!;
      hidden = {
        ...shown,
        id: '9901',
        name: 'Vendor escalation (agents only)',
        description: 'Escalate to a vendor.',
        groupIds: [],
      };
      h.emulator.state.requestTypes.set(hidden.id, hidden);
      alice = await signIn(h, 'alice@acme.test');
      // Erik is a customer of IT Help only (no organization).
      erik = await signIn(h, 'erik@acme.test');
      // No mapping puts Erik into Acme Corp (whose members may use HR) at sign-in.
      mia = await signIn(h, 'mia.manager@acme.test');
    },
    // Nothing read from Atlassian is kept: a membership an agent changes counts at the next page.
    { atlassian: { organizationMappings: [] }, catalogueTtlMs: 0 },
  );
  const request = (summary: string) =>
    [...h.emulator.state.requests.values()].find((r) => r.fieldValues['summary'] === summary)!;
  const accountOf = (email: string) =>
    [...h.emulator.state.users.values()].find((u) => u.email === email)!.accountId;
  /** Posts a raise-request form (multipart, as the page sends it) with the customer's token; its status. */
  const raise = async (who: Browser, path: string, fields: Record<string, string>) => {
    const body = new FormData();
    body.set('_csrf', csrfOf((await who.text('/profile')).body));
    for (const [name, value] of Object.entries(fields)) body.set(name, value);
    const posted = await who.fetch(path, { method: 'POST', body, headers: { origin: h.url } });
    await posted.arrayBuffer();
    return posted.status;
  };

  it('neither offers nor takes a request type hidden from the portal (in no group)', async () => {
    const requestsBefore = h.emulator.state.requests.size;
    const desk = (await alice.text('/desk/1')).body;
    expect(desk).to.include('Get IT help').and.not.include(hidden.name);
    expect((await alice.text(`/?q=${encodeURIComponent('vendor escalation')}`)).body).to.not.include(
      hidden.name,
    );
    // Nor named among My requests' filters: an agents-only type's name is the desk's own business.
    const list = await alice.text('/requests?status=all');
    expect(list.body).to.include('Get IT help').and.not.include(hidden.name);
    expect((await alice.text(`/requests?status=all&type=1:${hidden.id}`)).body).to.not.include(hidden.name);
    const from = h.logs.length;
    const form = await alice.text(`/desk/1/create/${hidden.id}`);
    expect(form.status).to.equal(404);
    expect((await alice.text(`/desk/1/icon/${hidden.id}`)).status).to.equal(404);
    const posted = await raise(alice, `/desk/1/create/${hidden.id}`, {
      f_summary: 'raised through a hidden type',
    });
    expect(posted).to.equal(404);
    expect(reasons(h, from)).to.include('PORTAL_REQUEST_TYPE_NOT_FOUND');
    expect(h.emulator.state.requests.size, 'requests raised').to.equal(requestsBefore);
  });

  it('hides a request of a desk the customer may not use, though he takes part in it', async () => {
    // An HR agent added Erik to Bob's HR request, with a file: Atlassian's own portal shows it to him
    // only through a portal she can access, and HR is not one.
    const hr = request('New home address');
    hr.participantIds.push(accountOf('erik@acme.test'));
    hr.attachments.push({
      id: '99001',
      filename: 'lease.txt',
      mimeType: 'text/plain',
      content: Buffer.from('new lease'),
      authorId: hr.reporterId,
      created: Date.now(),
    });
    const commentsBefore = hr.comments.length;
    expect((await erik.text('/desk/2')).status, 'the HR desk').to.equal(404);
    const detail = await erik.text(`/requests/${hr.key}`);
    expect(detail.status).to.equal(404);
    expect(detail.body).to.not.include('New home address');
    for (const ownership of ['all', 'shared']) {
      const list = await erik.text(`/requests?status=all&ownership=${ownership}`);
      expect(list.body, `My requests, ${ownership}`).to.not.include(hr.key);
    }
    // His own IT request is still his (the desk she may use).
    expect((await erik.text('/requests?status=all')).body).to.include(
      request('Wi-Fi drops in meeting room Nile').key,
    );
    expect((await erik.text(`/requests/${hr.key}/attachment/99001`)).status).to.equal(404);
    const csrf = csrfOf((await erik.text('/profile')).body);
    const comment = await erik.post(`/requests/${hr.key}/comment`, { body: 'peek', _csrf: csrf });
    expect(comment.status).to.equal(404);
    const leave = await erik.post(`/requests/${hr.key}/participants/remove`, {
      accountId: accountOf('erik@acme.test'),
      _csrf: csrf,
    });
    expect(leave.status).to.equal(404);
    expect(request('New home address').comments).to.have.length(commentsBefore);
    expect(request('New home address').participantIds).to.include(accountOf('erik@acme.test'));
  });

  it('neither lists nor opens an issue of a portal desk that was raised inside Jira (no request type)', async () => {
    // An agent created a task in the IT project with Alice as its reporter: no request type, so not a
    // customer request, and Atlassian's portal shows it to nobody.
    const seeded = request('Printer on 3rd floor jams every morning');
    const internal = {
      ...seeded,
      id: '99902',
      key: 'IT-9902',
      requestTypeId: '',
      fieldValues: { summary: 'Investigate repeated printer abuse' },
      comments: [],
      attachments: [],
      approvals: [],
      participantIds: [],
      organizationIds: [],
    };
    h.emulator.state.requests.set(internal.id, internal);
    const list = await alice.text('/requests?status=all');
    expect(list.body).to.not.include('IT-9902').and.not.include('Investigate repeated printer abuse');
    const search = await alice.text('/requests?status=all&q=investigate');
    expect(search.body).to.not.include('IT-9902');
    const detail = await alice.text('/requests/IT-9902');
    expect(detail.status).to.equal(404);
    expect(detail.body).to.not.include('Investigate repeated printer abuse');
  });

  it('finds her requests by their summary only: no word of an internal comment or hidden field is an oracle', async () => {
    // The search runs as the service account, which reads internal comments; JQL's `text` covers them
    // (and every text field). Listing a request for a word only an internal note holds tells Alice
    // what the agents wrote about her. Atlassian's own portal search matches the summary only.
    const printer = request('Printer on 3rd floor jams every morning');
    const internal = printer.comments.find((c) => !c.public)!;
    expect(internal.body).to.include('vendor ticket #4471');
    const found = (q: string) => alice.text(`/requests?status=all&q=${encodeURIComponent(q)}`);
    expect((await found('printer jams')).body, 'a word of the summary').to.include(printer.key);
    expect((await found('vendor 4471')).body, 'words of an internal comment').to.not.include(printer.key);
    const hrNote = request('How many vacation days carry over?');
    expect((await found('vacation days')).body, 'a word of its summary').to.include(hrNote.key);
    expect((await found('contract')).body, 'a word of an internal HR note').to.not.include(hrNote.key);
    const search = h.exchanges.findLast((e) => e.path === '/rest/api/3/search/jql')!;
    expect((search.requestBody as { jql: string }).jql).to.include('summary ~ "contract"');
  });

  it('stops offering a desk and its requests once an agent takes the customer off it, directly or through the organization (ADR 0222)', async () => {
    const it = h.emulator.state.serviceDesks.get('1')!;
    const wifi = request('Wi-Fi drops in meeting room Nile');
    expect((await erik.text('/desk/1')).status, 'a customer of IT Help').to.equal(200);
    expect((await erik.text(`/requests/${wifi.key}`)).status).to.equal(200);
    const erikId = accountOf('erik@acme.test');
    it.customerIds = it.customerIds.filter((id) => id !== erikId);
    try {
      const from = h.logs.length;
      expect((await erik.text('/desk/1')).status, 'taken off IT Help').to.equal(404);
      expect((await erik.text(`/requests/${wifi.key}`)).status, 'his request on it').to.equal(404);
      expect((await erik.text('/requests?status=all')).body).to.not.include(wifi.key);
      expect((await erik.text('/')).body, 'the help center').to.not.include('IT Help');
      expect(JSON.stringify(h.logs.slice(from)), 'no e-mail in the log').to.not.include('erik@acme.test');
    } finally {
      it.customerIds.push(erikId);
    }
    // Put back on the desk: his session's desk again, without signing in anew.
    expect((await erik.text('/desk/1')).status, 'back on IT Help').to.equal(200);
    // Mia may use HR through Acme Corp, not only as its customer (the sign-in made her one: no
    // provisioning rules): off the customers, still through Acme Corp; out of it as well, out of HR.
    const hr = h.emulator.state.serviceDesks.get('2')!;
    const acme = [...h.emulator.state.organizations.values()].find((o) => o.name === 'Acme Corp')!;
    const miaId = accountOf('mia.manager@acme.test');
    const hrCustomers = [...hr.customerIds];
    hr.customerIds = hr.customerIds.filter((id) => id !== miaId);
    try {
      expect((await mia.text('/desk/2')).status, 'HR through Acme Corp').to.equal(200);
      acme.memberIds = acme.memberIds.filter((id) => id !== miaId);
      expect((await mia.text('/desk/2')).status, 'out of Acme Corp').to.equal(404);
    } finally {
      hr.customerIds = hrCustomers;
      if (!acme.memberIds.includes(miaId)) acme.memberIds.push(miaId);
    }
  });

  it('shows nothing through a desk or an organization when Atlassian cannot say the customer still has it, and logs why', async () => {
    const vpn = request('VPN access for travel');
    // Atlassian answers 500 for IT Help's customer search (the retries too): erik's desk is unknown.
    h.emulator.faults.set({
      pathPrefix: '/rest/servicedeskapi/servicedesk/1/customer',
      status: 500,
      times: 20,
    });
    let from = h.logs.length;
    try {
      expect((await erik.text('/desk/1')).status, 'IT Help, unknown').to.equal(404);
      expect(h.logs.slice(from).map((l) => l['event'])).to.include('portal.desks_unavailable');
    } finally {
      h.emulator.faults.clear();
    }
    expect((await erik.text('/desk/1')).status, 'IT Help, known again').to.equal(200);
    // And mia's organizations: the request shared with Acme Corp is not shown while they are unknown.
    h.emulator.faults.set({ pathPrefix: '/rest/servicedeskapi/organization', status: 500, times: 20 });
    from = h.logs.length;
    try {
      expect((await mia.text(`/requests/${vpn.key}`)).status, 'organizations unknown').to.equal(404);
      expect(h.logs.slice(from).map((l) => l['event'])).to.include('portal.organizations_unavailable');
    } finally {
      h.emulator.faults.clear();
    }
    expect((await mia.text(`/requests/${vpn.key}`)).status, 'organizations known again').to.equal(200);
  });

  it('keeps a desk the customer was taken off out of reach while Atlassian cannot give his account’s record', async () => {
    // The record (`GET /rest/api/3/user`) carries the e-mail the desk's customers are searched by. An
    // agent took Erik off IT Help; while the record cannot be read, his sign-in's desks must not stand in.
    const it = h.emulator.state.serviceDesks.get('1')!;
    const wifi = request('Wi-Fi drops in meeting room Nile');
    const erikId = accountOf('erik@acme.test');
    it.customerIds = it.customerIds.filter((id) => id !== erikId);
    h.emulator.faults.set({ pathPrefix: '/rest/api/3/user', status: 503, retryAfterSeconds: 0, times: 50 });
    const from = h.logs.length;
    try {
      expect((await erik.text('/desk/1')).status, 'IT Help').to.equal(404);
      expect((await erik.text(`/requests/${wifi.key}`)).status, 'his request on it').to.equal(404);
      const events = h.logs.slice(from).map((l) => l['event']);
      expect(events).to.include('portal.account_unchecked').and.include('portal.desks_unavailable');
    } finally {
      h.emulator.faults.clear();
      it.customerIds.push(erikId);
    }
    expect((await erik.text('/desk/1')).status, 'back on IT Help, his record read').to.equal(200);
  });

  it('stops showing a request shared with an organization once the customer has left it', async () => {
    // Bob shared his VPN request with Acme Corp; Mia sees it as a member, until an agent takes her out.
    const vpn = request('VPN access for travel');
    const acme = [...h.emulator.state.organizations.values()].find((o) => o.name === 'Acme Corp')!;
    expect((await mia.text(`/requests/${vpn.key}`)).status, 'as a member').to.equal(200);
    expect((await mia.text('/requests?status=all')).body).to.include(vpn.key);
    const miaId = accountOf('mia.manager@acme.test');
    acme.memberIds = acme.memberIds.filter((id) => id !== miaId);
    try {
      expect((await mia.text(`/requests/${vpn.key}`)).status, 'after leaving').to.equal(404);
      expect((await mia.text('/requests?status=all')).body).to.not.include(vpn.key);
      expect((await mia.text(`/requests?status=all&ownership=org-${acme.id}`)).body).to.not.include(vpn.key);
    } finally {
      acme.memberIds.push(miaId);
    }
  });

  it('stops showing a request shared with an organization once an agent takes that organization off the request’s desk, though the customer still uses the desk', async () => {
    // Erik is IT Help's customer himself and joins Globex Partners, which IT Help has: he sees what
    // Dana shared with Globex there. An agent then takes Globex off IT Help: its members "lose access
    // to the project" through it (JSM's "Remove an organization from a service project"); Erik keeps
    // the desk as its own customer, not the share, though the request still names Globex.
    const extranet = request('Cannot reach the partner extranet');
    const it = h.emulator.state.serviceDesks.get('1')!;
    const globex = [...h.emulator.state.organizations.values()].find((o) => o.name === 'Globex Partners')!;
    const erikId = accountOf('erik@acme.test');
    globex.memberIds.push(erikId);
    try {
      expect((await erik.text(`/requests/${extranet.key}`)).status, 'Globex on IT Help').to.equal(200);
      it.organizationIds = it.organizationIds.filter((id) => id !== globex.id);
      expect((await erik.text('/desk/1')).status, 'IT Help, his own desk').to.equal(200);
      const from = h.logs.length;
      expect((await erik.text(`/requests/${extranet.key}`)).status, 'Globex off IT Help').to.equal(404);
      expect(reasons(h, from)).to.include('PORTAL_REQUEST_NOT_FOUND');
      expect((await erik.text(`/requests/${extranet.key}/attachment/1`)).status, 'its files').to.equal(404);
      for (const ownership of ['all', `org-${globex.id}`]) {
        const list = await erik.text(`/requests?status=all&ownership=${ownership}`);
        expect(list.body, `My requests, ${ownership}`).to.not.include(extranet.key);
      }
      const csrf = csrfOf((await erik.text('/profile')).body);
      const commentsBefore = extranet.comments.length;
      const comment = await erik.post(`/requests/${extranet.key}/comment`, { body: 'peek', _csrf: csrf });
      expect(comment.status).to.equal(404);
      expect(request('Cannot reach the partner extranet').comments).to.have.length(commentsBefore);
    } finally {
      if (!it.organizationIds.includes(globex.id)) it.organizationIds.push(globex.id);
      globex.memberIds = globex.memberIds.filter((id) => id !== erikId);
    }
  });

  it('neither offers nor takes a share with an organization of his that the request’s desk does not have', async () => {
    // Erik, IT Help's own customer, is in Globex Partners, which an agent took off IT Help: a share with
    // it would reach no member through the portal, and JSM's own Share offers the desk's organizations.
    const locked = request('Locked out of my account');
    const it = h.emulator.state.serviceDesks.get('1')!;
    const globex = [...h.emulator.state.organizations.values()].find((o) => o.name === 'Globex Partners')!;
    const erikId = accountOf('erik@acme.test');
    const requestsBefore = h.emulator.state.requests.size;
    globex.memberIds.push(erikId);
    it.organizationIds = it.organizationIds.filter((id) => id !== globex.id);
    try {
      const page = (await erik.text(`/requests/${locked.key}`)).body;
      expect(page, 'offered on the request').to.not.include('Everyone in Globex Partners');
      const from = h.logs.length;
      const exchangesFrom = h.exchanges.length;
      const shared = await erik.post(`/requests/${locked.key}/organizations/add`, {
        organizationId: globex.id,
        _csrf: csrfOf(page),
      });
      expect(shared.status).to.equal(400);
      expect(reasons(h, from)).to.include('PORTAL_ACTION_INVALID').and.not.include('ATLASSIAN_VALIDATION');
      const edits = h.exchanges.slice(exchangesFrom).filter((e) => e.method === 'PUT');
      expect(edits, 'issue edits sent').to.deep.equal([]);
      expect(request('Locked out of my account').organizationIds, 'the Organizations field').to.deep.equal(
        [],
      );
      const typeId = [...h.emulator.state.requestTypes.values()].find((t) => t.name === 'Get IT help')!.id;
      const form = await erik.text(`/desk/1/create/${typeId}`);
      expect(form.body, 'offered on the raise form').to.not.include('Everyone in Globex Partners');
      const raised = await raise(erik, `/desk/1/create/${typeId}`, {
        f_summary: 'shared with an organization the desk does not have',
        shareOrganization: globex.id,
      });
      expect(raised).to.equal(400);
      expect(reasons(h, from)).to.include('PORTAL_COLLEAGUE_INVALID');
      expect(h.emulator.state.requests.size, 'requests raised').to.equal(requestsBefore);
    } finally {
      if (!it.organizationIds.includes(globex.id)) it.organizationIds.push(globex.id);
      globex.memberIds = globex.memberIds.filter((id) => id !== erikId);
      locked.organizationIds = [];
    }
  });

  it('neither offers nor takes as participant, nor raises for, a colleague found only in an organization the request’s desk does not have', async () => {
    // Erik, IT Help's own customer, is in Globex Partners with Dana, which an agent took off IT Help:
    // Dana is no customer of IT Help. Added by the service account she would be mailed a request she
    // cannot open (Atlassian takes only people with access to the project as participants), and a
    // request raised for her would make her the desk's customer, a grant no customer may make.
    const locked = request('Locked out of my account');
    const it = h.emulator.state.serviceDesks.get('1')!;
    const globex = [...h.emulator.state.organizations.values()].find((o) => o.name === 'Globex Partners')!;
    const erikId = accountOf('erik@acme.test');
    const danaId = accountOf('dana@globex.test');
    const requestsBefore = h.emulator.state.requests.size;
    const participantsBefore = [...locked.participantIds];
    globex.memberIds.push(erikId);
    it.organizationIds = it.organizationIds.filter((id) => id !== globex.id);
    try {
      const sharePage = await erik.text(`/requests/${locked.key}/share`);
      expect(sharePage.status).to.equal(200);
      expect(sharePage.body, 'offered on the share page').to.not.include(danaId);
      const from = h.logs.length;
      const exchangesFrom = h.exchanges.length;
      const added = await erik.post(`/requests/${locked.key}/participants/add`, {
        accountId: danaId,
        _csrf: csrfOf((await erik.text(`/requests/${locked.key}`)).body),
      });
      expect(added.status).to.equal(400);
      expect(await added.text()).to.include('people from your organizations that its service desk has');
      expect(reasons(h, from)).to.include('PORTAL_ACTION_INVALID');
      const sent = h.exchanges
        .slice(exchangesFrom)
        .filter((e) => e.method === 'POST' && e.path.endsWith('/participant'));
      expect(sent, 'participants sent').to.deep.equal([]);
      expect(locked.participantIds, 'participants').to.deep.equal(participantsBefore);
      const typeId = [...h.emulator.state.requestTypes.values()].find((t) => t.name === 'Get IT help')!.id;
      const form = await erik.text(`/desk/1/create/${typeId}`);
      expect(form.body, 'offered on the raise form').to.not.include(danaId);
      for (const field of ['shareWith', 'onBehalfOf']) {
        const raised = await raise(erik, `/desk/1/create/${typeId}`, {
          f_summary: `${field} a colleague the desk does not have`,
          [field]: danaId,
        });
        expect(raised, field).to.equal(400);
      }
      expect(reasons(h, from)).to.include('PORTAL_COLLEAGUE_INVALID');
      expect(h.emulator.state.requests.size, 'requests raised').to.equal(requestsBefore);
    } finally {
      if (!it.organizationIds.includes(globex.id)) it.organizationIds.push(globex.id);
      globex.memberIds = globex.memberIds.filter((id) => id !== erikId);
      locked.participantIds = participantsBefore;
    }
  });

  it('opens a request shared with her organization however many newer ones its reporter shared with it, with or without the Organizations field known', async () => {
    // Bob's "Shared printer queue" is shared with Acme Corp; he then shares 100 newer requests with it.
    const original = request('Shared printer queue for the Acme office');
    const desk = h.emulator.state.serviceDesks.get(original.serviceDeskId)!;
    const added: string[] = [];
    for (let i = 0; i < 100; i++) {
      const { id, key } = h.emulator.state.newIssue(desk);
      added.push(id);
      h.emulator.state.requests.set(id, {
        ...structuredClone({ ...original, subscriptions: undefined }),
        subscriptions: new Map(),
        id,
        key,
        participantIds: [],
        created: original.created + 1000 * (i + 1),
        updated: original.created + 1000 * (i + 1),
        fieldValues: { ...original.fieldValues, summary: `Newer shared ${i}` },
      } as typeof original);
    }
    try {
      expect((await mia.text(`/requests/${original.key}`)).status, 'the field known').to.equal(200);
      // A site whose Organizations field the portal cannot find: the share is asked of a search.
      h.emulator.faults.set({
        pathPrefix: '/rest/api/3/field',
        rewriteJson: (fields) =>
          (fields as { schema?: { custom?: string } }[]).filter(
            (f) => f.schema?.custom !== 'com.atlassian.servicedesk:sd-customer-organizations',
          ),
      });
      expect((await mia.text(`/requests/${original.key}`)).status, 'the field unknown').to.equal(200);
      expect((await erik.text(`/requests/${original.key}`)).status, 'not in the organization').to.equal(404);
    } finally {
      h.emulator.faults.clear();
      for (const id of added) h.emulator.state.requests.delete(id);
    }
  });

  it('opens a request she takes part in, whatever her place among its participants', async () => {
    const wifi = request('Wi-Fi drops in meeting room Nile');
    const kept = wifi.participantIds;
    // 100 guests before her: the request's participant expansion holds the first 100.
    const guests = addGuests(h, 100, 'p');
    wifi.participantIds = [...kept, ...guests, accountOf('alice@acme.test')];
    try {
      expect((await alice.text('/requests?ownership=shared&status=all')).body).to.include(wifi.key);
      expect((await alice.text(`/requests/${wifi.key}`)).status).to.equal(200);
    } finally {
      wifi.participantIds = kept;
    }
    expect((await alice.text(`/requests/${wifi.key}`)).status, 'no longer among them').to.equal(404);
  });
});
