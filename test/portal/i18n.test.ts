// The portal speaks the customer's language: chosen from Accept-Language, changed with the
// switcher (a cookie with a locale tag only), with lang and dir on every page.
import { expect } from 'chai';
import { html, type SafeHtml } from '../../common/http/html.js';
import { createTranslator } from '../../common/i18n/index.js';
import { inflateRedirectPayload } from '../../common/saml/deflate.js';
import { cookiePolicy } from '../../portal/cookies.js';
import { richText } from '../../portal/pages/rich-text.js';
import { Browser, type Harness, reasons, signIn, useHarness } from '../../testkit/portal-harness.js';

describe('portal: catalogue messages with markup', () => {
  it('puts the page markup around the translated words and escapes every value', () => {
    const de = createTranslator({ locale: 'de', timeZone: 'UTC' });
    const link = (text: SafeHtml) => html`<a href="/desk/1">${text}</a>`;
    expect(richText(de, 'article.stillNeedHelp', { link }, { desk: '<b>IT & Co</b>' }).value).to.equal(
      'Brauchen Sie weitere Hilfe? <a href="/desk/1">Stellen Sie eine Anfrage bei &lt;b&gt;IT &amp; Co&lt;/b&gt;</a>.',
    );
  });
});

describe('portal: language and time zone', () => {
  let h: Harness;
  let alice: Browser;
  useHarness(async (started) => {
    h = started;
    alice = await signIn(h, 'alice@acme.test');
  });

  const page = async (browser: Browser, path: string, headers: Record<string, string> = {}) => {
    const res = await browser.fetch(path, { headers });
    return { res, body: await res.text() };
  };

  it('answers in the best Accept-Language match, with lang, dir and Content-Language', async () => {
    for (const [accept, locale, skip] of [
      ['de-CH,de;q=0.9,en;q=0.5', 'de', 'Zum Inhalt springen'],
      ['fr-FR', 'fr', 'Aller au contenu'],
      ['ja', 'ja', 'コンテンツへスキップ'],
      ['pt-BR,es;q=0.8', 'en', 'Skip to content'],
    ] as const) {
      const { res, body } = await page(alice, '/profile', { 'accept-language': accept });
      expect(res.status, accept).to.equal(200);
      expect(body, accept).to.contain(`<html lang="${locale}" dir="ltr" data-time-zone="UTC">`);
      expect(body, accept).to.contain(skip);
      expect(res.headers.get('content-language'), accept).to.equal(locale);
      expect(res.headers.get('vary'), accept).to.match(/Accept-Language/i);
    }
  });

  it('speaks the customer’s language on the raise-a-request form and in refusals, reason codes unchanged', async () => {
    const form = await page(alice, '/desk/1/create/1', { 'accept-language': 'de' });
    expect(form.res.status).to.equal(200);
    expect(form.body).to.contain('>Senden</button>').and.contain('>Abbrechen</a>');
    const from = h.logs.length;
    const missing = await page(alice, '/desk/1/create/999999', { 'accept-language': 'fr' });
    expect(missing.res.status).to.equal(404);
    expect(missing.body).to.contain('Nous n’avons pas trouvé ce type de demande.');
    expect(reasons(h, from)).to.include('PORTAL_REQUEST_TYPE_NOT_FOUND');
  });

  it('keeps the switcher choice in a locale-only cookie and returns to the page', async () => {
    const browser = new Browser(h.url);
    for (const [k, v] of alice.cookies) browser.cookies.set(k, v);
    const res = await browser.fetch('/locale?lang=ja&return=%2Frequests%3Fstatus%3Dopen');
    expect(res.status).to.equal(303);
    expect(res.headers.get('location')).to.equal('/requests?status=open');
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith(`${cookiePolicy(h.url).locale}=`));
    expect(cookie).to.equal(
      `${cookiePolicy(h.url).locale}=ja; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000`,
    );
    const { body } = await page(browser, '/profile', { 'accept-language': 'de' });
    expect(body).to.contain('<html lang="ja"');
  });

  it('tells the broker the language of its pages in the signed AuthnRequest, so the sign-in speaks it too', async () => {
    const browser = new Browser(h.url);
    browser.cookies.set(cookiePolicy(h.url).locale, 'ja');
    const res = await browser.fetch('/login', { headers: { 'accept-language': 'de' } });
    expect(res.status).to.equal(303);
    const xml = inflateRedirectPayload(
      new URL(res.headers.get('location')!).searchParams.get('SAMLRequest')!,
    );
    expect(xml).to.contain(
      '<samlp:Extensions><jsmsso:UILocales xmlns:jsmsso="urn:jsm-sso:saml:extensions">ja</jsmsso:UILocales></samlp:Extensions>',
    );
  });

  it('offers every language in its own name, marking the current one, linking back to this page', async () => {
    const { body } = await page(alice, '/requests?status=closed', { 'accept-language': 'de' });
    const back = encodeURIComponent('/requests?status=closed');
    expect(body).to.contain(`<nav aria-label="Sprache">`);
    expect(body).to.contain(
      `<a href="/locale?lang=de&amp;return=${back}" lang="de" hreflang="de" aria-current="true"><strong>Deutsch</strong></a>`,
    );
    for (const name of ['English', 'Français', '日本語']) expect(body).to.contain(`>${name}</a>`);
  });

  it('renders the RTL pseudo-locale right to left', async () => {
    const browser = new Browser(h.url);
    browser.cookies.set(cookiePolicy(h.url).locale, 'ar-XB');
    const { body } = await page(browser, '/no-such-page');
    expect(body).to.contain('<html lang="ar-XB" dir="rtl"');
  });

  it('refuses a locale it does not offer with PORTAL_LOCALE_UNKNOWN, setting nothing', async () => {
    const from = h.logs.length;
    const res = await alice.fetch('/locale?lang=xx&return=/', { headers: { 'accept-language': 'fr' } });
    expect(res.status).to.equal(400);
    expect(res.headers.getSetCookie()).to.deep.equal([]);
    expect(await res.text()).to.contain('Langue non disponible');
    expect(reasons(h, from)).to.include('PORTAL_LOCALE_UNKNOWN');
  });

  it('never leaves the portal from the switcher (return path checked)', async () => {
    for (const evil of ['//evil.test/', 'https://evil.test/', '/\\evil.test']) {
      const res = await new Browser(h.url).fetch(`/locale?lang=de&return=${encodeURIComponent(evil)}`);
      expect(res.status, evil).to.equal(303);
      expect(res.headers.get('location'), evil).to.equal('/');
    }
  });

  it('renders dates in the time zone the browser reported, and UTC for one it does not know', async () => {
    const browser = new Browser(h.url);
    for (const [k, v] of alice.cookies) browser.cookies.set(k, v);
    browser.cookies.set(cookiePolicy(h.url).timeZone, encodeURIComponent('Asia/Tokyo'));
    let { body } = await page(browser, '/requests', { 'accept-language': 'ja' });
    expect(body).to.contain('data-time-zone="Asia/Tokyo"');
    expect(body).to.match(/<time datetime="[^"]+Z" data-dt>\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d JST<\/time>/);
    browser.cookies.set(cookiePolicy(h.url).timeZone, encodeURIComponent('Nowhere/Land"><script>'));
    ({ body } = await page(browser, '/requests'));
    expect(body).to.contain('data-time-zone="UTC"');
  });
});
