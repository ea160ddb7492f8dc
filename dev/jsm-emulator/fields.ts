// Request type fields: their Jira schema, the values a create request may send for them (the
// "Field input formats" of the servicedeskapi), and how a stored value is shown back.

import { renderWiki, type WikiContext } from '../../common/wiki-render.js';

export const FIELD_KINDS = [
  'text',
  'paragraph',
  'select',
  'multiSelect',
  'cascadingSelect',
  'checkboxes',
  'radio',
  'date',
  'dateTime',
  'number',
  'url',
  'labels',
  'attachment',
] as const;
export type FieldKind = (typeof FIELD_KINDS)[number];

export interface FieldOption {
  id: string;
  value: string;
  children: FieldOption[];
}

export interface FieldDef {
  fieldId: string;
  name: string;
  kind: FieldKind;
  required: boolean;
  description: string;
  options: FieldOption[];
}

export interface JiraSchema {
  type: string;
  items?: string;
  system?: string;
  custom?: string;
  customId?: number;
}

const CUSTOM = 'com.atlassian.jira.plugin.system.customfieldtypes:';
const KIND_SCHEMA: Record<FieldKind, { type: string; items?: string; custom: string }> = {
  text: { type: 'string', custom: 'textfield' },
  paragraph: { type: 'string', custom: 'textarea' },
  select: { type: 'option', custom: 'select' },
  multiSelect: { type: 'array', items: 'option', custom: 'multiselect' },
  cascadingSelect: { type: 'option-with-child', custom: 'cascadingselect' },
  checkboxes: { type: 'array', items: 'option', custom: 'multicheckboxes' },
  radio: { type: 'option', custom: 'radiobuttons' },
  date: { type: 'date', custom: 'datepicker' },
  dateTime: { type: 'datetime', custom: 'datetime' },
  number: { type: 'number', custom: 'float' },
  url: { type: 'string', custom: 'url' },
  labels: { type: 'array', items: 'string', custom: 'labels' },
  attachment: { type: 'array', items: 'attachment', custom: 'attachment' },
};

/**
 * Jira's system fields whose schema type is their own, not their control's: a priority is a
 * `priority` (a select on the form), components and versions are arrays of `component` and `version`
 * (multi-selects); each takes `{"id": ...}` values as Jira's create does.
 */
const SYSTEM_SCHEMA: Record<string, { type: string; items?: string }> = {
  priority: { type: 'priority' },
  components: { type: 'array', items: 'component' },
  versions: { type: 'array', items: 'version' },
  fixVersions: { type: 'array', items: 'version' },
};

export function jiraSchema(field: FieldDef): JiraSchema {
  const { type, items, custom } = KIND_SCHEMA[field.kind];
  const base: JiraSchema = items ? { type, items } : { type };
  const match = /^customfield_(\d+)$/.exec(field.fieldId);
  if (!match) return { ...(SYSTEM_SCHEMA[field.fieldId] ?? base), system: field.fieldId };
  return { ...base, custom: CUSTOM + custom, customId: Number(match[1]) };
}

export const isOptionKind = (kind: FieldKind) =>
  kind === 'select' ||
  kind === 'multiSelect' ||
  kind === 'cascadingSelect' ||
  kind === 'checkboxes' ||
  kind === 'radio';

/** The problem with a submitted value, worded like Jira's field validation. */
export class FieldValueError extends Error {
  constructor(
    readonly fieldId: string,
    message: string,
  ) {
    super(message);
  }
}

export type StoredOption = { id: string; value: string; child?: { id: string; value: string } };
export type StoredValue = string | number | string[] | StoredOption | StoredOption[];

function pickOption(field: FieldDef, options: FieldOption[], raw: unknown): FieldOption {
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    const { id, value } = raw as { id?: unknown; value?: unknown };
    const found =
      id !== undefined
        ? options.find((o) => (typeof id === 'string' || typeof id === 'number') && o.id === String(id))
        : typeof value === 'string'
          ? options.find((o) => o.value === value)
          : undefined;
    if (found) return found;
    const shown = id !== undefined ? `id '${String(id)}'` : `value '${String(value)}'`;
    throw new FieldValueError(field.fieldId, `${field.name}: Option ${shown} is not valid for this field.`);
  }
  throw new FieldValueError(
    field.fieldId,
    `${field.name}: Specify the option as an object with an 'id' or a 'value'.`,
  );
}

