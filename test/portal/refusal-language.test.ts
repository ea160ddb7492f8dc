// Refusals carried by errors (form checks, uploads, sign-in, Atlassian's failures) are said in the
// customer's language, through the real routes; the log keeps the reason code and English, and the
// page names that code and a reference its log line carries.
import { expect } from 'chai';
import { ATLASSIAN_CODES, meaningOf, PORTAL_CODES } from '../../common/error-codes.js';
import { createTranslator, LOCALES } from '../../common/i18n/index.js';
import { PROBLEM_TEXT, problemKey, problemText } from '../../portal/pages/refusals.js';
import { englishIn } from '../../testkit/catalogue-text.js';
import { eventually } from '../../testkit/envtest.js';
import { postHeldUpload } from '../../testkit/held-upload.js';
import {
  attemptSignIn,
  Browser,
  csrfOf,
  type Harness,
  raiseRequestForm,
  reasons,
  shownReference,
  signIn,
  useHarness,
} from '../../testkit/portal-harness.js';

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The field id of the control labelled `name` on a raise form (a label, or a fieldset's legend). */
function fieldIdOf(page: string, name: string): string {
  const m = new RegExp(
    `(?:for="fld-([^"]+)">|<fieldset id="fld-([^"]+)"[^>]*><legend>)${escapeRe(name)}`,
  ).exec(page);
  if (!m) throw new Error(`no field ${name} on the form`);
  return (m[1] ?? m[2])!;
}

describe('portal: refusals in the customer’s language', () => {
  let h: Harness;
  let alice: Browser;
  useHarness(async (started) => {
    h = started;
    alice = await signIn(h, 'alice@acme.test');
  });
  afterEach(() => h.emulator.faults.clear());

  /** A raise form of desk 1 found by a word of its name, in `lang`. */
  const openForm = async (search: string, name: string, lang: string) => {
    const desk = (await alice.text(`/desk/1?q=${search}`)).body;
    const typeId = new RegExp(`href="/desk/1/create/(\\d+)"><strong>${escapeRe(name)}`).exec(desk)![1]!;
    const path = `/desk/1/create/${typeId}`;
    const res = await alice.fetch(path, { headers: { 'accept-language': lang } });
    return { path, page: await res.text() };
  };
  const send = (path: string, lang: string, body: FormData) =>
    alice.fetch(path, { method: 'POST', body, headers: { origin: h.url, 'accept-language': lang } });
  const formData = (fields: [string, string][], files: { name: string; size: number }[] = []) => {
    const body = new FormData();
    for (const [k, v] of fields) body.append(k, v);
    for (const f of files) body.append('attachment', new Blob([new Uint8Array(f.size)]), f.name);
    return body;
  };

  it('says every field the raise form refuses in German, and no English', async () => {
    const { path, page: form } = await openForm('hardware', 'Request new hardware', 'de');
    const id = (name: string) => `f_${fieldIdOf(form, name)}`;
    const exchanges = h.exchanges.length;
    const invalid = await send(
      path,
      'de',
      formData([
        ['_csrf', csrfOf(form)],
        ['f_summary', 'x'.repeat(256)],
        [id('Items'), '999999'],
        [id('Needed by'), '31.12.2030'],
        [id('Budget (EUR)'), 'viel'],
        [id('Product link'), 'ftp://files.acme.test/quote.pdf'],
        ['onBehalfOf', 'not-a-colleague'],
        ['shareWith', 'someone-else'],
      ]),
    );
    expect(invalid.status).to.equal(400);
    const page = await invalid.text();
    for (const german of [
      'Einige Angaben müssen Sie noch prüfen.',
      'Summary darf höchstens 255 Zeichen lang sein.',
      'Wählen Sie gültige Werte für Items.',
      'Needed by muss ein Datum sein, zum Beispiel 2030-01-31.',
      'Budget (EUR) muss eine Zahl sein.',
      'Product link muss eine Webadresse sein, die mit https:// oder http:// beginnt.',
      'Sie können Anfragen nur im Namen von Personen aus Ihren Organisationen stellen, die dieser Service-Desk hat.',
      'Sie können eine Anfrage nur mit Ihren Organisationen, die dieser Service-Desk hat, und deren Mitgliedern teilen.',
    ])
      expect(page).to.contain(german);
    for (const english of ['must be', 'Choose valid values', 'need your attention', 'service desk has'])
      expect(page).to.not.contain(english);
    expect(englishIn(page, 'de')).to.deep.equal([]);

    const empty = await send(path, 'de', formData([['_csrf', csrfOf(form)]]));
    const emptyPage = await empty.text();
    expect(emptyPage).to.contain('Summary ist ein Pflichtfeld.').and.contain('Items ist ein Pflichtfeld.');
    expect(emptyPage).to.not.contain('is required');
    expect(englishIn(emptyPage, 'de')).to.deep.equal([]);
    expect(
      h.exchanges.slice(exchanges).filter((e) => e.method === 'POST'),
      'nothing sent to Atlassian',
    ).to.deep.equal([]);
  });

  it('keeps every answer and says a refused attachment in French beside the file input', async () => {
    const { path, page: form } = await openForm('laptop', 'Report a broken laptop', 'fr');
    const device = fieldIdOf(form, 'Device');
    const choice = /<option value="(\d+:\d+)"[^>]*>Laptop › ThinkPad X1/.exec(form)![1]!;
    /** The form filled in correctly, with these files. */
    const sendWith = (files: { name: string; size: number }[]) =>
      send(
        path,
        'fr',
        formData(
          [
            ['_csrf', csrfOf(form)],
            ['f_summary', 'L’écran clignote'],
            ['f_description', 'Seulement sur batterie.'],
            [`f_${device}`, choice],
          ],
          files,
        ),
      );
    const logs = h.logs.length;
    const res = await sendWith([{ name: 'clignote.exe', size: 10 }]);
    expect(res.status).to.equal(415);
    const page = await res.text();
    const fileInput = fieldIdOf(page, 'Photos');
    expect(page).to.contain(
      `<div id="fld-${fileInput}-err" class="error" role="alert">Les fichiers de ce type ne peuvent pas être joints (clignote.exe). Types acceptés\u00a0: PNG,`,
    );
    expect(page).to.contain('Rien n’a été envoyé\u00a0; veuillez choisir à nouveau vos fichiers.');
    expect(page).to.contain('value="L’écran clignote"');
    for (const english of ['cannot be attached', 'Accepted types', 'Nothing was sent'])
      expect(page).to.not.contain(english);
    expect(englishIn(page, 'fr')).to.deep.equal([]);
    expect(reasons(h, logs)).to.include('PORTAL_UPLOAD_TYPE');
    const line = h.logs.slice(logs).find((l) => l['reason'] === 'PORTAL_UPLOAD_TYPE');
    expect(JSON.stringify(line), 'the file name stays out of the log').to.not.contain('clignote');

    const tooMany = await sendWith(
      Array.from({ length: 6 }, (_, i) => ({ name: `photo-${i}.txt`, size: 5 })),
    );
    expect(tooMany.status).to.equal(413);
    const tooManyPage = await tooMany.text();
    expect(tooManyPage).to.contain('Vous pouvez joindre au plus 5 fichiers à la fois.');
    expect(englishIn(tooManyPage, 'fr')).to.deep.equal([]);
  });

  it('says a refused and a too large file in French on the request page', async () => {
    const key = h.keyOf('Printer on 3rd floor jams every morning');
    const token = csrfOf((await alice.text(`/requests/${key}`)).body);
    const upload = (name: string, size: number) =>
      send(`/requests/${key}/attachment`, 'fr', formData([['_csrf', token]], [{ name, size }]));
    const refused = await upload('macro.exe', 10);
    expect(refused.status).to.equal(415);
    const refusedPage = await refused.text();
    expect(refusedPage).to.contain(
      'role="alert">Les fichiers de ce type ne peuvent pas être joints (macro.exe).',
    );
    expect(englishIn(refusedPage, 'fr')).to.deep.equal([]);
    const huge = await upload('journal.txt', 10 * 1024 * 1024 + 1);
    expect(huge.status).to.equal(413);
    const hugePage = await huge.text();
    // Intl puts a narrow no-break space between number and unit in French.
    expect(hugePage, hugePage.match(/role="alert">[^<]*/)?.[0]).to.match(
      /role="alert">journal\.txt dépasse 10\sMo, la taille maximale d’un fichier\./,
    );
    expect(hugePage).to.not.contain('the most a file can be');
    expect(englishIn(hugePage, 'fr')).to.deep.equal([]);
  });

  it('says an Atlassian outage in German, logging the reason code in English', async () => {
    const key = h.keyOf('Printer on 3rd floor jams every morning');
    h.emulator.faults.set({ status: 503, retryAfterSeconds: 0, pathPrefix: '/rest/servicedeskapi/' });
    const logs = h.logs.length;
    const res = await alice.fetch(`/requests/${key}`, { headers: { 'accept-language': 'de' } });
    // Temporarily unavailable, with a time to come back (error-codes.ts: 503 to the person).
    expect(res.status).to.equal(503);
    expect(res.headers.get('retry-after')).to.match(/^[1-9][0-9]*$/);
    const page = await res.text();
    expect(page).to.contain('Das Hilfecenter ist vorübergehend nicht verfügbar.');
    expect(page).to.not.contain('temporarily unavailable');
    expect(englishIn(page, 'de')).to.deep.equal([]);
    const line = h.logs.slice(logs).find((l) => l['event'] === 'portal.atlassian_error');
    expect(line?.['reason']).to.equal('ATLASSIAN_UNAVAILABLE');
    expect(String(line?.['msg'])).to.not.contain('Hilfecenter');
  });

  it('says a create Atlassian refused in German and keeps the form, Atlassian’s own words as a value', async () => {
    const { path, page: form } = await openForm('software', 'Request software', 'de');
    const software = fieldIdOf(form, 'Software');
    const visio = /<option value="(\d+)"[^>]*>Microsoft Visio/.exec(form)![1]!;
    const refusedWith = async (status: number) => {
      h.emulator.faults.set({ status, method: 'POST', pathPrefix: '/rest/servicedeskapi/request' });
      const res = await send(
        path,
        'de',
        formData([
          ['_csrf', csrfOf(form)],
          ['f_summary', 'Visio für das Netzwerkdiagramm'],
          [`f_${software}`, visio],
        ]),
      );
      expect(res.status).to.equal(status);
      const page = await res.text();
      expect(page).to.contain('value="Visio für das Netzwerkdiagramm"');
      expect(englishIn(page, 'de')).to.deep.equal([]);
      return page;
    };
    const forbidden = await refusedWith(403);
    expect(forbidden).to.contain(
      'Das Hilfecenter erlaubt diese Aktion nicht. Ihre Anfrage wurde nicht erstellt. Ihre Angaben sind unten erhalten',
    );
    for (const english of ['does not allow', 'was not created']) expect(forbidden).to.not.contain(english);
    // Atlassian's message is in the site's language (here the emulator's English), shown as a value.
    const invalid = await refusedWith(400);
    expect(invalid).to.contain('Einige Angaben müssen Sie noch prüfen. Ihre Anfrage wurde nicht erstellt.');
    expect(invalid).to.contain('<div>Der Helpdesk hat die Anfrage nicht angenommen: Emulated failure</div>');
  });

  it('says in Japanese, as in English, that a create Atlassian refused outright made nothing and is sent again once', async () => {
    const { path, page: form } = await openForm('software', 'Request software', 'ja');
    const visio = /<option value="(\d+)"[^>]*>Microsoft Visio/.exec(form)![1]!;
    h.emulator.faults.set({ status: 403, method: 'POST', pathPrefix: '/rest/servicedeskapi/request' });
    const res = await send(
      path,
      'ja',
      formData([
        ['_csrf', csrfOf(form)],
        ['f_summary', 'ネットワーク図のための Visio'],
        [`f_${fieldIdOf(form, 'Software')}`, visio],
      ]),
    );
    expect(res.status).to.equal(403);
    const page = await res.text();
    // Refused outright: nothing to arrive later, so sending again makes no second request (create.notCreated).
    expect(page).to.contain('リクエストは作成されませんでした。');
    expect(page).to.contain('（リクエストが二重に作成されることはありません）');
    expect(page).to.not.contain('両方が作成されます');
  });

  it('says a form the body parser refuses and an expired page link in German', async () => {
    const fields = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`f${i}`, 'x']));
    const tooMany = await alice.post('/logout', fields, { 'accept-language': 'de' });
    expect(tooMany.status).to.equal(413);
    const tooManyPage = await tooMany.text();
    expect(tooManyPage).to.contain('Das gesendete Formular hat zu viele Felder.');
    expect(englishIn(tooManyPage, 'de')).to.deep.equal([]);

    const logs = h.logs.length;
    const stale = await alice.fetch('/requests?status=all&page=a%20b', {
      headers: { 'accept-language': 'de' },
    });
    expect(stale.status).to.equal(400);
    const stalePage = await stale.text();
    expect(stalePage).to.contain('Dieser Seitenlink ist nicht mehr gültig.');
    expect(stalePage).to.not.contain('page link is not valid');
    const line = h.logs.slice(logs).find((l) => l['reason'] === 'PORTAL_PAGE_TOKEN_INVALID');
    expect(line?.['msg'], 'the log line is English').to.equal(meaningOf('PORTAL_PAGE_TOKEN_INVALID'));
  });

  describe('sign-in refusals in Japanese', () => {
    const cases = [
      {
        who: 'the service account',
        email: 'portal-bot@acme.test',
        reason: 'PORTAL_ACCOUNT_SERVICE',
        japanese: 'これはヘルプセンター自体のサービスアカウントのため、ここではサインインできません。',
      },
      {
        who: 'a licensed agent',
        email: 'ian.it@acme.test',
        reason: 'PORTAL_ACCOUNT_LICENSED',
        japanese: 'エージェントや管理者のアカウントでは、このヘルプセンターにサインインできません。',
      },
      {
        who: 'a sign-in that does not name its IdP',
        email: 'bob@acme.test',
        idp: null,
        reason: 'PORTAL_IDP_UNKNOWN',
        japanese: 'どのサインイン方法が使われたかがサインイン情報に含まれていませんでした。',
      },
    ] as const;
    for (const c of cases) {
      it(`refuses ${c.who} in Japanese, logging ${c.reason} in English`, async () => {
        const logs = h.logs.length;
        const res = await attemptSignIn(h, c.email, 'idp' in c ? { idp: c.idp } : {}, {
          'accept-language': 'ja,en;q=0.5',
        });
        expect(res.status).to.equal(403);
        const page = await res.text();
        expect(page)
          .to.contain('<html lang="ja"')
          .and.contain('アクセスが拒否されました')
          .and.contain(c.japanese);
        expect(page).to.not.contain('cannot sign in').and.not.contain('sign-in did not say');
        expect(englishIn(page, 'ja')).to.deep.equal([]);
        const line = h.logs.slice(logs).find((l) => l['event'] === 'portal.refused');
        expect(line?.['reason']).to.equal(c.reason);
        expect(line?.['msg']).to.equal(meaningOf(c.reason));
      });
    }
  });

  // Every error page names what its log line carries: the reason code (untranslated, as the broker's
  // pages do) and the answer's own reference, so the help desk finds the line a customer saw (ADR 0316).
  describe('the reason code and reference on every error page', () => {
    const references = new Set<string>();
    /** The page's status and reference, and that every log line of that reference says its reason. */
    const expectReferenced = async (res: Response, status: number, reason: string) => {
      const page = await res.text();
      expect(res.status).to.equal(status);
      const shown = shownReference(page);
      expect(shown?.reason, 'the reason code on the page').to.equal(reason);
      const lines = h.logs.filter((l) => l['reference'] === shown!.id);
      expect(lines, 'log lines of the reference').to.not.deep.equal([]);
      expect(lines.map((l) => l['reason'])).to.deep.equal(lines.map(() => reason));
      expect(references.has(shown!.id), 'a reference of its own').to.equal(false);
      references.add(shown!.id);
      return page;
    };

    it('an address that leads nowhere: PORTAL_NOT_FOUND', async () => {
      await expectReferenced(await alice.fetch('/no-such-page'), 404, 'PORTAL_NOT_FOUND');
    });

    it('a form without its token: PORTAL_CSRF', async () => {
      const path = `/requests/${h.keyOf('Printer on 3rd floor jams every morning')}/comment`;
      await expectReferenced(await alice.post(path, { body: 'hi', _csrf: 'forged' }), 403, 'PORTAL_CSRF');
    });

    it('a form sent after the session ended: PORTAL_SESSION_MISSING, with the offer to sign in', async () => {
      const path = `/requests/${h.keyOf('Printer on 3rd floor jams every morning')}/comment`;
      const page = await expectReferenced(
        await new Browser(h.url).post(path, { body: 'hi', _csrf: 'x' }),
        401,
        'PORTAL_SESSION_MISSING',
      );
      expect(page).to.contain('class="button" href="/login?return');
    });

    it('a sign-in response no sign-in here started: PORTAL_LOGIN_FLOW_MISSING', async () => {
      const res = await new Browser(h.url).post('/saml/acs', { SAMLResponse: 'eA==' });
      await expectReferenced(res, 400, 'PORTAL_LOGIN_FLOW_MISSING');
    });

    it('Atlassian unavailable, and failing: its code in German, the label translated', async () => {
      const key = h.keyOf('Printer on 3rd floor jams every morning');
      const german = { headers: { 'accept-language': 'de' } };
      h.emulator.faults.set({ status: 503, retryAfterSeconds: 0, pathPrefix: '/rest/servicedeskapi/' });
      const page = await expectReferenced(
        await alice.fetch(`/requests/${key}`, german),
        503,
        'ATLASSIAN_UNAVAILABLE',
      );
      expect(page).to.contain('Referenz:');
      h.emulator.faults.set({ status: 500, pathPrefix: '/rest/servicedeskapi/' });
      await expectReferenced(await alice.fetch(`/requests/${key}`, german), 502, 'ATLASSIAN_ERROR');
    });

    it('a request Atlassian refused to create: the form again, its alert closed by the reference', async () => {
      const form = raiseRequestForm(h, alice, 'Get IT help');
      const fields = { ...(await form.fresh()), f_summary: 'Refused by the desk' };
      h.emulator.faults.set({ status: 403, method: 'POST', pathPrefix: '/rest/servicedeskapi/request' });
      const page = await expectReferenced(await form.post(fields), 403, 'ATLASSIAN_FORBIDDEN');
      expect(page).to.match(
        /<div class="alert" role="alert">[^<]*(<a [^>]*>[^<]*<\/a>)?<br><small>[^<]*<code data-reason>ATLASSIAN_FORBIDDEN<\/code> <code data-reference>[0-9a-f]+<\/code><\/small><\/div>/,
      );
      expect(page).to.contain('value="Refused by the desk"');
    });

    it('a comment Atlassian refused: the request page, its alert closed by the reference', async () => {
      const key = h.keyOf('Printer on 3rd floor jams every morning');
      const token = csrfOf((await alice.text(`/requests/${key}`)).body);
      h.emulator.faults.set({
        status: 403,
        method: 'POST',
        pathPrefix: `/rest/servicedeskapi/request/${key}/comment`,
      });
      const res = await alice.post(`/requests/${key}/comment`, { body: 'Refused comment', _csrf: token });
      const page = await expectReferenced(res, 403, 'ATLASSIAN_FORBIDDEN');
      expect(page).to.match(
        /<p class="alert" role="alert">[^<]*<br><small>[^<]*<code data-reason>ATLASSIAN_FORBIDDEN<\/code> <code data-reference>[0-9a-f]+<\/code><\/small><\/p>/,
      );
    });

    it('shows no reference on a page that is no refusal', async () => {
      expect(shownReference((await alice.text('/')).body)).to.equal(undefined);
      expect(shownReference((await new Browser(h.url).text('/signed-out')).body)).to.equal(undefined);
    });
  });
});

