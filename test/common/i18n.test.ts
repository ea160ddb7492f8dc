// The message catalogues and the formatting every page uses (common/i18n).
import { type MessageFormatElement, parse, TYPE } from '@formatjs/icu-messageformat-parser';
import { createIntl } from '@formatjs/intl';
import { expect } from 'chai';
import {
  availableLocales,
  catalogueOf,
  createTranslator,
  LOCALES,
  negotiateLocale,
  PSEUDO_LOCALES,
  validTimeZone,
} from '../../common/i18n/index.js';
import { en, type MessageKey } from '../../common/i18n/messages/en.js';

/** The argument names and tag names a message uses: a translation must use the same ones. */
function placeholders(elements: MessageFormatElement[], into = new Set<string>()): Set<string> {
  for (const e of elements) {
    if (e.type === TYPE.literal || e.type === TYPE.pound) continue;
    into.add(e.type === TYPE.tag ? `<${e.value}>` : `{${e.value}}`);
    if (e.type === TYPE.tag) placeholders(e.children, into);
    if (e.type === TYPE.plural || e.type === TYPE.select)
      for (const option of Object.values(e.options)) placeholders(option.value, into);
  }
  return into;
}

/** The words a message says itself, in every branch of its plurals and selects and inside its tags. */
function literalText(elements: MessageFormatElement[]): string {
  return elements
    .map((e) => {
      if (e.type === TYPE.literal) return e.value;
      if (e.type === TYPE.tag) return literalText(e.children);
      if (e.type === TYPE.plural || e.type === TYPE.select)
        return Object.values(e.options)
          .map((option) => literalText(option.value))
          .join(' ');
      return ' ';
    })
    .join('');
}

