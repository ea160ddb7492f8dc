import { expect } from 'chai';
import { type Browser, type Harness, signIn, useHarness } from '../../testkit/portal-harness.js';

/**
 * The help center announcement (spec.portal.announcement, ADR 0154): where native shows it (the
 * help center's home and each desk's page), in the customer's language when translated, as text.
 */
const MESSAGE =
  'Planned maintenance on Saturday, 10:00–12:00 UTC.\nRequests raised then are answered on Monday.';
const GERMAN = 'Geplante Wartung am Samstag, 10–12 Uhr UTC.';

describe('portal: the help center announcement', () => {
  let h: Harness;
  let alice: Browser;
  useHarness(
    async (started) => {
      h = started;
      alice = await signIn(h, 'alice@acme.test');
    },
    { portal: { announcement: { message: MESSAGE, translations: { de: GERMAN } } } },
  );
  const speak = async (lang: string) =>
    expect((await alice.fetch(`/locale?lang=${lang}&return=/`)).status).to.equal(303);
  afterEach(() => speak('en'));

  it('shows it on the home page and on each desk’s page, and not on her requests', async () => {
    const notice = `<h2 id="announcement-h">Announcement</h2><p>${MESSAGE}</p>`;
    expect((await alice.text('/')).body).to.include(notice);
    expect((await alice.text('/desk/1')).body).to.include(notice);
    expect((await alice.text('/desk/1?q=printer')).body).to.include(notice);
    expect((await alice.text('/requests')).body).to.not.include('Planned maintenance');
    expect((await alice.text(`/requests/${h.keyOf('Laptop screen flickers')}`)).body).to.not.include(
      'Planned maintenance',
    );
  });

  it('speaks her language where it is translated, and shows the message where it is not', async () => {
    await speak('de');
    const german = (await alice.text('/')).body;
    expect(german).to.include(`<h2 id="announcement-h">Ankündigung</h2><p>${GERMAN}</p>`);
    expect(german).to.not.include('Planned maintenance');
    await speak('fr');
    expect((await alice.text('/')).body).to.include(`<h2 id="announcement-h">Annonce</h2><p>${MESSAGE}</p>`);
  });
});

describe('portal: an announcement is text', () => {
  let alice: Browser;
  useHarness(
    async (h) => {
      alice = await signIn(h, 'alice@acme.test');
    },
    { portal: { announcement: { message: '<img src=x onerror=alert(1)>Maintenance & <b>outage</b>' } } },
  );

  it('shows markup in it as text, never as HTML', async () => {
    const page = (await alice.text('/')).body;
    expect(page).to.include(
      '<p>&lt;img src&#61;x onerror&#61;alert(1)&gt;Maintenance &amp; &lt;b&gt;outage&lt;/b&gt;</p>',
    );
    expect(page).to.not.include('<img src=x').and.not.include('<b>outage');
  });
});

describe('portal: without an announcement', () => {
  let alice: Browser;
  useHarness(async (h) => {
    alice = await signIn(h, 'alice@acme.test');
  });

  it('shows no notice', async () => {
    for (const path of ['/', '/desk/1']) {
      const page = (await alice.text(path)).body;
      expect(page, path).to.not.include('announcement-h');
    }
  });
});