describe('portal: the tenant’s own upload limits, said in German', () => {
  let h: Harness;
  let alice: Browser;
  useHarness(
    async (started) => {
      h = started;
      alice = await signIn(h, 'alice@acme.test');
    },
    { portal: { limits: { maxUploadBytes: 2_000_000, maxConcurrentUploads: 1 } } },
  );

  it('names the limit beside the file input and in the refusal of a larger file', async () => {
    const key = h.keyOf('Printer on 3rd floor jams every morning');
    const de = { 'accept-language': 'de' };
    const page = await (await alice.fetch(`/requests/${key}`, { headers: de })).text();
    expect(page).to.contain('<label for="att-file">Datei anhängen (bis 2 MB)</label>');
    const body = new FormData();
    body.append('_csrf', csrfOf(page));
    body.append('attachment', new Blob([new Uint8Array(2_000_001)]), 'scan.pdf');
    const res = await alice.fetch(`/requests/${key}/attachment`, {
      method: 'POST',
      body,
      headers: { origin: h.url, ...de },
    });
    expect(res.status).to.equal(413);
    const refused = await res.text();
    expect(refused).to.contain(
      'role="alert">scan.pdf ist größer als 2 MB; Dateien dürfen höchstens 2 MB groß sein.',
    );
    expect(englishIn(refused, 'de')).to.deep.equal([]);
  });

  it('says in German that every upload slot is taken, while another upload holds the only one', async () => {
    const key = h.keyOf('Printer on 3rd floor jams every morning');
    const path = `/requests/${key}/attachment`;
    const token = csrfOf((await alice.text(`/requests/${key}`)).body);
    // The previous test's upload gives its slot back after its answer, once its files are removed
    // (upload-form.ts): until then the held upload below would itself be refused as busy.
    await eventually(async () => h.app.uploads.stats.active === 0, 'no upload in flight before the held one');
    // An upload whose body the test ends: it holds the tenant's one slot until then.
    const held = postHeldUpload(alice, path, {
      origin: h.url,
      fields: { _csrf: token },
      fileName: 'slow.txt',
    });
    await eventually(async () => h.app.uploads.stats.active === 1, 'the held upload to have the slot');
    const body = new FormData();
    body.append('_csrf', token);
    body.append('attachment', new Blob(['second']), 'second.txt');
    const busy = await alice.fetch(path, {
      method: 'POST',
      body,
      headers: { origin: h.url, 'accept-language': 'de' },
    });
    held.finish();
    expect(busy.status).to.equal(503);
    expect(busy.headers.get('retry-after')).to.equal('5');
    const page = await busy.text();
    expect(page).to.contain(
      'Gerade werden viele Dateien hochgeladen. Bitte versuchen Sie es in 5 Sekunden erneut.',
    );
    expect(englishIn(page, 'de')).to.deep.equal([]);
    expect((await held.answer).status, 'the held upload completes').to.equal(303);
  });
});