function list(field: FieldDef, raw: unknown): unknown[] {
  if (!Array.isArray(raw))
    throw new FieldValueError(field.fieldId, `${field.name}: Expected an array of values.`);
  return raw;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})$/;

function validDate(text: string): boolean {
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(text);
}

/**
 * Turns a submitted value into the stored form, or throws FieldValueError. Attachment values are
 * temporary attachment ids; the caller resolves them.
 */
export function parseFieldValue(field: FieldDef, raw: unknown): StoredValue {
  const bad = (what: string) => new FieldValueError(field.fieldId, `${field.name}: ${what}`);
  switch (field.kind) {
    case 'text':
    case 'paragraph': {
      if (typeof raw !== 'string') throw bad('Expected a string.');
      if (field.kind === 'text' && raw.includes('\n')) throw bad('Field cannot contain line breaks.');
      if (field.kind === 'text' && raw.length > 255) throw bad('Field must be less than 255 characters.');
      return raw;
    }
    case 'url': {
      if (typeof raw !== 'string') throw bad('Expected a string.');
      try {
        const url = new URL(raw);
        if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
      } catch {
        throw bad(`Not a valid URL: '${raw}'.`);
      }
      return raw;
    }
    case 'select':
    case 'radio': {
      const o = pickOption(field, field.options, raw);
      return { id: o.id, value: o.value };
    }
    case 'multiSelect':
    case 'checkboxes':
      return list(field, raw).map((item) => {
        const o = pickOption(field, field.options, item);
        return { id: o.id, value: o.value };
      });
    case 'cascadingSelect': {
      const parent = pickOption(field, field.options, raw);
      const childRaw = (raw as { child?: unknown }).child;
      if (childRaw === undefined) return { id: parent.id, value: parent.value };
      const child = pickOption(field, parent.children, childRaw);
      return { id: parent.id, value: parent.value, child: { id: child.id, value: child.value } };
    }
    case 'date':
      if (typeof raw !== 'string' || !DATE.test(raw) || !validDate(raw))
        throw bad("Expected a date in 'YYYY-MM-DD' format.");
      return raw;
    case 'dateTime':
      if (
        typeof raw !== 'string' ||
        !DATE_TIME.test(raw) ||
        Number.isNaN(Date.parse(raw.replace(/([+-]\d{2})(\d{2})$/, '$1:$2')))
      ) {
        throw bad('Expected a date-time in ISO 8601 format (YYYY-MM-DDThh:mm:ss.sTZD).');
      }
      return raw;
    case 'number':
      if (typeof raw !== 'number' || !Number.isFinite(raw)) throw bad('Expected a number.');
      return raw;
    case 'labels':
      return list(field, raw).map((label) => {
        if (typeof label !== 'string' || label === '' || /\s/.test(label))
          throw bad('Labels cannot contain spaces.');
        return label;
      });
    case 'attachment':
      return list(field, raw).map((id) => {
        if (typeof id !== 'string') throw bad('Expected an array of temporary attachment ids.');
        return id;
      });
  }
}

export function isEmptyValue(raw: unknown): boolean {
  return raw === undefined || raw === null || raw === '' || (Array.isArray(raw) && raw.length === 0);
}

/**
 * The `value` Jira returns for a stored field value, and the `renderedValue` for multi-line text:
 * its wiki markup rendered as Jira renders a comment's (`[^file]` links to the request's file of
 * that name, whoever may see it).
 */
export function presentFieldValue(
  field: FieldDef,
  stored: StoredValue,
  wiki: WikiContext,
): { value: unknown; renderedValue?: { html: string } } {
  if (field.kind === 'paragraph' && typeof stored === 'string')
    return { value: stored, renderedValue: { html: renderWiki(stored, wiki) } };
  return { value: stored };
}
