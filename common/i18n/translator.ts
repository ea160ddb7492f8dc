import { createIntl, createIntlCache, type IntlShape } from '@formatjs/intl';
import { type Formats, IntlMessageFormat } from 'intl-messageformat';
import { catalogueOf, directionOf, type Locale } from './locales.js';
import type { MessageKey } from './messages/en.js';

export type MessageValues = Record<string, string | number | Date>;

/**
 * One response's language: messages from the locale's catalogue (ICU MessageFormat through
 * FormatJS), and dates, relative times, numbers and sizes through `Intl` in the customer's locale
 * and time zone. Pages format with it; nothing else decides wording or date formats.
 */
export interface Translator {
  readonly locale: Locale;
  readonly dir: 'ltr' | 'rtl';
  /** IANA name; `UTC` until the browser has told us its zone (common/i18n/README.md). */
  readonly timeZone: string;
  t(key: MessageKey, values?: MessageValues): string;
  /**
   * A message with tags (`<link>...</link>`) filled by the caller: each tag's function gets the
   * tag's translated text and returns markup; the result alternates text and that markup.
   */
  rich<T>(
    key: MessageKey,
    values: MessageValues,
    tags: Record<string, (chunks: (string | T)[]) => T>,
  ): (string | T)[];
  /** Date and time, e.g. `2 Dec 2026, 09:30 CET`; empty for a missing or invalid value. */
  dateTime(value: string | Date | undefined): string;
  /** A date alone (an all-day field), e.g. `2 Dec 2026`, in the calendar the value names. */
  date(value: string | Date | undefined): string;
  /** Relative to now: `3 hours ago`, `yesterday`, `in 2 days`; empty for a missing value. */
  relative(value: string | Date | undefined): string;
  number(value: number): string;
  /** A file size in the locale's decimal units, as Atlassian shows them: `512 bytes`, `1.5 kB`, `10 MB`. */
  fileSize(bytes: number | undefined): string;
}

/** The options the browser script reuses, so the page reads the same before and after it runs. */
export const DATE_TIME_OPTIONS: Intl.DateTimeFormatOptions = {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  timeZoneName: 'short',
};

const cache = createIntlCache();

/**
 * A locale and time zone's formatting: FormatJS's, and each message compiled once. `formatMessage`
 * parses a message once too, but on every call it merges the formats with the time zone (twice) and
 * serialises them, with the message and its options, into the key of its memo: 20-45 µs a message
 * on the shared development machine, where the format itself takes about 1 µs, and a portal page
 * formats a hundred and more (docs/perf/README.md, ADR 0209).
 */
interface Formatting {
  intl: IntlShape;
  /**
   * The message compiled as `formatMessage` compiles it; undefined where FormatJS must decide (a key
   * not in the catalogue, a message that does not parse).
   */
  compiled(key: string): IntlMessageFormat | undefined;
}

const formattings = new Map<string, Formatting>();

function formattingFor(locale: Locale, timeZone: string): Formatting {
  const id = `${locale} ${timeZone}`;
  let formatting = formattings.get(id);
  if (!formatting) {
    const messages = catalogueOf(locale);
    const intl = createIntl(
      {
        locale,
        timeZone,
        messages,
        // A missing key is a defect the catalogue test catches; at run time the key itself shows.
        onError: () => {},
      },
      cache,
    );
    const formats = formatsIn(timeZone);
    const compiled = new Map<string, IntlMessageFormat | undefined>();
    formatting = {
      intl,
      compiled: (key) => {
        if (compiled.has(key)) return compiled.get(key);
        const message = Object.hasOwn(messages, key) ? (messages as Record<string, string>)[key] : undefined;
        let format: IntlMessageFormat | undefined;
        try {
          format = message
            ? new IntlMessageFormat(message, locale, formats, { formatters: intl.formatters })
            : undefined;
        } catch {
          format = undefined;
        }
        compiled.set(key, format);
        return format;
      },
    };
    formattings.set(id, formatting);
  }
  return formatting;
}

/**
 * The formats a message's `{when, date, short}` uses, in the response's time zone: what FormatJS's
 * `formatMessage` gives a message when the intl has a time zone and no formats of its own.
 */
function formatsIn(timeZone: string): Formats {
  const inZone = (named: Record<string, Intl.DateTimeFormatOptions>) =>
    Object.fromEntries(Object.entries(named).map(([name, options]) => [name, { timeZone, ...options }]));
  const { formats } = IntlMessageFormat;
  return { ...formats, date: inZone(formats.date), time: inZone(formats.time) };
}

const toDate = (value: string | Date | undefined): Date | undefined => {
  if (value === undefined || value === '') return undefined;
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d;
};

const RELATIVE_STEPS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['second', 60],
  ['minute', 60],
  ['hour', 24],
  ['day', 7],
  ['week', 4.35],
  ['month', 12],
  ['year', Number.POSITIVE_INFINITY],
];

export function createTranslator(options: {
  locale: Locale;
  timeZone: string;
  now?: () => number;
}): Translator {
  const { locale, timeZone } = options;
  const { intl, compiled } = formattingFor(locale, timeZone);
  const now = options.now ?? Date.now;
  // What FormatJS would answer for a message it cannot format (a value missing, of the wrong type):
  // its own fallback, reached through `formatMessage` itself.
  const format = (key: MessageKey, values: Record<string, unknown>): unknown => {
    const message = compiled(key);
    if (message) {
      try {
        return message.format(values as never);
      } catch {
        // formatMessage below fails the same way and answers with its fallback
      }
    }
    return intl.formatMessage({ id: key }, values as never);
  };
  return {
    locale,
    dir: directionOf(locale),
    timeZone,
    t: (key, values) => format(key, { ...values }) as string,
    rich: (key, values, tags) => {
      const out = format(key, { ...values, ...tags });
      return Array.isArray(out) ? out : [out as string];
    },
    dateTime: (value) => {
      const d = toDate(value);
      return d ? intl.formatDate(d, DATE_TIME_OPTIONS) : '';
    },
    date: (value) => {
      // An all-day value (`2026-12-24`) is a calendar date, the same wherever the customer is.
      const d = toDate(value);
      if (!d) return '';
      const allDay = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value);
      return intl.formatDate(d, { dateStyle: 'medium', ...(allDay ? { timeZone: 'UTC' } : {}) });
    },
    relative: (value) => {
      const d = toDate(value);
      if (!d) return '';
      let amount = (d.getTime() - now()) / 1000;
      for (const [unit, size] of RELATIVE_STEPS) {
        if (Math.abs(amount) < size) {
          return intl.formatRelativeTime(Math.round(amount), unit, { numeric: 'auto' });
        }
        amount /= size;
      }
      return '';
    },
    number: (value) => intl.formatNumber(value),
    fileSize: (bytes) => {
      if (bytes === undefined || !Number.isFinite(bytes) || bytes < 0) return '';
      const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte'] as const;
      let size = bytes;
      let unit = 0;
      while (size >= 1000 && unit < units.length - 1) {
        size /= 1000;
        unit++;
      }
      return intl.formatNumber(size, {
        style: 'unit',
        unit: units[unit]!,
        unitDisplay: unit === 0 ? 'long' : 'short',
        maximumFractionDigits: unit === 0 || size >= 10 ? 0 : 1,
      });
    },
  };
}