describe('portal: the text of every code a customer can meet', () => {
  // The parameters the portal's errors and form checks carry (JsmSsoError.params, FieldProblem).
  const params = {
    field: 'Budget (EUR)',
    max: 5,
    maxBytes: 10_485_760,
    filename: 'run.exe',
    seconds: 5,
    detail: 'Summary: required',
  };
  it('is a whole sentence in every language, each argument filled', () => {
    expect(Object.keys(PROBLEM_TEXT)).to.include.members([
      ...Object.keys(PORTAL_CODES),
      ...Object.keys(ATLASSIAN_CODES),
    ]);
    for (const locale of LOCALES) {
      const i18n = createTranslator({ locale, timeZone: 'UTC' });
      for (const code of Object.keys(PROBLEM_TEXT)) {
        const text = problemText(i18n, { code, params });
        expect(text, `${locale} ${code}`).to.not.match(/[{}]|^$/);
        expect(text, `${locale} ${code}`).to.not.equal(problemKey(code));
      }
    }
  });

  it('says the general “try again later” for a code of another part', () => {
    const de = createTranslator({ locale: 'de', timeZone: 'UTC' });
    expect(problemText(de, { code: 'FLOW_STORE_UNAVAILABLE', params: {} })).to.equal(
      'Bitte versuchen Sie es später noch einmal.',
    );
  });
});

describe('testkit: English from the catalogue on a translated page', () => {
  it('finds a message left in English, not names or values', () => {
    const page =
      '<p>Dateien dieses Typs können nicht angehängt werden.</p><p role="alert">Files of this type cannot be attached (run.exe).</p><footer>Jira Service Management</footer>';
    expect(englishIn(page, 'de')).to.deep.equal(['Files of this type cannot be attached']);
    expect(englishIn('<p>Report a broken laptop</p>', 'de')).to.deep.equal([]);
  });
});