describe('i18n: message catalogues', () => {
  const englishKeys = Object.keys(en).sort();

  for (const locale of LOCALES) {
    it(`${locale} has every English key and no other`, () => {
      const keys = Object.keys(catalogueOf(locale)).sort();
      expect(
        englishKeys.filter((k) => !keys.includes(k)),
        'missing',
      ).to.deep.equal([]);
      expect(
        keys.filter((k) => !englishKeys.includes(k)),
        'unknown',
      ).to.deep.equal([]);
    });

    it(`${locale}: every message is valid ICU with the English arguments and tags`, () => {
      const catalogue = catalogueOf(locale);
      for (const key of englishKeys) {
        const text = catalogue[key as keyof typeof en];
        expect(text, key).to.be.a('string').and.not.equal('');
        const mine = [...placeholders(parse(text))].sort();
        const english = [...placeholders(parse(en[key as keyof typeof en]))].sort();
        expect(mine, key).to.deep.equal(english);
      }
    });
  }

  it('translations are not English left in place (beyond names and shared words)', () => {
    const same = (locale: (typeof LOCALES)[number]) =>
      englishKeys.filter((k) => {
        const text = en[k as keyof typeof en];
        return (
          /[a-z]{4}/i.test(text.replace(/\{[^}]*\}|<\/?\w+>/g, '')) &&
          catalogueOf(locale)[k as keyof typeof en] === text
        );
      });
    // Words that are the same in that language (checked by hand); product names in every language.
    const shared: Record<'de' | 'fr' | 'ja', string[]> = {
      de: [
        'requests.status',
        'requests.column.status',
        'request.details',
        'request.status',
        'activity.name',
        'profile.name',
      ],
      fr: ['requests.pages', 'request.notifications', 'activity.sessions'],
      ja: [],
    };
    for (const locale of ['de', 'fr', 'ja'] as const) {
      const left = same(locale).filter((k) => k !== 'layout.poweredBy' && !shared[locale].includes(k));
      expect(left, locale).to.deep.equal([]);
    }
  });

  it('fr: a non-breaking space, never a breaking one, before : ; ? ! and inside « »', () => {
    const fr = catalogueOf('fr');
    const wrong = englishKeys.filter((k) => {
      const text = fr[k as keyof typeof en];
      return / [:;?!»]|« /.test(text) || /[^\s\u00a0\u202f][;?!»]|«[^\s\u00a0\u202f]/.test(text);
    });
    expect(wrong).to.deep.equal([]);
  });

  /** A Japanese message as it reads: without a URL's scheme (its colon is no punctuation) and without tags. */
  const japaneseText = (k: string) =>
    catalogueOf('ja')
      [k as keyof typeof en].replace(/https?:\/\//g, '')
      .replace(/<\/?\w+>/g, '');

  it('ja: full-width （） ？ ！ ： in Japanese text, never the half-width forms', () => {
    expect(englishKeys.filter((k) => /[()?!:]/.test(japaneseText(k)))).to.deep.equal([]);
  });

  // Japanese is written without spaces; full-width punctuation carries its own. A space is kept only
  // between Japanese and a name, number or argument in Latin letters ("{site} へようこそ", "1 分").
  it('ja: no ASCII space between Japanese phrases, nor beside full-width punctuation', () => {
    const japanese = '\\p{Script=Hiragana}\\p{Script=Katakana}\\p{Script=Han}ー';
    const punctuation = '。、？！：（）「」';
    const spaced = new RegExp(
      `[${japanese}${punctuation}] [${japanese}${punctuation}]|[${punctuation}] | [${punctuation}]`,
      'u',
    );
    expect(englishKeys.filter((k) => spaced.test(japaneseText(k)))).to.deep.equal([]);
  });

  // Latin letters in Japanese text are names (Atlassian, Jira Service Management), abbreviations (ID, IP,
  // URL schemes) or an argument: an English word beside them is one left untranslated.
  it('ja: no English word left in Japanese text', () => {
    const names = new Set(['atlassian', 'jira', 'service', 'management', 'id', 'ip', 'https', 'http', 'vpn']);
    const english = (k: string) =>
      (literalText(parse(catalogueOf('ja')[k as keyof typeof en])).match(/[a-z]{2,}/gi) ?? []).filter(
        (w) => !names.has(w.toLowerCase()),
      );
    expect(englishKeys.filter((k) => english(k).length > 0).map((k) => `${k}: ${english(k)}`)).to.deep.equal(
      [],
    );
  });

  // One name for each thing in each language. The help center is "Hilfecenter", as Atlassian's own German
  // Jira Service Management calls it (its customer-access setting: "Zugriff auf das Hilfecenter").
  it('one word for each thing: the catalogue’s term, not a stray one', () => {
    const stray: Record<'de' | 'fr' | 'ja', [RegExp, string][]> = {
      de: [
        [/Help[ -]?[Cc]enter|Hilfe-Center/, 'Hilfecenter'],
        [/Administration\b/, 'Administrator'],
        [/\blabel/i, 'Stichwort'],
      ],
      fr: [[/\betiquette/i, 'étiquette']],
      ja: [],
    };
    for (const [locale, terms] of Object.entries(stray) as ['de' | 'fr' | 'ja', [RegExp, string][]][]) {
      const catalogue = catalogueOf(locale);
      const wrong = englishKeys.flatMap((k) =>
        terms
          .filter(([word]) => word.test(catalogue[k as keyof typeof en]))
          .map(([, term]) => `${k} (${term})`),
      );
      expect(wrong, locale).to.deep.equal([]);
    }
  });

  it('de: Sie-form throughout, never du', () => {
    const de = catalogueOf('de');
    expect(
      englishKeys.filter((k) => /\b(du|dich|dir|dein\w*|euch|euer\w*)\b/i.test(de[k as keyof typeof en])),
    ).to.deep.equal([]);
  });

  // A full sentence after a colon starts with a capital in German. Where that capital would turn "ihr"
  // (its) into "Ihr" (your), the sentence is said another way.
  it('de: a sentence after a colon starts with a capital', () => {
    const de = catalogueOf('de');
    expect(englishKeys.filter((k) => /: \p{Ll}/u.test(de[k as keyof typeof en]))).to.deep.equal([]);
  });

  // "Could not confirm whether" must not read as "was not done" (send again) nor as "was done"
  // (leave it): each language asks the question the same way in every such message.
  it('a could-not-confirm message says whether, in the same words in every language', () => {
    const whether = {
      de: 'Wir konnten nicht bestätigen, ob ',
      fr: 'Nous n’avons pas pu vérifier si ',
      ja: 'かどうかを確認できませんでした',
    };
    const keys = englishKeys.filter((k) =>
      en[k as keyof typeof en].startsWith('We could not confirm whether '),
    );
    expect(keys).to.include.members([
      'request.refused.commentUnconfirmed',
      'request.refused.shareUnconfirmed',
    ]);
    for (const [locale, words] of Object.entries(whether) as ['de' | 'fr' | 'ja', string][]) {
      const catalogue = catalogueOf(locale);
      expect(
        keys.filter((k) => !catalogue[k as keyof typeof en].includes(words)),
        locale,
      ).to.deep.equal([]);
    }
  });

  it('the pseudo-locales keep every argument, plural and tag of English', () => {
    for (const locale of PSEUDO_LOCALES) {
      const catalogue = catalogueOf(locale);
      for (const key of englishKeys) {
        const mine = [...placeholders(parse(catalogue[key as keyof typeof en]))].sort();
        expect(mine, `${locale} ${key}`).to.deep.equal(
          [...placeholders(parse(en[key as keyof typeof en]))].sort(),
        );
      }
    }
    expect(catalogueOf('en-XA')['layout.requests']).to.match(/^\[Ŕéǫûéšţš /);
    expect(catalogueOf('ar-XB')['layout.requests']).to.equal('\u202eRequests\u202c');
  });
});

describe('i18n: choosing the locale', () => {
  const available = [...LOCALES, ...PSEUDO_LOCALES];
  const cases: [string | undefined, string | undefined, string][] = [
    [undefined, 'de-AT,de;q=0.9,en;q=0.8', 'de'],
    [undefined, 'fr-CA', 'fr'],
    [undefined, 'ja-JP,ja;q=0.9', 'ja'],
    [undefined, 'es-ES,es;q=0.9', 'en'],
    [undefined, 'es, fr;q=0.5, de;q=0.7', 'de'],
    [undefined, undefined, 'en'],
    [undefined, 'de;q=0, en', 'en'],
    [undefined, 'ar-XB', 'en'],
    ['fr', 'de', 'fr'],
    ['ar-XB', 'de', 'ar-XB'],
    ['xx', 'de', 'de'],
    ['../../etc', 'ja', 'ja'],
  ];
  for (const [chosen, acceptLanguage, expected] of cases) {
    it(`cookie ${chosen ?? '-'}, Accept-Language ${acceptLanguage ?? '-'} → ${expected}`, () => {
      expect(negotiateLocale({ chosen, acceptLanguage, available })).to.equal(expected);
    });
  }

  it('offers a pseudo-locale only where it is enabled', () => {
    expect(negotiateLocale({ chosen: 'en-XA', acceptLanguage: 'de', available: LOCALES })).to.equal('de');
  });

  it('takes an IANA time zone the runtime knows, and UTC for anything else', () => {
    expect(validTimeZone('Europe/Berlin')).to.equal('Europe/Berlin');
    expect(validTimeZone('Asia/Tokyo')).to.equal('Asia/Tokyo');
    for (const bad of [undefined, '', 'Mars/Olympus', 'Europe/Berlin; Path=/', 'x'.repeat(100)]) {
      expect(validTimeZone(bad), String(bad)).to.equal('UTC');
    }
  });
});

describe('i18n: dates, times and sizes in the customer locale and zone', () => {
  const at = '2026-12-02T09:30:00.000Z';
  const now = () => Date.parse('2026-12-02T12:30:00.000Z');

  it('formats an instant in the locale and time zone, naming the zone', () => {
    expect(createTranslator({ locale: 'en', timeZone: 'UTC' }).dateTime(at)).to.equal(
      'Dec 2, 2026, 09:30 AM UTC',
    );
    expect(createTranslator({ locale: 'de', timeZone: 'Europe/Berlin' }).dateTime(at)).to.equal(
      '2. Dez. 2026, 10:30 MEZ',
    );
    expect(createTranslator({ locale: 'fr', timeZone: 'Europe/Paris' }).dateTime(at)).to.equal(
      '2 déc. 2026, 10:30 UTC+1',
    );
    expect(createTranslator({ locale: 'ja', timeZone: 'Asia/Tokyo' }).dateTime(at)).to.equal(
      '2026年12月2日 18:30 JST',
    );
  });

  it('says how long ago, in words of the locale', () => {
    const of = (locale: 'en' | 'de' | 'fr' | 'ja') => createTranslator({ locale, timeZone: 'UTC', now });
    expect(of('en').relative(at)).to.equal('3 hours ago');
    expect(of('de').relative(at)).to.equal('vor 3 Stunden');
    expect(of('fr').relative(at)).to.equal('il y a 3 heures');
    expect(of('ja').relative(at)).to.equal('3 時間前');
    expect(of('en').relative('2026-12-01T12:00:00.000Z')).to.equal('yesterday');
    expect(of('de').relative('2026-11-20T12:00:00.000Z')).to.equal('vor 2 Wochen');
    expect(of('en').relative('2026-12-02T12:29:50.000Z')).to.equal('10 seconds ago');
  });

  it('shows an all-day date as the same calendar day in every zone', () => {
    expect(createTranslator({ locale: 'en', timeZone: 'America/Los_Angeles' }).date('2026-12-24')).to.equal(
      'Dec 24, 2026',
    );
    expect(createTranslator({ locale: 'de', timeZone: 'Pacific/Kiritimati' }).date('2026-12-24')).to.equal(
      '24.12.2026',
    );
  });

  it('renders nothing for a missing or invalid date, never "Invalid Date"', () => {
    const t = createTranslator({ locale: 'en', timeZone: 'UTC' });
    expect([t.dateTime(undefined), t.dateTime('not a date'), t.relative(''), t.date('x')]).to.deep.equal([
      '',
      '',
      '',
      '',
    ]);
  });

  it('writes file sizes in the locale units', () => {
    expect(createTranslator({ locale: 'en', timeZone: 'UTC' }).fileSize(532)).to.equal('532 bytes');
    expect(createTranslator({ locale: 'en', timeZone: 'UTC' }).fileSize(2_345_678)).to.equal('2.3 MB');
    expect(createTranslator({ locale: 'de', timeZone: 'UTC' }).fileSize(2_345_678)).to.equal('2,3 MB');
    expect(createTranslator({ locale: 'fr', timeZone: 'UTC' }).fileSize(12_000)).to.equal('12\u202fko');
  });

  it('fills a message with tags from the page, and arguments with plural rules', () => {
    const t = createTranslator({ locale: 'de', timeZone: 'UTC' });
    expect(t.t('layout.pageTitle', { page: 'Anfragen', site: 'Acme' })).to.equal('Anfragen - Acme');
    expect(t.dir).to.equal('ltr');
    expect(createTranslator({ locale: 'ar-XB', timeZone: 'UTC' }).dir).to.equal('rtl');
  });
});

describe('i18n: each message compiled once (ADR 0209)', () => {
  /** A value for every argument of a message: a number where it counts, a function for each tag. */
  function valuesFor(
    elements: MessageFormatElement[],
    into: Record<string, unknown> = {},
  ): Record<string, unknown> {
    for (const e of elements) {
      if (e.type === TYPE.literal || e.type === TYPE.pound) continue;
      if (e.type === TYPE.tag) {
        into[e.value] = (chunks: unknown[]) => `<${e.value}>${chunks.join('')}</${e.value}>`;
        valuesFor(e.children, into);
      } else if (e.type === TYPE.plural || e.type === TYPE.number) into[e.value] = 3;
      else if (e.type === TYPE.date || e.type === TYPE.time)
        into[e.value] = new Date(Date.UTC(2026, 11, 4, 23, 30));
      else into[e.value] = e.type === TYPE.select ? 'other' : `${e.value}-value`;
      if (e.type === TYPE.plural || e.type === TYPE.select)
        for (const option of Object.values(e.options)) valuesFor(option.value, into);
    }
    return into;
  }

  const TIME_ZONE = 'Asia/Tokyo';

  it('answers every message of every locale as FormatJS formatMessage does, filled and unfilled', () => {
    for (const locale of availableLocales(true)) {
      const messages = catalogueOf(locale);
      const reference = createIntl({
        locale,
        timeZone: TIME_ZONE,
        messages,
        onError: () => {},
      });
      const translator = createTranslator({ locale, timeZone: TIME_ZONE });
      for (const key of Object.keys(en) as MessageKey[]) {
        const values = valuesFor(parse(messages[key]));
        const expected = reference.formatMessage({ id: key }, values as never) as unknown;
        const tags = Object.fromEntries(Object.entries(values).filter(([, v]) => typeof v === 'function'));
        const plain = Object.fromEntries(Object.entries(values).filter(([, v]) => typeof v !== 'function'));
        const answer =
          Object.keys(tags).length > 0
            ? translator.rich(key, plain as never, tags as never)
            : translator.t(key, plain as never);
        expect(Array.isArray(answer) ? answer.join('') : answer, `${locale} ${key}`).to.equal(
          Array.isArray(expected) ? expected.join('') : expected,
        );
        // Unfilled: FormatJS's own fallback (the message as written), not an exception.
        expect(translator.t(key), `${locale} ${key} unfilled`).to.equal(reference.formatMessage({ id: key }));
      }
      expect(translator.t('no.such.key' as MessageKey)).to.equal('no.such.key');
    }
  });

  it('formats a message without serialising FormatJS formats into a memo key on every call', () => {
    const { t } = createTranslator({ locale: 'de', timeZone: TIME_ZONE });
    t('layout.pageTitle', { page: 'Anfragen', site: 'Acme' });
    const stringify = JSON.stringify;
    let serialised = 0;
    JSON.stringify = ((...args: Parameters<typeof stringify>) => {
      serialised++;
      return stringify(...args);
    }) as typeof stringify;
    try {
      for (let i = 0; i < 10; i++)
        expect(t('layout.pageTitle', { page: 'Anfragen', site: 'Acme' })).to.equal('Anfragen - Acme');
    } finally {
      JSON.stringify = stringify;
    }
    expect(serialised).to.equal(0);
  });
});
