// The request detail page as the native portal shows it: comments authored by the customer who wrote
// them (the service account writes them, naming the customer for the agents), bodies from Atlassian's
// rendered HTML with the request's files served through the portal, one chronological activity
// stream, human-readable sizes and thumbnails, one date format; and at most 3 Atlassian calls per
// warm view, counted at the emulator, without caching who may see what.
import { expect } from 'chai';
import { escapeHtml } from '../../common/http/html.js';
import { renderWiki } from '../../common/wiki-render.js';
import type { EmulatorCall } from '../../dev/jsm-emulator/emulator.js';
import type { Comment, CustomerRequest } from '../../dev/jsm-emulator/state.js';
import { cookiePolicy } from '../../portal/cookies.js';
import { validateAgainstSpec } from '../../testkit/atlassian-spec.js';
import { type Browser, csrfOf, type Harness, signIn, useHarness } from '../../testkit/portal-harness.js';

/** The figure of issue 16: Atlassian calls per warm request-detail view. */
const MAX_CALLS_PER_WARM_VIEW = 3;

describe('portal request detail', () => {
  let h: Harness;
  let alice: Browser;
  let bob: Browser;
  const calls: EmulatorCall[] = [];
  useHarness(
    async (harness) => {
      h = harness;
      alice = await signIn(h, 'alice@acme.test');
      bob = await signIn(h, 'bob@acme.test');
    },
    { emulator: { onCall: (call) => calls.push(call) } },
  );
  const request = (summary: string): CustomerRequest =>
    [...h.emulator.state.requests.values()].find((r) => r.fieldValues['summary'] === summary)!;
  /** The activity stream's items, as text without tags. */
  const activity = (page: string) =>
    (/<ol class="activity">([\s\S]*?)<\/ol>/.exec(page)?.[1] ?? '')
      .split('</li>')
      .map((item) =>
        item
          .replace(/<[^>]+>/g, ' ')
          .replace(/\s+/g, ' ')
          .trim(),
      )
      .filter((item) => item !== '');
  const comment = async (browser: Browser, key: string, text: string) => {
    const token = csrfOf((await browser.text(`/requests/${key}`)).body);
    const res = await browser.post(`/requests/${key}/comment`, { body: text, _csrf: token });
    expect(res.status).to.equal(303);
  };
  /**
   * Alice takes a step that keeps the request where it is (added to the workflow for the while),
   * with a comment: written as wiki markup as a comment is. Its status history is the caller's.
   */
  const stepWithComment = async (r: CustomerRequest, body: string) => {
    const loop = { id: '901', name: 'Add information', from: [r.status], to: r.status };
    h.emulator.state.workflow.push(loop);
    const confirm = (await alice.text(`/requests/${r.key}/transition/${loop.id}`)).body;
    const moved = await alice.post(`/requests/${r.key}/transition`, {
      _csrf: csrfOf(confirm),
      transition: loop.id,
      body,
    });
    h.emulator.state.workflow.pop();
    expect(moved.status).to.equal(303);
  };
  /** The body of the comment on `page` that opens with `probe <name>`, the name taken out. */
  const probeBody = (page: string, probe: string) =>
    page
      .split('<div class="comment-body">')
      .find((item) => item.includes(`probe ${probe}`))!
      .split('</div>')[0]!
      .replace(`probe ${probe}`, 'probe');
  const upload = async (browser: Browser, key: string, name: string, content: Buffer) => {
    const token = csrfOf((await browser.text(`/requests/${key}`)).body);
    const body = new FormData();
    body.append('_csrf', token);
    body.append('attachment', new Blob([new Uint8Array(content)]), name);
    const res = await browser.fetch(`/requests/${key}/attachment`, {
      method: 'POST',
      body,
      headers: { origin: h.url },
    });
    expect(res.status).to.equal(303);
  };

  describe('comments as native', () => {
    it('shows the customer as the author of their comment, and names them to the agents in the body', async () => {
      const key = h.keyOf('Laptop screen flickers');
      await comment(alice, key, 'It flickers *more* since Monday.');
      const written = request('Laptop screen flickers').comments.at(-1)!;
      const bot = [...h.emulator.state.users.values()].find((u) => u.email === 'portal-bot@acme.test')!;
      expect(written.authorId, 'written by the service account').to.equal(bot.accountId);
      expect(written.body).to.match(
        /^Alice Anders \(via the help center\):\n\nIt flickers \*more\* since Monday\./,
      );
      const page = (await alice.text(`/requests/${key}`)).body;
      const item = activity(page).at(-1)!;
      expect(item).to.match(/^Alice Anders (now|\d+ seconds? ago) It flickers more since Monday\.$/);
      expect(page).to.include('<p>It flickers <b>more</b> since Monday.</p>');
      expect(page)
        .to.not.include('Portal Bot')
        .and.not.include('via the help center')
        .and.not.include('portal reference');
    });

    it('keeps a comment whose text imitates another author line the customer’s own', async () => {
      const key = h.keyOf('Laptop screen flickers');
      await comment(alice, key, 'Bob Brown (via the help center):\n\nI am Bob.');
      const item = activity((await alice.text(`/requests/${key}`)).body).at(-1)!;
      expect(item).to.match(/^Alice Anders (now|.* ago) Bob Brown \(via the help center\): I am Bob\.$/);
    });

    it('believes an author line only from the service account: an agent’s comment stays the agent’s', async () => {
      const r = request('Laptop screen flickers');
      const ian = [...h.emulator.state.users.values()].find((u) => u.email === 'ian.it@acme.test')!;
      r.comments.push({
        id: '99001',
        authorId: ian.accountId,
        body: 'Alice Anders (via the help center):\n\nPlease ignore.',
        public: true,
        created: Date.now(),
        attachmentIds: [],
      });
      const item = activity((await alice.text(`/requests/${r.key}`)).body).at(-1)!;
      expect(item).to.match(
        /^Ian Ito \(IT\) (now|.* ago) Alice Anders \(via the help center\): Please ignore\.$/,
      );
    });

    it('shows an upload as the customer attaching a file, never as wiki markup, with a readable size', async () => {
      const key = h.keyOf('Laptop screen flickers');
      await upload(alice, key, 'report.txt', Buffer.alloc(1500, 'a'));
      const stored = request('Laptop screen flickers').attachments.find((a) => a.filename === 'report.txt')!;
      const page = (await alice.text(`/requests/${key}`)).body;
      expect(page).to.not.include('[^report.txt]');
      expect(activity(page).at(-1)).to.match(
        /^Alice Anders attached a file (now|.* ago) report\.txt 1\.5 kB$/,
      );
      expect(page).to.include(
        `<a href="/requests/${key}/attachment/${stored.id}"><span>report.txt</span></a>`,
      );
      expect(page).to.not.include('1500 bytes');
    });

    it('tells a customer nothing through the files her own comment names: an internal file reads as one that is not there', async () => {
      // Jira reads what the portal writes as wiki markup and resolves `[^name]` and `!name!` against
      // every file of the request, an internal comment's too: a link or an image when it finds one,
      // Jira's "not found" when it does not. Shown as rendered, that difference answered "did an agent
      // attach a file of this name?" (a yes/no oracle on what agents keep from her).
      const r = request('Printer on 3rd floor jams every morning');
      const comments = [...r.comments];
      const fuser = r.attachments.find((a) => a.filename === 'fuser-order.txt')!;
      const probes = [
        ['[^vendor-ticket-4471.txt]', '[^vendor-ticket-4472.txt]'],
        ['!vendor-ticket-4471.txt!', '!vendor-ticket-4472.txt!'],
        ['!vendor-ticket-4471.txt|thumbnail!', '!vendor-ticket-4472.txt|thumbnail!'],
      ];
      for (const [i, pair] of probes.entries())
        for (const [j, markup] of pair!.entries())
          await comment(alice, r.key, `probe ${i}${j} ${markup} *end*`);
      await comment(alice, r.key, 'probe visible [^fuser-order.txt]');
      // The same asked in a comment written as her own account (a reply by e-mail): hers too.
      for (const [j, markup] of probes[0]!.entries())
        r.comments.push({
          id: `9900${j}`,
          authorId: r.reporterId,
          body: `probe mail${j} ${markup} *end*`,
          public: true,
          created: Date.now(),
          attachmentIds: [],
        });
      const page = (await alice.text(`/requests/${r.key}`)).body;
      r.comments = comments;
      const bodyOf = (probe: string) => probeBody(page, probe);
      // The portal writes such a reference as the characters she typed (ADR 0260): the two read
      // alike but for the name she typed, and neither is a file.
      const typed = (html: string) => html.replace(/vendor-ticket-447[12]/g, 'NAME');
      for (const [i] of probes.entries()) {
        const [existing, missing] = [bodyOf(`${i}0`), bodyOf(`${i}1`)];
        expect(typed(existing), probes[i]![0]).to.equal(typed(missing));
        expect(existing, 'her formatting still rendered').to.include('<b>end</b>');
      }
      // Written as her account (by e-mail) nothing is escaped: Jira's rendering is hidden (ADR 0239).
      expect(bodyOf('mail0'), 'by e-mail').to.equal(bodyOf('mail1'));
      expect(bodyOf('mail0')).to.not.include('vendor-ticket');
      const vendor = r.attachments.find((a) => a.filename === 'vendor-ticket-4471.txt')!;
      expect(page, 'the internal file').to.not.include(`/attachment/${vendor.id}`);
      // A file she may open is still linked through the portal, as an agent's mention of it is.
      expect(bodyOf('visible')).to.include(
        `<a href="/requests/${r.key}/attachment/${fuser.id}">fuser-order.txt`,
      );
    });

    it('has Atlassian render no internal file her text names, where agents and its e-mails read it; a file she may open still resolves', async () => {
      // ADR 0239 hides such a reference on the portal's page; but Jira renders the body the portal
      // writes for agents and for its notification e-mails (to her, to participants), resolving a
      // name against every file, an internal comment's too (ADR 0260).
      const r = request('Printer on 3rd floor jams every morning');
      const [comments, history] = [[...r.comments], [...r.statusHistory]];
      const vendor = r.attachments.find((a) => a.filename === 'vendor-ticket-4471.txt')!;
      const fuser = r.attachments.find((a) => a.filename === 'fuser-order.txt')!;
      const hidden = [
        '[^vendor-ticket-4471.txt]',
        '!vendor-ticket-4471.txt!',
        '!vendor-ticket-4471.txt|thumbnail!',
        '!vendor-ticket-4471.txt|align=right, vspace=4!',
        '\\\\[^vendor-ticket-4471.txt]',
      ];
      await comment(alice, r.key, `probe w0 ${hidden.join(' ')} [^fuser-order.txt] *end*`);
      await stepWithComment(r, 'probe w1 !vendor-ticket-4471.txt|thumbnail! *end*');
      // A comment with a file: the note goes with the upload (`additionalComment`).
      const files = [...r.attachments];
      const page = (await alice.text(`/requests/${r.key}`)).body;
      const form = new FormData();
      form.set('_csrf', csrfOf(page));
      form.set('body', 'probe w2 [^vendor-ticket-4471.txt] *end*');
      form.append('attachment', new Blob(['paper jam log']), 'jam-log.txt');
      const sent = await alice.fetch(`/requests/${r.key}/comment`, {
        method: 'POST',
        body: form,
        headers: { origin: h.url },
      });
      expect(sent.status).to.equal(303);
      const written = r.comments.slice(comments.length);
      const rendered = written.map((c) =>
        renderWiki(c.body, h.emulator.state.wikiContext('https://acme.atlassian.net', r)),
      );
      r.comments = comments;
      r.statusHistory = history;
      r.attachments = files;
      expect(written).to.have.length(3);
      for (const html of rendered) {
        expect(html, 'the internal file').to.not.match(
          new RegExp(`/secure/(attachment|thumbnail)/${vendor.id}/`),
        );
        expect(html, 'no "not found" either').to.not.include('class="error"');
        expect(html, 'her formatting still rendered').to.include('<b>end</b>');
      }
      expect(rendered[0], 'the characters she typed').to.include('[^vendor-ticket-4471.txt]');
      expect(rendered[0], 'a file she may open').to.include(`/secure/attachment/${fuser.id}/fuser-order.txt`);
      expect(rendered[1], 'a step’s comment').to.include('!vendor-ticket-4471.txt|thumbnail!');
      expect(rendered[2], 'a comment with a file').to.include('[^vendor-ticket-4471.txt]');
      expect(rendered[2], 'the file sent with it, linked by Atlassian').to.match(
        /\/secure\/attachment\/\d+\/jam-log\.txt"/,
      );
    });

    it('has Atlassian render the name her IdP gives as its characters in the author line, no markup of it', async () => {
      // The author line opening what the portal writes for her is wiki markup too, where agents and
      // Atlassian's e-mails read it; her name is the IdP's, set by her or her IdP, not typed on the
      // page: none of its characters may open markup (ADR 0273).
      const r = request('Printer on 3rd floor jams every morning');
      const comments = [...r.comments];
      const hana = h.emulator.state.userByEmail('hana.hr@acme.test')!;
      const name = [
        'Mal [Reset|https://evil.example/r] {html}<b>x</b>{html} {color:red}!{color}',
        '!vendor-ticket-4471.txt! [^vendor-ticket-4471.txt]',
        `[~accountid:${hana.accountId}] *b* _i_ {{m}} -g- http://evil.example CORP\\mal HR-1`,
      ].join(' ');
      const mallory = await signIn(h, 'mallory@acme.test', { displayName: name });
      const created = h.emulator.state.userByEmail('mallory@acme.test')!;
      expect(created.displayName, 'written to Atlassian as the plain text it is').to.equal(name);
      r.participantIds.push(created.accountId);
      const notified = h.emulator.state.mentions.length;
      await comment(mallory, r.key, 'probe n0 *end*');
      const written = r.comments.slice(comments.length);
      const page = (await mallory.text(`/requests/${r.key}`)).body;
      r.comments = comments;
      r.participantIds.pop();
      expect(written).to.have.length(1);
      const stored = written[0]!.body;
      // Invisible word joiners break what no escape stops (a URL's `://`, an emoticon) and are dropped.
      const rendered = renderWiki(
        stored,
        h.emulator.state.wikiContext('https://acme.atlassian.net', r),
      ).replaceAll('\u2060', '');
      // A backslash is no character Jira's notation can show (`\\` is a line break): a look-alike.
      const shown = escapeHtml(name.replace('\\', '\u29f5'));
      expect(
        rendered.split('\n\n').slice(0, 2),
        'her name as its characters, nothing else; her own text still formatted',
      ).to.deep.equal([`<p>${shown} (via the help center):</p>`, '<p>probe n0 <b>end</b></p>']);
      // Macros Jira has and the emulator does not render: left as characters.
      expect(stored, 'no macro').to.not.match(/(?<!\\)\{(html|color)/);
      expect(h.emulator.state.mentions.slice(notified), 'accounts Jira notified').to.deep.equal([]);
      expect(page, 'the page names her as she is called').to.include(shown);
    });

    it('lets a customer mention nobody and name no account or issue beyond her request, in a comment, a step or a description', async () => {
      // Jira reads what the portal writes as wiki markup: `[~accountid:id]` is any account's display
      // name and notifies that account, as the portal's service account; an issue key is a link when
      // the issue exists, in a project she cannot see too (ADR 0245).
      const r = request('Printer on 3rd floor jams every morning');
      const comments = [...r.comments];
      const hana = h.emulator.state.userByEmail('hana.hr@acme.test')!;
      const other = [...h.emulator.state.requests.values()].find((x) => x.serviceDeskId !== r.serviceDeskId)!;
      const missing = `${other.key.split('-')[0]}-9999`;
      const mention = `[~accountid:${hana.accountId}]`;
      const notified = h.emulator.state.mentions.length;
      await comment(alice, r.key, `probe m0 ${mention} *end*`);
      await comment(alice, r.key, `probe m1 [Boss|~accountid:${hana.accountId}] *end*`);
      await comment(alice, r.key, `probe m2 \\\\${mention} *end*`);
      await comment(alice, r.key, `probe k0 ${other.key} *end*`);
      await comment(alice, r.key, `probe k1 ${missing} *end*`);
      // A step's comment (a step that keeps the request where it is, taken back out after), and a
      // description: written as wiki markup too.
      const history = [...r.statusHistory];
      await stepWithComment(r, `probe step ${mention} *end*`);
      const desk = (await alice.text('/desk/1')).body;
      const typeId = /href="\/desk\/1\/create\/(\d+)"><strong>Get IT help/.exec(desk)![1]!;
      const form = (await alice.text(`/desk/1/create/${typeId}`)).body;
      const created = await alice.post(`/desk/1/create/${typeId}`, {
        _csrf: csrfOf(form),
        f_summary: 'Mentioning someone',
        f_description: `Please ask ${mention} about it.`,
      });
      expect(created.status).to.equal(303);
      expect(h.emulator.state.mentions.slice(notified), 'accounts Jira notified').to.deep.equal([]);
      // The same in a comment written as her own account (a reply by e-mail), which Jira resolves.
      r.comments.push({
        id: '99010',
        authorId: r.reporterId,
        body: `probe mail ${mention} ${other.key} *end*`,
        public: true,
        created: Date.now(),
        attachmentIds: [],
      });
      const page = (await alice.text(`/requests/${r.key}`)).body;
      const createdPage = (await alice.text(created.headers.get('location')!)).body;
      r.comments = comments;
      r.statusHistory = history;
      h.emulator.state.requests.delete(
        [...h.emulator.state.requests.values()].find(
          (x) => x.fieldValues['summary'] === 'Mentioning someone',
        )!.id,
      );
      const bodyOf = (probe: string) => probeBody(page, probe);
      expect(page, 'no account named by its id').to.not.include(hana.displayName);
      expect(createdPage, 'no account named by its id').to.not.include(hana.displayName);
      expect(bodyOf('m0'), 'the characters she typed').to.include(mention);
      expect(bodyOf('m0'), 'her formatting still rendered').to.include('<b>end</b>');
      expect(bodyOf('m2'), 'after a line break too').to.include(mention);
      expect(bodyOf('step'), 'a step’s comment').to.include(mention);
      expect(
        bodyOf('k0').replace(other.key, 'KEY'),
        'an issue that exists reads as one that does not',
      ).to.equal(bodyOf('k1').replace(missing, 'KEY'));
      expect(bodyOf('mail'), 'by e-mail: the key as text').to.include(`${other.key} <b>end</b>`);
    });

    it('renders bodies from Atlassian’s rendered HTML and links the files they mention through the portal', async () => {
      const r = request('Printer on 3rd floor jams every morning');
      const fuser = r.attachments.find((a) => a.filename === 'fuser-order.txt')!;
      const page = (await alice.text(`/requests/${r.key}`)).body;
      expect(page).to.include(
        `<p>We ordered a new fuser unit. <b>Delivery on Thursday</b>, order: <span><a href="/requests/${r.key}/attachment/${fuser.id}">fuser-order.txt`,
      );
      expect(page, 'never a link to the Atlassian site').to.not.include(h.emulator.url);
      const download = await alice.fetch(`/requests/${r.key}/attachment/${fuser.id}`);
      expect(download.status).to.equal(200);
      expect(await download.text()).to.equal('Fuser unit RM1-1082, delivery Thursday');
    });

    it('shows image files as thumbnails served through the portal, and no thumbnail for anything else', async () => {
      const r = request('Laptop screen flickers');
      const png = r.attachments.find((a) => a.filename === 'screen.png')!;
      const txt = r.attachments.find((a) => a.filename === 'flicker.txt')!;
      const page = (await alice.text(`/requests/${r.key}`)).body;
      const thumbnail = `/requests/${r.key}/attachment/${png.id}/thumbnail`;
      expect(page).to.include(`<img src="${thumbnail}" alt="" loading="lazy">`);
      expect(page).to.not.include(`/attachment/${txt.id}/thumbnail`);
      const res = await alice.fetch(thumbnail);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.equal('image/png');
      expect(res.headers.get('x-content-type-options')).to.equal('nosniff');
      expect(res.headers.get('content-security-policy')).to.equal("default-src 'none'; sandbox");
      expect(res.headers.get('cache-control'), 'a shared computer keeps no customer’s files').to.equal(
        'no-store',
      );
      expect(Buffer.from(await res.arrayBuffer()).equals(png.content)).to.equal(true);
      expect((await alice.fetch(`/requests/${r.key}/attachment/${txt.id}/thumbnail`)).status).to.equal(404);
    });

    it('offers no file an agent added without a comment: Atlassian tells the service account no file’s visibility (ADR 0375)', async () => {
      const r = request('Laptop screen flickers');
      const byEmail = (email: string) => [...h.emulator.state.users.values()].find((u) => u.email === email)!;
      const file = (id: string, filename: string, authorId: string, visibility: { public?: boolean }) =>
        r.attachments.push({
          id,
          filename,
          mimeType: 'text/plain',
          content: Buffer.from(filename),
          authorId,
          created: Date.now(),
          ...visibility,
        });
      const ian = byEmail('ian.it@acme.test').accountId;
      const bot = byEmail('portal-bot@acme.test').accountId;
      const kept = r.attachments.length;
      // Internal, as Jira's issue view adds a file; and one Atlassian holds public: the service
      // account, an agent, is answered both alike.
      file('99201', 'vendor-quote.txt', ian, { public: false });
      file('99202', 'driver-notes.txt', ian, {});
      // The portal's own upload (the raise form's files), and the customer's own: public.
      file('99203', 'raised-with.txt', bot, {});
      try {
        const page = (await alice.text(`/requests/${r.key}`)).body;
        expect(page).to.not.include('vendor-quote').and.not.include('driver-notes');
        expect(page).to.include('raised-with.txt').and.include('flicker.txt');
        for (const id of ['99201', '99202'])
          expect((await alice.fetch(`/requests/${r.key}/attachment/${id}`)).status, id).to.equal(404);
        const own = await alice.fetch(`/requests/${r.key}/attachment/99203`);
        expect(own.status).to.equal(200);
        expect(await own.text()).to.equal('raised-with.txt');
      } finally {
        r.attachments.length = kept;
      }
    });

    it('refuses thumbnails it may not serve: an SVG, a file of an internal comment, another request’s file', async () => {
      const r = request('Laptop screen flickers');
      r.attachments.push({
        id: '99101',
        filename: 'diagram.svg',
        mimeType: 'image/svg+xml',
        content: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
        authorId: r.reporterId,
        created: Date.now(),
      });
      const printer = request('Printer on 3rd floor jams every morning');
      const hidden = printer.attachments.find((a) => a.filename === 'vendor-ticket-4471.txt')!;
      const page = (await alice.text(`/requests/${r.key}`)).body;
      expect(page).to.include('diagram.svg').and.not.include('/attachment/99101/thumbnail');
      for (const path of [
        `/requests/${r.key}/attachment/99101/thumbnail`,
        `/requests/${printer.key}/attachment/${hidden.id}/thumbnail`,
        `/requests/${r.key}/attachment/${hidden.id}/thumbnail`,
        `/requests/${h.keyOf('Cannot reach the partner extranet')}/attachment/1/thumbnail`,
      ]) {
        expect((await alice.fetch(path)).status, path).to.equal(404);
      }
    });
    it('cleans hostile rendered HTML: no script, event handler, javascript: or data: URL, svg, style, frame or form', async () => {
      const r = request('Printer on 3rd floor jams every morning');
      const site = h.emulator.url;
      const hidden = r.attachments.find((a) => a.filename === 'vendor-ticket-4471.txt')!;
      const fuser = r.attachments.find((a) => a.filename === 'fuser-order.txt')!;
      const ian = [...h.emulator.state.users.values()].find((u) => u.email === 'ian.it@acme.test')!;
      const comments = [...r.comments];
      r.comments.push({
        id: '99002',
        authorId: ian.accountId,
        body: 'rendered below',
        public: true,
        created: Date.now(),
        attachmentIds: [],
        renderedHtml: [
          '<p onclick="alert(1)" style="color:red">Kept text</p>',
          '<script>alert(2)</script>',
          '<img src="x" onerror="alert(3)">',
          '<img src="https://evil.test/track.png">',
          '<img src="data:image/png;base64,iVBORw0KGgo=">',
          `<img src="${site}/secure/thumbnail/${hidden.id}/_thumb_.png">`,
          '<a href="javascript:alert(4)">js link</a>',
          '<a href="JaVaScRiPt:alert(5)">mixed case</a>',
          '<a href="&#106;avascript:alert(6)">entity</a>',
          '<a href="data:text/html,<script>alert(7)</script>">data link</a>',
          '<a href="vbscript:msgbox(8)">vb</a>',
          '<a href="//evil.test/x">protocol-relative</a>',
          `<a href="${site}/secure/attachment/${hidden.id}/vendor-ticket-4471.txt">internal file</a>`,
          `<a href="${site}/browse/${r.key}">agent view</a>`,
          `<a href="${site}/secure/attachment/${fuser.id}/fuser-order.txt">the order</a>`,
          '<iframe src="https://evil.test"></iframe><iframe srcdoc="<script>alert(9)</script>"></iframe>',
          '<form action="https://evil.test"><input name="password" autofocus onfocus="alert(10)"><button formaction="https://evil.test">go</button></form>',
          '<style>body{display:none}</style><link rel="stylesheet" href="https://evil.test/x.css">',
          '<svg onload="alert(11)"><script>alert(12)</script><a href="javascript:alert(13)">svg link</a></svg>',
          '<math><mi xlink:href="javascript:alert(14)">m</mi></math>',
          '<object data="https://evil.test/x.swf"></object><embed src="https://evil.test/x.swf">',
          '<base href="https://evil.test/"><meta http-equiv="refresh" content="0;url=https://evil.test">',
          '<div style="background:url(javascript:alert(15))">styled</div>',
          '<noscript><p title="</noscript><img src=x onerror=alert(16)>"></p></noscript>',
          '<h1>Heading</h1>',
        ].join(''),
      });
      const page = (await alice.text(`/requests/${r.key}`)).body;
      r.comments = comments;
      const body = page
        .split('<li class="comment">')
        .find((item) => item.includes('Kept text'))!
        .split('</li>')[0]!;
      for (const bad of [
        '<script',
        'onclick',
        'onerror',
        'onload',
        'onfocus',
        'javascript:',
        'JaVaScRiPt',
        'vbscript',
        'data:',
        'evil.test',
        '<iframe',
        'srcdoc',
        '<form',
        '<input',
        '<button',
        '<style',
        'style=',
        '<link',
        '<svg',
        '<math',
        '<object',
        '<embed',
        '<base',
        '<meta',
        '<noscript',
        '<h1',
        '<img',
        site,
        'vendor-ticket',
        `/attachment/${hidden.id}`,
      ]) {
        expect(body, bad).to.not.include(bad);
      }
      const count = (pattern: RegExp) => (body.match(pattern) ?? []).length;
      expect(count(/<a[ >]/g), 'every link closed: the markup stays well-formed').to.equal(count(/<\/a>/g));
      expect(body).to.include('<p>Kept text</p>').and.include('<p>Heading</p>');
      expect(body).to.include('<a rel="noopener noreferrer nofollow">js link</a>');
      expect(body).to.include('<span>internal file</span>').and.include('<span>agent view</span>');
      expect(body).to.include(`<a href="/requests/${r.key}/attachment/${fuser.id}">the order</a>`);
    });
  });

  describe('details as native', () => {
    /** The text of the definition a field's name heads on the page, tags removed. */
    const detail = (page: string, name: string) =>
      (new RegExp(`<dt><strong>${name}</strong></dt><dd>([\\s\\S]*?)</dd>`).exec(page)?.[1] ?? `no ${name}`)
        .replace(/<[^>]+>/g, '')
        .trim();
    it("shows a date as a date and a date and time in the customer's zone, not Jira's text", async () => {
      const vpn = `/requests/${h.keyOf('VPN access for travel')}`;
      expect(detail((await bob.text(vpn)).body, 'Access from')).to.equal('Feb 1, 2030, 09:00 AM UTC');
      bob.cookies.set(cookiePolicy(h.url).timeZone, encodeURIComponent('Europe/Berlin'));
      try {
        const page = (await bob.text(vpn)).body;
        expect(detail(page, 'Access from')).to.equal('Feb 1, 2030, 10:00 AM GMT+1');
        expect(page).to.include('<time datetime="2030-02-01T09:00:00.000Z" data-dt>');
      } finally {
        bob.cookies.delete(cookiePolicy(h.url).timeZone);
      }
      const monitor = (await alice.text(`/requests/${h.keyOf('Second monitor for home office')}`)).body;
      expect(detail(monitor, 'Needed by')).to.equal('Jan 15, 2030');
      expect(detail(monitor, 'Budget \\(EUR\\)')).to.equal('450');
    });
    it('shows a description as Atlassian renders it, its paragraphs and line breaks kept', async () => {
      const printer = request('Printer on 3rd floor jams every morning');
      const kept = printer.fieldValues['description'];
      // As the portal writes it: the form's write key after the customer's text (portal/write-once.ts).
      printer.fieldValues['description'] =
        'It jams at 9.\nEvery day.\n\nTray 2 only <b>really</b>.\n\n(portal reference jsmsso0123456789abcdef01234567)';
      try {
        const page = (await alice.text(`/requests/${printer.key}`)).body;
        const dd = /<dt><strong>Description<\/strong><\/dt><dd>([\s\S]*?)<\/dd>/.exec(page)?.[1];
        expect(dd).to.match(
          /^<p>It jams at 9\.<br ?\/?>\s*Every day\.<\/p>\s*<p>Tray 2 only &lt;b&gt;really&lt;\/b&gt;\.<\/p>$/,
        );
      } finally {
        printer.fieldValues['description'] = kept!;
      }
    });
    it('links a description only to files the customer may open, and says nothing of the others', async () => {
      const printer = request('Printer on 3rd floor jams every morning');
      const kept = printer.fieldValues['description'];
      // Jira renders `[^name]` against every file of the request, an internal comment's too.
      printer.fieldValues['description'] = 'See [^fuser-order.txt] and [^vendor-ticket-4471.txt].';
      try {
        const page = (await alice.text(`/requests/${printer.key}`)).body;
        const dd = /<dt><strong>Description<\/strong><\/dt><dd>([\s\S]*?)<\/dd>/.exec(page)?.[1] ?? '';
        const fuser = printer.attachments.find((a) => a.filename === 'fuser-order.txt')!;
        expect(dd).to.include(`href="/requests/${printer.key}/attachment/${fuser.id}"`);
        expect(dd).to.not.include('vendor-ticket').and.not.include(h.emulator.url);
      } finally {
        printer.fieldValues['description'] = kept!;
      }
    });
  });

  describe('one activity stream', () => {
    it('holds the request being raised, comments, files, status changes and approval decisions, oldest first', async () => {
      const r = request('Visio for process diagrams');
      const items = activity((await bob.text(`/requests/${r.key}`)).body);
      expect(items[0]).to.match(/^Bob Brown raised this request /);
      expect(items[1]).to.match(/^Approval: Declined /);
      expect(items[2]).to.match(/^Status changed to Declined /);
      const printer = (await alice.text(`/requests/${h.keyOf('Printer on 3rd floor jams every morning')}`))
        .body;
      expect(activity(printer).map((i) => i.split(' ').slice(0, 2).join(' '))).to.deep.equal([
        'Alice Anders',
        'Ian Ito',
        'Alice Anders',
        'Status changed',
      ]);
      const stream = /<ol class="activity">([\s\S]*?)<\/ol>/.exec(printer)![1]!;
      const times = [...stream.matchAll(/<time datetime="([^"]+)"/g)].map((m) =>
        Date.parse(m[1]!.replace(/([+-]\d\d)(\d\d)$/, '$1:$2')),
      );
      expect(times).to.have.length(4);
      expect(times).to.deep.equal([...times].sort((a, b) => a - b));
    });

    it('speaks the customer’s language: German from Accept-Language', async () => {
      const key = h.keyOf('Printer on 3rd floor jams every morning');
      const res = await alice.fetch(`/requests/${key}`, { headers: { 'accept-language': 'de-DE,de;q=0.9' } });
      const page = await res.text();
      const items = activity(page);
      expect(items[0]).to.match(/^Alice Anders hat diese Anfrage .+ erstellt$/);
      expect(items.some((i) => /^Status geändert in In progress /.test(i))).to.equal(true);
      expect(page).to.include('>Aktivität</h2>').and.include('>Kommentar hinzufügen</label>');
      expect(page).to.match(/fuser-order\.txt<\/span><\/a> <span class="muted">38 Byte<\/span>/);
    });

    it('writes every date on the page in one format', async () => {
      for (const summary of ['Printer on 3rd floor jams every morning', 'Second monitor for home office']) {
        const page = (await alice.text(`/requests/${h.keyOf(summary)}`)).body;
        // How long ago, in the customer's language, with the date and time in their zone as the title.
        const times = [...page.matchAll(/<time [^>]*>/g)].map((m) => m[0]);
        const shown = [
          ...page.matchAll(/<time datetime="[^"]+" title="([^"]+)" data-dt-title>([^<]*)<\/time>/g),
        ];
        expect(shown.length, summary).to.be.greaterThan(1).and.equal(times.length);
        for (const [, title, text] of shown) {
          expect(title).to.match(/^[A-Z][a-z]{2} \d{1,2}, \d{4}, \d\d:\d\d [AP]M UTC$/);
          expect(text).to.match(
            /^(now|yesterday|last (week|month|year)|\d+ (second|minute|hour|day|week|month|year)s? ago)$/,
          );
        }
        expect(page, 'no second (Atlassian "friendly") format').to.not.match(/\d\d\/[A-Z][a-z]{2}\/\d\d/);
      }
    });
  });

  describe('Atlassian calls', () => {
    /** The calls one view of `key` made, counted at the emulator, after a first view warmed the caches. */
    const warmView = async (browser: Browser, key: string) => {
      expect((await browser.text(`/requests/${key}`)).status).to.equal(200);
      const from = calls.length;
      expect((await browser.text(`/requests/${key}`)).status).to.equal(200);
      return calls.slice(from).map((c) => `${c.method} ${c.path}`);
    };

    it(`needs at most ${MAX_CALLS_PER_WARM_VIEW} per warm view: reporter, organization member, approver`, async () => {
      for (const [browser, summary] of [
        [alice, 'Laptop screen flickers'],
        [alice, 'VPN access for travel'],
        [alice, 'Standing desk converter for the support team'],
        [bob, 'Wi-Fi drops in meeting room Nile'],
      ] as const) {
        const made = await warmView(browser, h.keyOf(summary));
        expect(made.length, `${summary}: ${made.join(', ')}`).to.be.at.most(MAX_CALLS_PER_WARM_VIEW);
      }
      // Her own request: the visibility gate and the request with everything expanded.
      expect(await warmView(alice, h.keyOf('Laptop screen flickers'))).to.have.members([
        'POST /rest/api/3/search/jql',
        `GET /rest/servicedeskapi/request/${h.keyOf('Laptop screen flickers')}`,
      ]);
      // Shared with her organization: the gate's own search read the Organizations field (ADR 0225).
      expect(await warmView(alice, h.keyOf('VPN access for travel'))).to.have.members([
        'POST /rest/api/3/search/jql',
        `GET /rest/servicedeskapi/request/${h.keyOf('VPN access for travel')}`,
      ]);
    });

    it('never reads or shows SLAs, which Atlassian gives agents only (the service account could read them)', async () => {
      const key = h.keyOf('Laptop screen flickers');
      const from = calls.length;
      const page = await alice.text(`/requests/${key}`);
      expect(page.status).to.equal(200);
      expect(page.body).to.not.include('Time to first response').and.not.include('Time to resolution');
      expect(calls.slice(from).map((c) => c.path)).to.not.include(`/rest/servicedeskapi/request/${key}/sla`);
      // The agent-only data is there to leak: the service account (an agent) reads it at Atlassian.
      const agent = await fetch(`${h.emulator.url}/rest/servicedeskapi/request/${key}/sla`, {
        headers: {
          authorization: `Basic ${Buffer.from('portal-bot@acme.test:dev-api-token').toString('base64')}`,
        },
      });
      expect(agent.status).to.equal(200);
      expect(await agent.text()).to.include('Time to first response');
    });

    it('reads a list Atlassian cut short from its own resource: past the first page, internal files stay hidden', async () => {
      const r = request('Password expired while on holiday');
      const ian = [...h.emulator.state.users.values()].find((u) => u.email === 'ian.it@acme.test')!;
      const start = r.created + 60_000;
      // More comments than the request's expansion holds (a first page of 100).
      for (let i = 1; i <= 120; i++)
        r.comments.push({
          id: String(98000 + i),
          authorId: ian.accountId,
          body: `Note ${i}`,
          public: true,
          created: start + i,
          attachmentIds: [],
        });
      r.attachments.push({
        id: '98500',
        filename: 'internal-audit.txt',
        mimeType: 'text/plain',
        content: Buffer.from('internal'),
        authorId: ian.accountId,
        created: start + 200,
      });
      r.comments.push({
        id: '98200',
        authorId: ian.accountId,
        body: 'Audit trail [^internal-audit.txt]',
        public: false,
        created: start + 200,
        attachmentIds: ['98500'],
      });
      const from = calls.length;
      const page = (await alice.text(`/requests/${r.key}`)).body;
      const made = calls.slice(from).map((c) => `${c.method} ${c.path}`);
      expect(made, 'the comments read whole').to.include(`GET /rest/servicedeskapi/request/${r.key}/comment`);
      const items = activity(page);
      expect(items.filter((i) => /^Ian Ito \(IT\) (now|.* ago) Note \d+$/.test(i))).to.have.length(120);
      expect(page).to.not.include('internal-audit').and.not.include('Audit trail');
      expect((await alice.fetch(`/requests/${r.key}/attachment/98500`)).status).to.equal(404);
    });

    describe('a request with more comments than its page holds', () => {
      const printer = () => request('Printer on 3rd floor jams every morning');
      const fileId = (name: string) => printer().attachments.find((a) => a.filename === name)!.id;
      /** `count` comments by Ian, public or internal, made after the request's own. */
      const notes = (count: number, isPublic: boolean, from: number) => {
        const r = printer();
        const ian = r.comments[0]!.authorId;
        return Array.from({ length: count }, (_, i) => ({
          id: h.emulator.state.nextId('comment', 100_000),
          authorId: ian,
          body: `${isPublic ? 'Update' : 'Internal note'} ${from + i}`,
          public: isPublic,
          created: r.created + 60_000 + from + i,
          attachmentIds: [],
        }));
      };
      /** Views the page and asks for its two files: the public comment's and the internal one's. */
      const offered = async () => {
        const r = printer();
        const page = await alice.text(`/requests/${r.key}`);
        expect(page.status).to.equal(200);
        return {
          listed: ['fuser-order', 'vendor-ticket-4471'].filter((name) => page.body.includes(name)),
          fuser: (await alice.fetch(`/requests/${r.key}/attachment/${fileId('fuser-order.txt')}`)).status,
          vendor: (await alice.fetch(`/requests/${r.key}/attachment/${fileId('vendor-ticket-4471.txt')}`))
            .status,
        };
      };
      let kept: CustomerRequest['comments'];
      beforeEach(() => {
        kept = printer().comments;
      });
      afterEach(() => {
        printer().comments = kept;
      });

      it('reads every comment where Atlassian caps a page below the limit asked: an internal comment past the first 25 still hides its file', async () => {
        // The internal comment (with vendor-ticket-4471.txt) 31st of 130: Atlassian's expansion holds
        // 100, and the comment resource 25 a page (the emulator's cap) where 50 are asked.
        const [fuser, internal, thanks] = kept as [Comment, Comment, Comment];
        printer().comments = [fuser, ...notes(29, true, 0), internal, thanks, ...notes(99, true, 29)];
        expect(await offered()).to.deep.equal({ listed: ['fuser-order'], fuser: 200, vendor: 404 });
      });

      it('hides an internal comment’s file older than the comments it reads (1,000 and more after it): it reads the internal ones alone', async () => {
        // The newest comments are read (ADR 0293): the public one with fuser-order.txt among them,
        // the internal one with vendor-ticket-4471.txt before them.
        const [fuser, internal, thanks] = kept as [Comment, Comment, Comment];
        printer().comments = [internal, thanks, ...notes(1000, true, 0), fuser];
        const from = h.exchanges.length;
        expect(await offered()).to.deep.equal({ listed: ['fuser-order'], fuser: 200, vendor: 404 });
        const internalOnly = `/rest/servicedeskapi/request/${printer().key}/comment?public=false&internal=true`;
        expect(h.exchanges.slice(from).some((e) => e.path.startsWith(internalOnly))).to.equal(true);
      });

      it('offers only the files of public comments it read when the internal comments are more than it reads too', async () => {
        const [fuser, internal, thanks] = kept as [Comment, Comment, Comment];
        printer().comments = [thanks, ...notes(1000, true, 0), ...notes(600, false, 1000), internal, fuser];
        expect(await offered()).to.deep.equal({ listed: ['fuser-order'], fuser: 200, vendor: 404 });
      });
    });

    it('asks who may see the request on every view: a participant removed at Atlassian gets 404 at once', async () => {
      const r = request('Wi-Fi drops in meeting room Nile');
      expect((await bob.text(`/requests/${r.key}`)).status).to.equal(200);
      const bobId = r.participantIds[0]!;
      // Removed without touching the request's `updated`, so nothing versioned could notice.
      r.participantIds = [];
      try {
        expect((await bob.text(`/requests/${r.key}`)).status).to.equal(404);
      } finally {
        r.participantIds = [bobId];
      }
    });

    it('reads approvals again once the request changed: an answer given at Atlassian shows on the next view', async () => {
      const r = request('Second monitor for home office');
      expect((await alice.text(`/requests/${r.key}`)).body).to.include('Waiting for approval');
      const approval = r.approvals[0]!;
      approval.approvers[0]!.decision = 'approved';
      approval.finalDecision = 'approved';
      approval.completed = Date.now();
      r.updated = Date.now() + 1;
      const items = activity((await alice.text(`/requests/${r.key}`)).body);
      expect(items.at(-1)).to.match(/^Approval: Approved /);
    });

    it('shares what is not per customer between customers, and only after each one’s own visibility check', async () => {
      const key = h.keyOf('VPN access for travel'); // Bob's, shared with Acme
      await bob.text(`/requests/${key}`);
      const from = calls.length;
      expect((await alice.text(`/requests/${key}`)).status).to.equal(200);
      const made = calls.slice(from).map((c) => `${c.method} ${c.path}`);
      expect(made, 'approvals and transitions from the cache').to.not.include(
        `GET /rest/servicedeskapi/request/${key}/approval`,
      );
      expect(made).to.include('POST /rest/api/3/search/jql');
      const dana = await signIn(h, 'dana@globex.test');
      expect((await dana.text(`/requests/${key}`)).status).to.equal(404);
    });
  });

  // Last (Mocha runs nested suites in order): every exchange the tests above caused.
  describe('Atlassian’s spec', () => {
    it('is followed by every JSON exchange of the detail page (file bytes are not JSON)', () => {
      expect(h.exchanges.some((e) => e.path.includes('comment.renderedBody'))).to.equal(true);
      const problems = h.exchanges.flatMap((e) =>
        validateAgainstSpec(e).errors.map((err) => `${e.method} ${e.path}: ${err}`),
      );
      expect(problems).to.deep.equal([]);
    });
  });
});
