import { expect } from 'chai';
import { validateAgainstSpec } from '../../testkit/atlassian-spec.js';
import {
  type Browser,
  csrfOf,
  type Harness,
  reasons,
  signIn,
  useHarness,
  viewWithStatusNamesRead,
  withoutAnswerReference,
} from '../../testkit/portal-harness.js';
import { expectPageSecurityHeaders } from '../../testkit/security-headers.js';

describe('portal requests and visibility', () => {
  let h: Harness;
  let alice: Browser;
  let dana: Browser;
  useHarness(async (started) => {
    h = started;
    alice = await signIn(h, 'alice@acme.test', { displayName: 'Alice Anders' });
    dana = await signIn(h, 'dana@globex.test');
  });

  it('lists the customer’s own, shared and organization requests, and nobody else’s', async () => {
    const page = await alice.text('/requests?status=all&ownership=all');
    expect(page.status).to.equal(200);
    expect(page.body).to.include('Printer on 3rd floor jams every morning'); // reported by alice
    expect(page.body).to.include('Shared printer queue for the Acme office'); // participant
    expect(page.body).to.include('VPN access for travel'); // shared with Acme Corp
    expect(page.body).to.not.include('Cannot reach the partner extranet'); // dana, Globex
    expect(page.body).to.not.include('Wi-Fi drops in meeting room Nile'); // erik + bob only
  });

  it('filters by created by me, shared with me and organization', async () => {
    const mine = await alice.text('/requests?status=all&ownership=mine');
    expect(mine.body).to.include('Printer on 3rd floor').and.not.include('VPN access for travel');
    const shared = await alice.text('/requests?status=all&ownership=shared');
    expect(shared.body).to.include('Shared printer queue').and.not.include('Printer on 3rd floor');
    const org = await alice.text('/requests?status=all&ownership=org-1');
    expect(org.body).to.include('VPN access for travel').and.not.include('Calendar invites arrive twice');
    const closed = await alice.text('/requests?status=closed&ownership=mine');
    expect(closed.body).to.include('GitHub organisation access').and.not.include('Printer on 3rd floor');
  });

  it('never offers a file added with an internal comment, not even by its id', async () => {
    const r = [...h.emulator.state.requests.values()].find(
      (x) => x.fieldValues['summary'] === 'Printer on 3rd floor jams every morning',
    )!;
    const hidden = r.attachments.find((a) => a.filename === 'vendor-ticket-4471.txt')!;
    const page = await alice.text(`/requests/${r.key}`);
    expect(page.body).to.include('fuser-order.txt').and.not.include('vendor-ticket-4471');
    expect((await alice.text(`/requests/${r.key}/attachment/${hidden.id}`)).status).to.equal(404);
  });

  it('treats JQL injection in the search box as plain words', async () => {
    const from = h.exchanges.length;
    const res = await alice.text(
      `/requests?status=all&ownership=mine&q=${encodeURIComponent('x" OR reporter != "nobody')}`,
    );
    expect(res.status).to.equal(200);
    expect(res.body).to.not.include('Cannot reach the partner extranet');
    const search = h.exchanges.slice(from).find((e) => e.path.startsWith('/rest/api/3/search/jql'))!;
    expect((search.requestBody as { jql: string }).jql).to.include('summary ~ "x or reporter nobody"');
  });

  it('answers 404 with nothing leaked when customer A opens customer B’s request by key', async () => {
    const key = h.keyOf('Cannot reach the partner extranet');
    const res = await alice.text(`/requests/${key}`);
    expect(res.status).to.equal(404);
    expect(res.body).to.not.include('partner extranet');
    expect(res.body).to.not.include('Which browser');
    const missing = await alice.text('/requests/IT-99999');
    expect(missing.status).to.equal(404);
    // Alike but for the nonce and the address the customer typed (the language switcher returns to it).
    const normal = (body: string) =>
      withoutAnswerReference(body.replace(/nonce="[^"]+"/g, '').replace(/return=[^"]*/g, 'return='));
    expect(normal(missing.body)).to.equal(normal(res.body));
  });

  it('shows a request shared through an organization to members only', async () => {
    const key = h.keyOf('VPN access for travel');
    expect((await alice.text(`/requests/${key}`)).status).to.equal(200);
    expect((await dana.text(`/requests/${key}`)).status).to.equal(404);
    const globex = h.keyOf('Need guest Wi-Fi for a visit');
    expect((await dana.text(`/requests/${globex}`)).status).to.equal(200);
    expect((await alice.text(`/requests/${globex}`)).status).to.equal(404);
  });

  it('shows public comments only', async () => {
    const key = h.keyOf('Printer on 3rd floor jams every morning');
    const page = await alice.text(`/requests/${key}`);
    expect(page.body).to.include('We ordered a new fuser unit.');
    expect(page.body).to.not.include('vendor ticket #4471');
  });

  it('refuses another request’s attachment id through a visible request', async () => {
    const own = h.keyOf('Laptop screen flickers');
    const foreign = [...h.emulator.state.requests.values()].find(
      (r) => r.fieldValues['summary'] === 'Phishing e-mail pretending to be payroll',
    )!;
    const foreignId = foreign.attachments[0]!.id;
    expect((await alice.fetch(`/requests/${own}/attachment/${foreignId}`)).status).to.equal(404);
    expect((await alice.fetch(`/requests/${foreign.key}/attachment/${foreignId}`)).status).to.equal(404);
  });

  it('downloads an attachment as a file, never rendered', async () => {
    const request = [...h.emulator.state.requests.values()].find(
      (r) => r.fieldValues['summary'] === 'Laptop screen flickers',
    )!;
    const res = await alice.fetch(`/requests/${request.key}/attachment/${request.attachments[0]!.id}`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-disposition')).to.match(/^attachment; filename="flicker.txt"/);
    expect(res.headers.get('x-content-type-options')).to.equal('nosniff');
    expect(res.headers.get('content-type')).to.equal('application/octet-stream');
    expect(await res.text()).to.equal('Flickers at 60Hz when unplugged.');
  });

  it('downloads a file Atlassian answers with 303 See Other to where it is, as its spec lets it (ADR 0226)', async () => {
    const request = [...h.emulator.state.requests.values()].find(
      (r) => r.fieldValues['summary'] === 'Laptop screen flickers',
    )!;
    const id = request.attachments[0]!.id;
    // To the platform's attachment content, which the emulator (as Jira) sends on once more.
    h.emulator.faults.add({
      pathPrefix: `/rest/servicedeskapi/request/${request.key}/attachment/${id}`,
      redirect: { status: 303, location: `/rest/api/3/attachment/content/${id}` },
    });
    let res: Response;
    try {
      res = await alice.fetch(`/requests/${request.key}/attachment/${id}`);
    } finally {
      h.emulator.faults.clear();
    }
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-disposition')).to.match(/^attachment; filename="flicker.txt"/);
    expect(await res.text()).to.equal('Flickers at 60Hz when unplugged.');
  });

  it('answers HEAD for a file as GET would, from its listing, without downloading it from Atlassian', async () => {
    const request = [...h.emulator.state.requests.values()].find(
      (r) => r.fieldValues['summary'] === 'Laptop screen flickers',
    )!;
    const file = `/requests/${request.key}/attachment/${request.attachments[0]!.id}`;
    const got = await alice.fetch(file);
    const body = await got.text();
    // Every call for the file's content that reaches the site, from here on.
    let downloads = 0;
    const contentPath = `/rest/servicedeskapi/request/${request.key}/attachment/${request.attachments[0]!.id}`;
    h.emulator.faults.add({
      pathPrefix: contentPath,
      onArrival: async () => {
        downloads++;
      },
    });
    let head: Response;
    try {
      head = await alice.fetch(file, { method: 'HEAD' });
    } finally {
      h.emulator.faults.clear();
    }
    expect(head.status).to.equal(200);
    expectHeadersOfGet(head, got, ['content-type', ...LISTED_FILE_HEADERS, 'content-length']);
    expect(Number(head.headers.get('content-length'))).to.equal(Buffer.byteLength(body));
    expect(downloads, 'downloads of the file from Atlassian for the HEAD').to.equal(0);
    // The file is still checked as for GET: another customer's is not found.
    const foreign = [...h.emulator.state.requests.values()].find(
      (r) => r.fieldValues['summary'] === 'Phishing e-mail pretending to be payroll',
    )!;
    const hidden = `/requests/${foreign.key}/attachment/${foreign.attachments[0]!.id}`;
    expect((await alice.fetch(hidden, { method: 'HEAD' })).status).to.equal(404);
  });

  it('answers HEAD for a thumbnail from the file listing, without reading the thumbnail from Atlassian', async () => {
    const request = [...h.emulator.state.requests.values()].find(
      (r) => r.fieldValues['summary'] === 'Laptop screen flickers',
    )!;
    const png = request.attachments.find((a) => a.filename === 'screen.png')!;
    const thumbnail = `/requests/${request.key}/attachment/${png.id}/thumbnail`;
    const got = await alice.fetch(thumbnail);
    expect(got.status).to.equal(200);
    await got.arrayBuffer();
    // Every call for a thumbnail that reaches the site, from here on.
    let reads = 0;
    h.emulator.faults.add({
      pathPrefix: `/rest/servicedeskapi/request/${request.key}/attachment/`,
      onArrival: async (req) => {
        if (req.url?.endsWith('/thumbnail')) reads++;
      },
    });
    let heads: Response[];
    try {
      heads = [];
      for (let i = 0; i < 5; i++) heads.push(await alice.fetch(thumbnail, { method: 'HEAD' }));
    } finally {
      h.emulator.faults.clear();
    }
    for (const head of heads) {
      expect(head.status).to.equal(200);
      // What GET sends that the listing tells; the image's type and length only its content does.
      expectHeadersOfGet(head, got, LISTED_FILE_HEADERS);
      expect(head.headers.get('content-length'), 'no length the portal does not know').to.equal(null);
    }
    expect(reads, 'thumbnails read from Atlassian for 5 HEADs').to.equal(0);
    // Checked as for GET: a file with no thumbnail and another customer's are not found.
    const text = request.attachments.find((a) => a.filename === 'flicker.txt')!;
    expect(
      (await alice.fetch(`/requests/${request.key}/attachment/${text.id}/thumbnail`, { method: 'HEAD' }))
        .status,
    ).to.equal(404);
    const foreign = [...h.emulator.state.requests.values()].find(
      (r) => r.fieldValues['summary'] === 'Phishing e-mail pretending to be payroll',
    )!;
    const hidden = `/requests/${foreign.key}/attachment/${foreign.attachments[0]!.id}/thumbnail`;
    expect((await alice.fetch(hidden, { method: 'HEAD' })).status).to.equal(404);
  });

  it('ignores forged tenant and host headers', async () => {
    const res = await alice.fetch('/requests?status=all', {
      headers: { 'x-tenant': 'globex', 'x-forwarded-host': 'globex.example', 'x-jsm-sso-tenant': 'other' },
    });
    const body = await res.text();
    expect(body).to.include('Acme Help Center');
    expect(body).to.not.include('Cannot reach the partner extranet');
  });

  it('refuses a state-changing form without the CSRF token', async () => {
    const key = h.keyOf('Printer on 3rd floor jams every morning');
    const from = h.logs.length;
    const res = await alice.post(`/requests/${key}/comment`, { body: 'forged' });
    expect(res.status).to.equal(403);
    const wrongOrigin = await alice.post(
      `/requests/${key}/comment`,
      { body: 'forged', _csrf: csrfOf((await alice.text(`/requests/${key}`)).body) },
      { origin: 'https://evil.test' },
    );
    expect(wrongOrigin.status).to.equal(403);
    expect(reasons(h, from).filter((r) => r === 'PORTAL_CSRF')).to.have.length(2);
    expect(
      h.emulator.state.requests
        .get([...h.emulator.state.requests.values()].find((r) => r.key === key)!.id)!
        .comments.some((c) => c.body.includes('forged')),
    ).to.equal(false);
  });

  it('adds a public comment as the customer', async () => {
    const key = h.keyOf('Printer on 3rd floor jams every morning');
    const token = csrfOf((await alice.text(`/requests/${key}`)).body);
    const res = await alice.post(`/requests/${key}/comment`, {
      body: 'Still jamming <b>today</b>',
      _csrf: token,
    });
    expect(res.status).to.equal(303);
    const page = await alice.text(`/requests/${key}?commented=1`);
    expect(page.body).to.include('Your comment was added.');
    expect(page.body).to.include('Still jamming &lt;b&gt;today&lt;/b&gt;');
  });

  it('refuses to comment on a request the customer cannot see', async () => {
    const key = h.keyOf('Cannot reach the partner extranet');
    const token = csrfOf((await alice.text('/profile')).body);
    const res = await alice.post(`/requests/${key}/comment`, { body: 'hello', _csrf: token });
    expect(res.status).to.equal(404);
  });

  it('raises a request from the form, enforcing field rules before calling Atlassian', async () => {
    const desk = (await alice.text('/desk/1?q=laptop')).body;
    expect(desk).to.include('Report a broken laptop');
    const typeId = /href="\/desk\/1\/create\/(\d+)"><strong>Report a broken laptop/.exec(desk)![1]!;
    const form = await alice.text(`/desk/1/create/${typeId}`);
    expect(form.body).to.include('MacBook Pro 14');
    const token = csrfOf(form.body);
    const post = (fields: Record<string, string>, file?: { name: string; data: Buffer }) => {
      const body = new FormData();
      for (const [k, v] of Object.entries(fields)) body.append(k, v);
      if (file) body.append('attachment', new Blob([new Uint8Array(file.data)]), file.name);
      return alice.fetch(`/desk/1/create/${typeId}`, { method: 'POST', body, headers: { origin: h.url } });
    };
    const from = h.exchanges.length;
    const invalid = await post({ _csrf: token, f_summary: 'Broken', f_description: '' });
    expect(invalid.status).to.equal(400);
    const invalidBody = await invalid.text();
    expect(invalidBody).to.include('What happened? is required.');
    expect(
      h.exchanges
        .slice(from)
        .some((e) => e.method === 'POST' && e.path.startsWith('/rest/servicedeskapi/request')),
    ).to.equal(false);

    const deviceField =
      /name="(f_customfield_\d+)"[^>]*><option value="">Select...<\/option><optgroup label="Laptop">/.exec(
        form.body,
      )![1]!;
    const choice = /<option value="(\d+:\d+)"[^>]*>Laptop › ThinkPad X1/.exec(form.body)![1]!;
    const created = await post(
      {
        _csrf: token,
        f_summary: 'Keyboard keys stick',
        f_description: 'The E key sticks.',
        [deviceField]: choice,
      },
      { name: 'photo.txt', data: Buffer.from('sticky') },
    );
    expect(created.status).to.equal(303);
    const location = created.headers.get('location')!;
    expect(location).to.match(/^\/requests\/IT-\d+\?created=1$/);
    const page = await alice.text(location);
    expect(page.body).to.include('Keyboard keys stick').and.include('photo.txt').and.include('ThinkPad X1');
    const mine = await alice.text('/requests?status=open&ownership=mine');
    expect(mine.body).to.include('Keyboard keys stick');
  });

  it('keeps every answer and explains a refused attachment beside the file input', async () => {
    const desk = (await alice.text('/desk/1?q=laptop')).body;
    const typeId = /href="\/desk\/1\/create\/(\d+)"><strong>Report a broken laptop/.exec(desk)![1]!;
    const form = await alice.text(`/desk/1/create/${typeId}`);
    const fileInput = /<input type="file" id="(fld-[^"]+)" name="attachment" multiple accept="([^"]+)"/.exec(
      form.body,
    );
    expect(fileInput, 'a file input with an accept filter').to.not.equal(null);
    expect(fileInput![2]!.split(',')).to.include.members(['.png', '.pdf', '.txt']).and.not.include('.exe');
    const deviceField =
      /name="(f_customfield_\d+)"[^>]*><option value="">Select...<\/option><optgroup label="Laptop">/.exec(
        form.body,
      )![1]!;
    const choice = /<option value="(\d+:\d+)"[^>]*>Laptop › ThinkPad X1/.exec(form.body)![1]!;
    const body = new FormData();
    body.append('_csrf', csrfOf(form.body));
    body.append('f_summary', 'Screen flickers <b>after</b> lunch');
    body.append('f_description', 'Only on battery.\nSecond line.');
    body.append(deviceField, choice);
    body.append('attachment', new Blob([new Uint8Array(10)]), 'flicker.exe');
    const from = h.exchanges.length;
    const logFrom = h.logs.length;
    const res = await alice.fetch(`/desk/1/create/${typeId}`, {
      method: 'POST',
      body,
      headers: { origin: h.url },
    });
    expect(res.status).to.equal(415);
    const page = await res.text();
    expect(page)
      .to.match(/<h1 class="type-title">[^\n]*Report a broken laptop<\/h1>/)
      .and.not.include('Upload refused</h1>');
    expect(page).to.include('value="Screen flickers &lt;b&gt;after&lt;/b&gt; lunch"');
    expect(page).to.match(/>Only on battery\.\r?\nSecond line\.<\/textarea>/);
    expect(page).to.match(new RegExp(`<option value="${choice}" selected>`));
    const id = fileInput![1]!;
    expect(page).to.include(
      `<div id="${id}-err" class="error" role="alert">Files of this type cannot be attached (flicker.exe).`,
    );
    expect(page).to.include('Accepted types: PNG,').and.include('please choose your files again');
    expect(page).to.match(
      new RegExp(
        `<input type="file" id="${id}"[^>]* aria-describedby="${id}-help ${id}-err" aria-invalid="true"`,
      ),
    );
    expect(reasons(h, logFrom)).to.include('PORTAL_UPLOAD_TYPE');
    expect(h.exchanges.slice(from).filter((e) => e.method === 'POST')).to.deep.equal([]);
  });

  it('refuses uploads of a forbidden type or over the size limit', async () => {
    const key = h.keyOf('Printer on 3rd floor jams every morning');
    const token = csrfOf((await alice.text(`/requests/${key}`)).body);
    const upload = (name: string, size: number) => {
      const body = new FormData();
      body.append('_csrf', token);
      body.append('attachment', new Blob([new Uint8Array(size)]), name);
      return alice.fetch(`/requests/${key}/attachment`, { method: 'POST', body, headers: { origin: h.url } });
    };
    const refused = await upload('run.exe', 10);
    expect(refused.status).to.equal(415);
    const refusedPage = await refused.text();
    // The request page again, with the refusal beside the file input: no dead end.
    expect(refusedPage).to.include(
      '<div id="att-file-err" class="error" role="alert">Files of this type cannot be attached (run.exe).',
    );
    expect(refusedPage).to.include('Printer on 3rd floor jams every morning').and.include('id="att-file"');
    expect(refusedPage).to.match(
      /<input id="att-file" type="file" name="attachment" required accept="[^"]*\.pdf[^"]*"[^>]* aria-invalid="true"/,
    );
    const body = new FormData();
    body.append('_csrf', token);
    body.append('attachment', new Blob([new Uint8Array(10)]), 'notes.txt');
    const crossSite = await alice.fetch(`/requests/${key}/attachment`, {
      method: 'POST',
      body,
      headers: { origin: 'https://evil.test' },
    });
    expect(crossSite.status).to.equal(403);
    const hugeFrom = h.logs.length;
    const huge = await upload('huge.txt', 10 * 1024 * 1024 + 1);
    expect(huge.status).to.equal(413);
    expect(await huge.text()).to.include(
      'role="alert">huge.txt is larger than 10 MB, the most a file can be.',
    );
    expect(reasons(h, hugeFrom)).to.include('PORTAL_UPLOAD_TOO_LARGE');
    expect((await upload('notes.txt', 100)).status).to.equal(303);
  });

  it('sets the shared security headers on pages (strict CSP with a nonce, no framing, no referrer)', async () => {
    const res = await alice.fetch('/');
    const nonce = expectPageSecurityHeaders(res, {
      formAction: "'self' https://broker.acme.test",
      https: false,
    });
    expect(await res.text()).to.include(`<style nonce="${nonce}">`);
  });

  it('searches the knowledge base from the help center home', async () => {
    const page = await alice.text(`/?q=${encodeURIComponent('VPN')}`);
    expect(page.body).to.include('Connect to the VPN');
  });

  it('needs at most 2 Atlassian calls for home and My requests on a warm cache', async () => {
    const paths = ['/', '/requests', '/requests?status=closed&ownership=organization'];
    for (const path of paths) await viewWithStatusNamesRead(h, alice, path);
    for (const path of paths) {
      const from = h.exchanges.length;
      expect((await alice.text(path)).status).to.equal(200);
      expect(h.exchanges.length - from, path).to.be.at.most(2);
    }
  });

  it('speaks to Atlassian only in ways its spec documents', () => {
    const problems = h.exchanges.flatMap((e) =>
      validateAgainstSpec(e).errors.map((err) => `${e.method} ${e.path}: ${err}`),
    );
    expect(problems).to.deep.equal([]);
  });

  // Same harness and customer; Mocha runs these after the tests above (a suite's own tests run
  // before its nested suites), so the spec check above sees the same exchanges as before.
  describe('robustness: paging tokens and file names', () => {
    const searches = (from: number) =>
      h.exchanges.slice(from).filter((e) => e.path === '/rest/api/3/search/jql');

    it('answers 400 PORTAL_PAGE_TOKEN_INVALID to a malformed page token, without asking Atlassian', async () => {
      for (const token of ['%00%3Cscript%3E', 'a%20b', 'x'.repeat(1100), '%E2%80%AE']) {
        const from = h.exchanges.length;
        const logs = h.logs.length;
        const page = await alice.text(`/requests?status=all&page=${token}`);
        expect(page.status, token).to.equal(400);
        expect(page.body).to.include('page link is not valid');
        expect(reasons(h, logs)).to.deep.equal(['PORTAL_PAGE_TOKEN_INVALID']);
        expect(searches(from), 'no search sent').to.have.length(0);
      }
    });

    it('answers 400 PORTAL_PAGE_TOKEN_INVALID (not 502) when Atlassian refuses a well-formed token', async () => {
      const logs = h.logs.length;
      const forged = Buffer.from('offset:-5').toString('base64url');
      const page = await alice.text(`/requests?status=all&page=${forged}`);
      expect(page.status).to.equal(400);
      expect(reasons(h, logs)).to.deep.equal(['PORTAL_PAGE_TOKEN_INVALID']);
    });

    it('serves a page for a token Atlassian accepts, and the first page for an empty one', async () => {
      const token = Buffer.from('offset:0').toString('base64url');
      expect((await alice.text(`/requests?status=all&page=${token}`)).status).to.equal(200);
      expect((await alice.text('/requests?status=all&page=')).status).to.equal(200);
    });

    for (const name of ['résumé.pdf', '請求書 2026.pdf', 'Ünïcödé “quotes”.txt']) {
      it(`keeps the UTF-8 file name ${JSON.stringify(name)} from upload to Atlassian to download`, async () => {
        const key = h.keyOf('Printer on 3rd floor jams every morning');
        const token = csrfOf((await alice.text(`/requests/${key}`)).body);
        const body = new FormData();
        body.append('_csrf', token);
        // A PDF's bytes start as one does (the upload's content is checked against its name).
        const content = `${name.endsWith('.pdf') ? '%PDF-1.7\n' : ''}content of ${name}`;
        body.append('attachment', new Blob([Buffer.from(content)]), name);
        const res = await alice.fetch(`/requests/${key}/attachment`, {
          method: 'POST',
          body,
          headers: { origin: h.url },
        });
        expect(res.status).to.equal(303);
        const request = [...h.emulator.state.requests.values()].find((r) => r.key === key)!;
        const stored = request.attachments.find((a) => a.content.toString() === content);
        expect(stored?.filename, 'name as stored at Atlassian').to.equal(name);
        const page = (await alice.text(`/requests/${key}`)).body;
        const link = new RegExp(`href="(/requests/${key}/attachment/${stored!.id})"`).exec(page);
        expect(link, 'the page links the attachment').to.not.equal(null);
        const download = await alice.fetch(link![1]!);
        expect(download.status).to.equal(200);
        const disposition = download.headers.get('content-disposition')!;
        const encoded = /filename\*=UTF-8''([^;]+)/.exec(disposition)![1]!;
        expect(decodeURIComponent(encoded)).to.equal(stored!.filename);
        expect(await download.text()).to.equal(content);
      });
    }

    it('keeps only the last part of an uploaded file name with path parts (Unix, Windows, absolute)', async () => {
      const key = h.keyOf('Printer on 3rd floor jams every morning');
      const token = csrfOf((await alice.text(`/requests/${key}`)).body);
      for (const [name, kept] of [
        ['../../etc/passwd.txt', 'passwd.txt'],
        ['..\\..\\windows\\win.ini.txt', 'win.ini.txt'],
        ['C:\\Users\\alice\\notes.txt', 'notes.txt'],
        ['/var/run/secrets/token.log', 'token.log'],
      ]) {
        const body = new FormData();
        body.append('_csrf', token);
        body.append('attachment', new Blob([Buffer.from(`path parts: ${name}`)]), name);
        const res = await alice.fetch(`/requests/${key}/attachment`, {
          method: 'POST',
          body,
          headers: { origin: h.url },
        });
        expect(res.status, name).to.equal(303);
        const request = [...h.emulator.state.requests.values()].find((r) => r.key === key)!;
        const stored = request.attachments.find((a) => a.content.toString() === `path parts: ${name}`);
        expect(stored?.filename, name).to.equal(kept);
      }
      // A name that is all path: no file is left to attach (400), nothing written.
      const before = [...h.emulator.state.requests.values()].find((r) => r.key === key)!.attachments.length;
      const body = new FormData();
      body.append('_csrf', token);
      body.append('attachment', new Blob(['x']), '../..');
      const res = await alice.fetch(`/requests/${key}/attachment`, {
        method: 'POST',
        body,
        headers: { origin: h.url },
      });
      expect(res.status).to.equal(400);
      expect([...h.emulator.state.requests.values()].find((r) => r.key === key)!.attachments).to.have.length(
        before,
      );
    });
  });
});

/** The headers of a file's GET that its listing settles, which its HEAD must send alike. */
const LISTED_FILE_HEADERS = [
  'content-disposition',
  'x-content-type-options',
  'content-security-policy',
  'accept-ranges',
] as const;

function expectHeadersOfGet(head: Response, get: Response, names: readonly string[]): void {
  for (const name of names) expect(head.headers.get(name), name).to.equal(get.headers.get(name));
}
