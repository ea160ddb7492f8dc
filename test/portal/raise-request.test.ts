// The raise-request form as native: a multi-select that is a checkbox group, a hint under every
// field, "Raise this on behalf of" and "Share with" limited to the customer's own organizations.
import { expect } from 'chai';
import { cookiePolicy } from '../../portal/cookies.js';
import {
  type Browser,
  csrfOf,
  type Harness,
  reasons,
  signIn,
  useHarness,
} from '../../testkit/portal-harness.js';

describe('portal raise a request: on behalf of, share with, multi-select and hints', () => {
  let h: Harness;
  let alice: Browser;
  useHarness(async (started) => {
    h = started;
    // Wiki markup, as a desk's admin writes a request type's description and help text (ADR 0375).
    const hardware = [...h.emulator.state.requestTypes.values()].find(
      (t) => t.name === 'Request new hardware',
    )!;
    hardware.description = 'Laptops, _monitors_ and docks.';
    hardware.helpText =
      'Ask your *manager* first.\nThen read [the hardware policy|https://intranet.acme.test/hardware].\n\n' +
      '[Reset|javascript:alert(1)] {html}<img src=x onerror=alert(1)>{html} [profile|~accountid:x]';
    // And a field's description, the hint under it, as the admin writes it: wiki markup too.
    const field = (name: string) => hardware.fields.find((f) => f.name === name)!;
    field('Product link').description =
      'The *vendor’s* page, or one from [our catalogue|https://shop.acme.test/laptops].\n\n' +
      '[Reset|javascript:alert(1)] {html}<img src=x onerror=alert(2)>{html}';
    field('Items').description = 'Pick _every_ item you need.';
    alice = await signIn(h, 'alice@acme.test', { displayName: 'Alice Anders' });
  });
  const user = (email: string) => h.emulator.state.userByEmail(email)!;
  const organization = (name: string) =>
    [...h.emulator.state.organizations.values()].find((o) => o.name === name)!;
  const typeId = (name: string) =>
    [...h.emulator.state.requestTypes.values()].find((t) => t.name === name)!.id;
  const created = (summary: string) =>
    [...h.emulator.state.requests.values()].filter((r) => r.fieldValues['summary'] === summary);

  /** Posts the create form of a request type as alice, with the form's CSRF token. */
  const raise = async (type: string, fields: [string, string][]) => {
    const path = `/desk/1/create/${typeId(type)}`;
    const body = new FormData();
    body.append('_csrf', csrfOf((await alice.text(path)).body));
    for (const [k, v] of fields) body.append(k, v);
    return alice.fetch(path, { method: 'POST', body, headers: { origin: h.url } });
  };

  it('renders a request type’s description and help text from their wiki markup, as the native portal does', async () => {
    const form = (await alice.text(`/desk/1/create/${typeId('Request new hardware')}`)).body;
    expect(form).to.include('<div class="muted"><p>Laptops, <em>monitors</em> and docks.</p></div>');
    expect(form).to.include(
      '<div class="help-text"><p>Ask your <b>manager</b> first.<br />\nThen read <a href="https://intranet.acme.test/hardware"',
    );
    expect(form).to.include('>the hardware policy</a>.</p>');
    expect(form, 'never the markup itself')
      .to.not.include('*manager*')
      .and.not.include('[the hardware policy|');
    // Markup it does not render is text, escaped: no script link, no HTML of the admin's own.
    expect(form).to.include('{html}&lt;img src=x onerror=alert(1)&gt;{html}');
    expect(form)
      .to.not.match(/href="javascript:/i)
      .and.not.include('<img src=x');
    // In the desk's list, found by a word of its description.
    const desk = (await alice.text('/desk/1?q=docks')).body;
    expect(desk).to.include('<div class="muted"><p>Laptops, <em>monitors</em> and docks.</p></div>');
  });

  it('renders a field’s description, the hint under it, from its wiki markup, before what the field takes', async () => {
    const form = (await alice.text(`/desk/1/create/${typeId('Request new hardware')}`)).body;
    const help = (label: string) => {
      const id = new RegExp(`<(?:label for|fieldset id)="(fld-[^"]+)"[^>]*>(?:<legend>)?${label}`).exec(
        form,
      )?.[1];
      return (
        new RegExp(`<div id="${id}-help" class="field-help">(.*?)</div>`, 's').exec(form)?.[1] ??
        `no help for ${label}`
      );
    };
    const link = help('Product link');
    expect(link).to.include(
      '<p>The <b>vendor’s</b> page, or one from <a href="https://shop.acme.test/laptops"',
    );
    expect(link).to.include('>our catalogue</a>.</p>');
    expect(link, 'what the field takes, after the description').to.match(/<\/p>\s*A web address/);
    expect(link, 'never the markup itself').to.not.include('*vendor').and.not.include('[our catalogue|');
    // Markup it does not render is text, escaped: no script link, no HTML of the admin's own.
    expect(link).to.include('{html}&lt;img src=x onerror=alert(2)&gt;{html}');
    expect(link)
      .to.not.match(/href="javascript:/i)
      .and.not.include('<img');
    // A checkbox group's hint, inside its fieldset.
    expect(help('Items')).to.match(/^<p>Pick <em>every<\/em> item you need\.<\/p>\s*\S/);
  });

  it('offers the colleagues of her organizations only, and Acme Corp to share with', async () => {
    const form = (await alice.text(`/desk/1/create/${typeId('Get IT help')}`)).body;
    expect(form).to.include('<label for="on-behalf">Raise this on behalf of</label>');
    for (const email of ['bob@acme.test', 'mia.manager@acme.test'])
      expect(form).to.include(`value="${user(email).accountId}"`);
    for (const email of ['dana@globex.test', 'erik@acme.test', 'ian.it@acme.test', 'alice@acme.test'])
      expect(form, email).to.not.include(`value="${user(email).accountId}"`);
    expect(form).to.include(
      `name="shareOrganization" value="${organization('Acme Corp').id}"> <label class="inline" for="share-shareOrganization-0">Everyone in Acme Corp</label>`,
    );
    expect(form).to.not.include('Globex Partners');
  });

  it('raises a request on behalf of a colleague, shared with another and with Acme Corp', async () => {
    const bob = user('bob@acme.test');
    const mia = user('mia.manager@acme.test');
    const acme = organization('Acme Corp');
    const res = await raise('Get IT help', [
      ['f_summary', 'Bob cannot print'],
      ['onBehalfOf', bob.accountId],
      ['shareWith', mia.accountId],
      ['shareOrganization', acme.id],
    ]);
    expect(res.status).to.equal(303);
    expect(res.headers.get('location')).to.match(/^\/requests\/IT-\d+\?created=1$/);
    const [request] = created('Bob cannot print');
    expect(request!.reporterId).to.equal(bob.accountId);
    // Alice raised it, so she follows it as a participant, as does Mia.
    expect(request!.participantIds).to.have.members([user('alice@acme.test').accountId, mia.accountId]);
    expect(request!.organizationIds).to.deep.equal([acme.id]);
    const page = await alice.text(res.headers.get('location')!);
    expect(page.status).to.equal(200);
    expect(page.body).to.include('Your request was sent.');
  });

  const attacks: [string, [string, string][]][] = [
    ['on behalf of someone from another organization (Dana, Globex)', [['onBehalfOf', 'dana']]],
    ['on behalf of an agent', [['onBehalfOf', 'ian']]],
    ['on behalf of a customer in no organization of hers (Erik)', [['onBehalfOf', 'erik']]],
    [
      'on behalf of two people at once',
      [
        ['onBehalfOf', 'bob'],
        ['onBehalfOf', 'mia'],
      ],
    ],
    ['shared with someone from another organization', [['shareWith', 'dana']]],
    ['shared with an organization she is not in (Globex)', [['shareOrganization', 'globex']]],
    ['shared with an organization that does not exist', [['shareOrganization', '999']]],
  ];
  const resolve = (v: string) =>
    ({
      dana: user('dana@globex.test').accountId,
      ian: user('ian.it@acme.test').accountId,
      erik: user('erik@acme.test').accountId,
      bob: user('bob@acme.test').accountId,
      mia: user('mia.manager@acme.test').accountId,
      globex: organization('Globex Partners').id,
    })[v] ?? v;
  for (const [name, fields] of attacks) {
    it(`refuses a request ${name} with 400 PORTAL_COLLEAGUE_INVALID and keeps the form`, async () => {
      const summary = `Attack: ${name}`;
      const from = h.exchanges.length;
      const logFrom = h.logs.length;
      const res = await raise('Get IT help', [
        ['f_summary', summary],
        ...fields.map(([k, v]): [string, string] => [k, resolve(v)]),
      ]);
      expect(res.status).to.equal(400);
      const page = await res.text();
      expect(page).to.include(`value="${summary}"`);
      expect(page).to.match(/class="error" role="alert">You can (raise|share) a request/);
      expect(reasons(h, logFrom)).to.include('PORTAL_COLLEAGUE_INVALID');
      expect(created(summary)).to.deep.equal([]);
      expect(
        h.exchanges.slice(from).filter((e) => e.method !== 'GET' && !e.path.includes('/search/')),
      ).to.deep.equal([]);
    });
  }

  it('shows a multi-select as a group of checkboxes, never a bare <select multiple>', async () => {
    const form = (await alice.text(`/desk/1/create/${typeId('Request new hardware')}`)).body;
    expect(form).to.not.match(/<select[^>]*multiple/);
    const group = /<fieldset id="(fld-customfield_\d+)"[^>]*><legend>Items \*<\/legend>/.exec(form);
    expect(group, 'Items is a fieldset with a legend').to.not.equal(null);
    const name = /<input type="checkbox" id="fld-customfield_\d+-0" name="(f_customfield_\d+)"/.exec(
      form,
    )![1]!;
    const options = [...form.matchAll(new RegExp(`name="${name}" value="(\\d+)"`, 'g'))].map((m) => m[1]!);
    expect(options).to.have.length(5);
    const res = await raise('Request new hardware', [
      ['f_summary', 'Dock and headset'],
      [name, options[1]!],
      [name, options[4]!],
    ]);
    expect(res.status).to.equal(303);
    const field = created('Dock and headset')[0]!.fieldValues[name.slice(2)] as { value: string }[];
    expect(field.map((o) => o.value)).to.deep.equal(['Dock', 'Headset']);
  });

  it("renders dates, times, numbers and links as the browser's own inputs of that type", async () => {
    const hardware = (await alice.text(`/desk/1/create/${typeId('Request new hardware')}`)).body;
    const access = (await alice.text(`/desk/1/create/${typeId('Request access')}`)).body;
    const inputOf = (form: string, label: string) => {
      const id = new RegExp(`<label for="(fld-[^"]+)">${label}<`).exec(form)?.[1];
      return new RegExp(`<input [^>]*id="${id}"[^>]*>`).exec(form)?.[0] ?? `no input for ${label}`;
    };
    expect(inputOf(hardware, 'Needed by')).to.match(/^<input type="date" id=/);
    expect(inputOf(hardware, 'Budget \\(EUR\\)')).to.match(/^<input type="number" step="any" id=/);
    expect(inputOf(hardware, 'Product link')).to.match(/^<input type="url" id=/);
    expect(inputOf(access, 'Access from')).to.match(/^<input type="datetime-local" id=/);
  });

  it("takes a date and time in the customer's own time zone, and says which", async () => {
    const access = [...h.emulator.state.requestTypes.values()].find((t) => t.name === 'Request access')!;
    const field = (name: string) => access.fields.find((f) => f.name === name)!;
    const submit = async (summary: string, at: string) => {
      const path = `/desk/1/create/${access.id}`;
      const form = (await alice.text(path)).body;
      const body = new FormData();
      body.append('_csrf', csrfOf(form));
      body.append('f_summary', summary);
      body.append(`f_${field('System').fieldId}`, field('System').options[0]!.id);
      body.append(`f_${field('Access from').fieldId}`, at);
      const res = await alice.fetch(path, { method: 'POST', body, headers: { origin: h.url } });
      expect(res.status, summary).to.equal(303);
      return { form, stored: created(summary)[0]!.fieldValues[field('Access from').fieldId] };
    };
    try {
      // Her browser told the portal it is in Berlin: 09:00 there in winter is 08:00 UTC, in summer 07:00.
      alice.cookies.set(cookiePolicy(h.url).timeZone, encodeURIComponent('Europe/Berlin'));
      const winter = await submit('VPN from Monday morning', '2026-12-07T09:00');
      expect(winter.form).to.include('A date and time, in Europe/Berlin.');
      expect(winter.stored).to.equal('2026-12-07T09:00:00.000+0100');
      expect((await submit('VPN in summer', '2026-07-06T09:00')).stored).to.equal(
        '2026-07-06T09:00:00.000+0200',
      );
      alice.cookies.set(cookiePolicy(h.url).timeZone, encodeURIComponent('Asia/Kolkata'));
      expect((await submit('VPN from Pune', '2026-12-07T09:30')).stored).to.equal(
        '2026-12-07T09:30:00.000+0530',
      );
    } finally {
      alice.cookies.delete(cookiePolicy(h.url).timeZone);
    }
    // A browser that never said its zone (no script): UTC, and the hint says so.
    const utc = await submit('VPN, zone unknown', '2026-12-07T09:00');
    expect(utc.form).to.include('A date and time, in UTC.');
    expect(utc.stored).to.equal('2026-12-07T09:00:00.000+0000');
    // A time no clock shows is refused here, not sent to Atlassian.
    const path = `/desk/1/create/${access.id}`;
    const body = new FormData();
    body.append('_csrf', csrfOf((await alice.text(path)).body));
    body.append('f_summary', 'VPN at half past midnight and a day');
    body.append(`f_${field('System').fieldId}`, field('System').options[0]!.id);
    body.append(`f_${field('Access from').fieldId}`, '2026-12-07T24:30');
    const refused = await alice.fetch(path, { method: 'POST', body, headers: { origin: h.url } });
    expect(refused.status).to.equal(400);
    expect(created('VPN at half past midnight and a day')).to.deep.equal([]);
  });

  it('gives every field a hint tied to its control', async () => {
    for (const type of ['Request new hardware', 'Request access', 'Report a security incident']) {
      const form = (await alice.text(`/desk/1/create/${typeId(type)}`)).body;
      const controls = [...form.matchAll(/<(?:input|textarea|select|fieldset) [^>]*id="(fld-[^"]+?)"/g)]
        .map((m) => m[1]!)
        .filter((id) => !/-\d+$/.test(id));
      expect(controls.length, type).to.be.greaterThan(2);
      for (const id of controls) {
        // Text, or a rendered description's first paragraph.
        expect(form, `${type} ${id}`).to.match(
          new RegExp(`id="${id}-help" class="field-help">(?:<p>)?[^<]+<`),
        );
        expect(form, `${type} ${id}`).to.match(new RegExp(`id="${id}"[^>]*aria-describedby="${id}-help`));
      }
    }
  });
});

// Jira's system pickers a JSM request type may put on its form: Priority (schema type `priority`),
// Components and Affects versions (arrays of `component` and `version`). The request type fields API
// gives their choices as valid values; Jira's create takes each as `{"id": ...}` (the platform
// spec's createIssue example: `"priority": {"id": "20000"}`, `"components": [{"id": "10000"}]`).
describe('portal raise a request: priority, components and versions', () => {
  let h: Harness;
  let alice: Browser;
  const options = (...names: string[]) =>
    names.map((value, i) => ({ id: String(i + 1), value, children: [] }));
  useHarness(async (started) => {
    h = started;
    const type = [...h.emulator.state.requestTypes.values()].find((t) => t.name === 'Request software')!;
    type.fields.push(
      {
        fieldId: 'priority',
        name: 'Priority',
        kind: 'select',
        required: true,
        description: '',
        options: options('Highest', 'High', 'Medium', 'Low'),
      },
      {
        fieldId: 'components',
        name: 'Components',
        kind: 'multiSelect',
        required: false,
        description: '',
        options: options('Laptops', 'Network', 'Printers'),
      },
      {
        fieldId: 'versions',
        name: 'Affects versions',
        kind: 'multiSelect',
        required: false,
        description: '',
        options: options('2026.1', '2026.2'),
      },
    );
    alice = await signIn(h, 'alice@acme.test', { displayName: 'Alice Anders' });
  });
  const path = () =>
    `/desk/1/create/${[...h.emulator.state.requestTypes.values()].find((t) => t.name === 'Request software')!.id}`;

  it('offers them as a select and checkbox groups, and raises the request with their ids', async () => {
    const form = (await alice.text(path())).body;
    expect(form).to.match(/<select id="fld-priority" name="f_priority"[^>]*required[^>]*>/);
    expect(form).to.include('<option value="2">High</option>');
    expect(form).to.include(
      'name="f_components" value="2"> <label class="inline" for="fld-components-1">Network</label>',
    );
    expect(form).to.include(
      'name="f_versions" value="1"> <label class="inline" for="fld-versions-0">2026.1</label>',
    );
    const software = h.emulator.state.requestTypes.get(
      [...h.emulator.state.requestTypes.values()].find((t) => t.name === 'Request software')!.id,
    )!;
    const body = new FormData();
    body.append('_csrf', csrfOf(form));
    body.append('f_summary', 'Visio for the network team');
    const choice = software.fields.find((f) => f.name === 'Software')!;
    body.append(`f_${choice.fieldId}`, choice.options[2]!.id);
    body.append('f_priority', '2');
    body.append('f_components', '2');
    body.append('f_components', '3');
    body.append('f_versions', '1');
    const res = await alice.fetch(path(), { method: 'POST', body, headers: { origin: h.url } });
    expect(res.status).to.equal(303);
    const request = [...h.emulator.state.requests.values()].find(
      (r) => r.fieldValues['summary'] === 'Visio for the network team',
    )!;
    expect(request.fieldValues['priority']).to.deep.equal({ id: '2', value: 'High' });
    expect(request.fieldValues['components']).to.deep.equal([
      { id: '2', value: 'Network' },
      { id: '3', value: 'Printers' },
    ]);
    expect(request.fieldValues['versions']).to.deep.equal([{ id: '1', value: '2026.1' }]);
  });

  it('refuses a priority the request type does not offer, before Atlassian is called', async () => {
    const form = (await alice.text(path())).body;
    const body = new FormData();
    body.append('_csrf', csrfOf(form));
    body.append('f_summary', 'Priority from elsewhere');
    body.append('f_priority', '99');
    const before = h.emulator.state.requests.size;
    const res = await alice.fetch(path(), { method: 'POST', body, headers: { origin: h.url } });
    expect(res.status).to.equal(400);
    expect(h.emulator.state.requests.size).to.equal(before);
  });
});
