import { join } from 'node:path';
import { expect } from 'chai';
import {
  catalogueOf,
  createTranslator,
  type MessageKey,
  type SupportedLocale,
} from '../../common/i18n/index.js';
import { packageRoot } from '../../common/paths.js';
import { Browser, pageReason, portalAuthnRequestUrl } from '../../testkit/broker-harness.js';
import { rawTextIn } from '../../testkit/raw-text.js';
import { readableText, wordsOutsideCatalogue } from '../../testkit/spoken-language.js';
import { startTwoIdpBroker, type TwoIdpBroker } from './fake-oidc.js';

/**
 * The broker's pages in the language of the person (ADR 0097): the portal's hint in its
 * AuthnRequest, else the browser's Accept-Language, else English; every word from the catalogue.
 */
describe('broker: pages speak the language of the help center the person came from', () => {
  let stack: TwoIdpBroker;
  const SITE = 'Acme Desk';
  const IDP_NAMES = ['alpha login', 'beta login'];

  before(async () => {
    stack = await startTwoIdpBroker({}, (spec) => {
      spec.portal.title = SITE;
      // beta's IdP cannot be reached: choosing it shows the "temporarily unavailable" page.
      spec.identityProviders[1].oidc.issuer = 'http://127.0.0.1:9';
    });
  });
  after(async () => stack.close());

  /** A signed AuthnRequest from the portal, with its language hint when given. */
  const authnRequestUrl = (options: { uiLocales?: string[]; isPassive?: boolean } = {}) =>
    portalAuthnRequestUrl(stack.broker.url, stack.pki, options);

  /** The page is in `locale` from its lang attribute to its last word, and says what `expected` says. */
  async function expectSpoken(
    response: Response,
    locale: SupportedLocale,
    expected: (MessageKey | [MessageKey, Record<string, string>])[],
  ): Promise<string> {
    const page = await response.text();
    expect(response.headers.get('content-language')).to.equal(locale);
    expect(response.headers.get('vary')).to.include('Accept-Language');
    expect(page).to.include(`<html lang="${locale}" dir="ltr">`);
    const { t } = createTranslator({ locale, timeZone: 'UTC' });
    const text = readableText(page);
    for (const item of expected) {
      const [key, values] = typeof item === 'string' ? [item, {}] : item;
      expect(text, key).to.include(t(key, values));
    }
    // Not the catalogue's to translate: the tenant's name, the IdPs' names, the reason code.
    let rest = text;
    for (const own of [SITE, ...IDP_NAMES, pageReason(page) ?? '']) rest = rest.split(own).join(' ');
    expect(wordsOutsideCatalogue(rest, locale), `untranslated words in ${rest}`).to.deep.equal([]);
    if (locale === 'ja') expect(rest.match(/[A-Za-z]+/g), 'Latin letters on a Japanese page').to.equal(null);
    return page;
  }

  const csrfOf = (page: string) => /name="csrf" value="([^"]+)"/.exec(page)![1]!;

  for (const [locale, acceptLanguage] of [
    ['de', 'de-AT,de;q=0.9,en;q=0.5'],
    ['ja', 'ja-JP,ja;q=0.9,en;q=0.5'],
  ] as const) {
    describe(`to a browser that asks for ${locale}`, () => {
      const headers = { 'accept-language': acceptLanguage };

      it('shows the IdP chooser, and the notice for an e-mail domain no IdP speaks for', async () => {
        const browser = new Browser(headers);
        const choice = await browser.request(authnRequestUrl());
        expect(choice.status).to.equal(200);
        const page = await expectSpoken(choice, locale, [
          ['broker.choose.heading', { site: SITE }],
          'broker.choose.email',
          'broker.continue',
          'broker.choose.or',
          ['broker.backTo', { site: SITE }],
        ]);
        const notice = await browser.request(`${stack.broker.url}/saml/choose`, {
          form: { csrf: csrfOf(page), email: 'someone@elsewhere.test' },
        });
        expect(notice.status).to.equal(200);
        expect(
          await expectSpoken(notice, locale, ['broker.choose.noMethodForDomain', 'broker.choose.email']),
        ).to.include('<p role="alert">');
      });

      it('refuses in the language: an unknown address, an expired sign-in, a form from elsewhere', async () => {
        const missing = await fetch(`${stack.broker.url}/nothing-here`, { headers });
        expect(missing.status).to.equal(404);
        const notFound = await expectSpoken(missing, locale, [
          'broker.refused.title',
          'broker.refused.notFound',
          'message.reference',
        ]);
        expect(pageReason(notFound)).to.equal('NOT_FOUND');

        const expired = await new Browser(headers).request(`${stack.broker.url}/saml/choose`, {
          form: { csrf: 'x', idp: 'alpha' },
        });
        expect(expired.status).to.equal(400);
        expect(pageReason(await expectSpoken(expired, locale, ['broker.refused.expired']))).to.equal(
          'FLOW_UNKNOWN',
        );

        const browser = new Browser(headers);
        await browser.request(authnRequestUrl());
        const forged = await browser.request(`${stack.broker.url}/saml/choose`, {
          form: { csrf: 'not-the-token', idp: 'alpha' },
        });
        expect(forged.status).to.equal(403);
        expect(pageReason(await expectSpoken(forged, locale, ['broker.refused.form']))).to.equal(
          'CSRF_TOKEN_INVALID',
        );
      });

      it('says a sign-out that is no longer pending could not be completed', async () => {
        const late = await fetch(`${stack.broker.url}/oidc/logout-callback?state=long-gone`, { headers });
        expect(late.status).to.equal(400);
        const page = await expectSpoken(late, locale, [
          'broker.refused.signOutTitle',
          'broker.refused.signOutExpired',
        ]);
        expect(pageReason(page)).to.equal('LOGOUT_STATE_UNKNOWN');
      });

      it('says sign-in is unavailable when the chosen IdP cannot be reached', async () => {
        const browser = new Browser(headers);
        const page = await (await browser.request(authnRequestUrl())).text();
        const down = await browser.request(`${stack.broker.url}/saml/choose`, {
          form: { csrf: csrfOf(page), idp: 'beta' },
        });
        expect(down.status).to.equal(502);
        await expectSpoken(down, locale, ['broker.unavailable.title', 'broker.unavailable.message']);
      });

      it('tells a browser without scripts how to go on from the auto-submitting form', async () => {
        // A passive request with two IdPs is answered NoPassive at once, through the POST binding.
        const post = await new Browser(headers).request(authnRequestUrl({ isPassive: true }));
        expect(post.status).to.equal(200);
        const page = await expectSpoken(post, locale, ['broker.post.title', 'broker.post.noScript']);
        expect(page).to.include(`<noscript><p>${catalogueOf(locale)['broker.post.noScript']}</p></noscript>`);
      });
    });
  }

  it('follows the portal’s language over the browser’s, on every page of the flow', async () => {
    const browser = new Browser({ 'accept-language': 'de' });
    const choice = await browser.request(authnRequestUrl({ uiLocales: ['ja'] }));
    const page = await expectSpoken(choice, 'ja', [['broker.choose.heading', { site: SITE }]]);
    // Later requests of the flow carry no hint: the flow remembers it, refusals included.
    const notice = await browser.request(`${stack.broker.url}/saml/choose`, {
      form: { csrf: csrfOf(page), email: 'someone@elsewhere.test' },
    });
    await expectSpoken(notice, 'ja', ['broker.choose.noMethodForDomain']);
    const forged = await browser.request(`${stack.broker.url}/saml/choose`, {
      form: { csrf: 'not-the-token', idp: 'alpha' },
    });
    await expectSpoken(forged, 'ja', ['broker.refused.form']);
    // Outside the flow the browser's language is back.
    await expectSpoken(await browser.request(`${stack.broker.url}/nothing-here`), 'de', [
      'broker.refused.notFound',
    ]);
  });

  it('takes the portal’s first language it offers (de-CH is German), and ignores one it does not offer', async () => {
    const hinted = await new Browser({ 'accept-language': 'fr' }).request(
      authnRequestUrl({ uiLocales: ['tlh', 'de-CH', 'ja'] }),
    );
    await expectSpoken(hinted, 'de', ['broker.choose.or']);
    const unknown = await new Browser({ 'accept-language': 'ja' }).request(
      authnRequestUrl({ uiLocales: ['tlh'] }),
    );
    await expectSpoken(unknown, 'ja', ['broker.choose.or']);
  });

  it('writes no raw text into a page: every word a person reads comes from the catalogue', () => {
    // The files that decide what a page says (metric help and log text elsewhere are not read by people).
    const files = [
      'broker/pages.ts',
      'broker/app.ts',
      'broker/refusal-text.ts',
      'broker/backends/saml-backend.ts',
    ];
    const found = files.flatMap((f) =>
      rawTextIn(join(packageRoot(), f)).map((r) => `${f}:${r.line} ${r.text}`),
    );
    expect(found).to.deep.equal([]);
  });

  it('speaks English to a browser that names no language it offers', async () => {
    const choice = await new Browser({ 'accept-language': 'tlh, pt;q=0.5' }).request(authnRequestUrl());
    await expectSpoken(choice, 'en', [['broker.choose.heading', { site: SITE }]]);
  });
});
