/**
 * The raise-request form: which control each request type field gets, and the submitted form turned
 * into `requestFieldValues` (Atlassian's field input formats). Field rules — required, valid values,
 * formats — are checked here first so most mistakes never reach Atlassian; what Atlassian still
 * refuses comes back per field and is shown beside it. A refusal is a code with its values
 * (`FieldProblem`), never a sentence: pages/create.ts says it in the customer's language.
 */
import type { FieldValueDTO, RequestTypeFieldDTO } from './atlassian/types.js';
import { asTyped, MAX_TYPED_TEXT } from './typed-text.js';
import { withoutMentions } from './wiki-mentions.js';

export type FieldKind =
  | 'text'
  | 'paragraph'
  | 'select'
  | 'multiSelect'
  | 'cascadingSelect'
  | 'checkboxes'
  | 'radio'
  | 'date'
  | 'dateTime'
  | 'number'
  | 'url'
  | 'labels'
  | 'attachment'
  | 'unsupported';

const CUSTOM = 'com.atlassian.jira.plugin.system.customfieldtypes:';

export function fieldKind(field: RequestTypeFieldDTO): FieldKind {
  const s = field.jiraSchema ?? {};
  if (s.system === 'summary') return 'text';
  if (s.system === 'description' || s.system === 'environment') return 'paragraph';
  if (s.system === 'duedate') return 'date';
  if (s.system === 'labels') return 'labels';
  if (s.system === 'attachment' || field.fieldId === 'attachment') return 'attachment';
  // Jira's system pickers: their valid values are ids, which Jira's create takes as `{"id": ...}`
  // (the platform's createIssue example), as for a custom select's options.
  if (s.system === 'priority') return 'select';
  if (s.system === 'components' || s.system === 'versions' || s.system === 'fixVersions')
    return 'multiSelect';
  const custom = s.custom?.startsWith(CUSTOM) ? s.custom.slice(CUSTOM.length) : undefined;
  switch (custom) {
    case 'textfield':
      return 'text';
    case 'textarea':
      return 'paragraph';
    case 'select':
      return 'select';
    case 'multiselect':
      return 'multiSelect';
    case 'cascadingselect':
      return 'cascadingSelect';
    case 'multicheckboxes':
      return 'checkboxes';
    case 'radiobuttons':
      return 'radio';
    case 'datepicker':
      return 'date';
    case 'datetime':
      return 'dateTime';
    case 'float':
      return 'number';
    case 'url':
      return 'url';
    case 'labels':
      return 'labels';
  }
  if (s.type === 'string') return 'text';
  return 'unsupported';
}

/** Submitted form values: one string or several per name (select multiple, checkboxes). */
export type Submitted = Record<string, string | string[] | undefined>;

export const inputName = (field: RequestTypeFieldDTO) => `f_${field.fieldId}`;

const all = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];
const one = (v: string | string[] | undefined): string => (all(v)[0] ?? '').trim();

/** Why the value of one field (or of the form as a whole, `_form`) was refused. */
export type FieldProblemCode =
  | 'FIELD_REQUIRED'
  | 'FIELD_TOO_LONG'
  | 'FIELD_CHOICE_INVALID'
  | 'FIELD_CHOICES_INVALID'
  | 'FIELD_DATE_INVALID'
  | 'FIELD_DATE_TIME_INVALID'
  | 'FIELD_NUMBER_INVALID'
  | 'FIELD_URL_INVALID'
  | 'FIELD_LABEL_TOO_LONG'
  | 'FIELD_UNSUPPORTED'
  /** Atlassian refused the value; `detail` is Atlassian's own message, in the site's language. */
  | 'FIELD_REFUSED_BY_ATLASSIAN'
  /** Atlassian refused the request without naming a field (`_form`); `detail` as above. */
  | 'FORM_REFUSED_BY_ATLASSIAN'
  /** "Raise on behalf of" or "Share with" named someone outside the customer's organizations. */
  | 'FIELD_NOT_A_COLLEAGUE'
  | 'FIELD_SHARE_OUTSIDE_ORGANIZATIONS';

export interface FieldProblem {
  code: FieldProblemCode;
  /** The field's name as Atlassian gives it, a limit, Atlassian's message. */
  params: Readonly<Record<string, string | number>>;
}

export type FieldProblems = Record<string, FieldProblem>;

export interface ParsedForm {
  values: Record<string, unknown>;
  errors: FieldProblems;
}

function option(valid: FieldValueDTO[] | undefined, id: string): FieldValueDTO | undefined {
  return (valid ?? []).find((o) => o.value === id);
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const validDate = (t: string) => DATE.test(t) && new Date(`${t}T00:00:00Z`).toISOString().startsWith(t);

/** How far `timeZone` is ahead of UTC at the instant `utcMs`, in minutes. */
function offsetMinutes(timeZone: string, utcMs: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(utcMs);
  const part = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value);
  const wall = Date.UTC(
    part('year'),
    part('month') - 1,
    part('day'),
    part('hour'),
    part('minute'),
    part('second'),
  );
  return Math.round((wall - utcMs) / 60_000);
}

/**
 * A wall time in `timeZone` as Jira's date-time text with that zone's offset then
 * (`2026-12-07T09:00:00.000+0100`). The offset is the one at the wall time read as UTC, corrected
 * once from the instant it gives (they differ only near a change of offset); a wall time a change
 * skips is sent with the offset before it, an instant Jira shows as the time after the change.
 */
function zonedDateTime(date: string, time: string, timeZone: string): string {
  const asUtc = Date.parse(`${date}T${time}Z`);
  const offset = offsetMinutes(timeZone, asUtc - offsetMinutes(timeZone, asUtc) * 60_000);
  const abs = Math.abs(offset);
  const hhmm = `${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
  return `${date}T${time}.000${offset < 0 ? '-' : '+'}${hhmm}`;
}

/**
 * Checks and converts the submitted values of the visible fields. Attachments are handled by the
 * caller (they arrive as files); `attachmentCount` says how many were uploaded, for `required`.
 */
export function parseRequestForm(
  fields: RequestTypeFieldDTO[],
  submitted: Submitted,
  attachmentCount = 0,
  /** The customer's IANA zone, in which a date and time was entered. */
  timeZone = 'UTC',
): ParsedForm {
  const values: Record<string, unknown> = {};
  const errors: FieldProblems = {};
  for (const field of fields) {
    if (field.visible === false) continue;
    const kind = fieldKind(field);
    const raw = submitted[inputName(field)];
    const fail = (code: FieldProblemCode, params: Record<string, number> = {}) => {
      errors[field.fieldId] = { code, params: { field: field.name, ...params } };
    };
    if (kind === 'attachment') {
      if (field.required && attachmentCount === 0) fail('FIELD_REQUIRED');
      continue;
    }
    const empty = all(raw).every((v) => v.trim() === '');
    if (empty) {
      if (field.required) fail('FIELD_REQUIRED');
      continue;
    }
    switch (kind) {
      case 'text': {
        const text = one(raw);
        if (text.length > 255) fail('FIELD_TOO_LONG', { max: 255 });
        else values[field.fieldId] = text.replace(/[\r\n]+/g, ' ');
        break;
      }
      case 'paragraph': {
        const text = asTyped(all(raw)[0] ?? '');
        if (text.length > MAX_TYPED_TEXT) fail('FIELD_TOO_LONG', { max: MAX_TYPED_TEXT });
        // Jira reads it as wiki markup: it mentions nobody (wiki-mentions.ts).
        else values[field.fieldId] = withoutMentions(text);
        break;
      }
      case 'select':
      case 'radio': {
        const id = one(raw);
        if (!option(field.validValues, id)) fail('FIELD_CHOICE_INVALID');
        else values[field.fieldId] = { id };
        break;
      }
      case 'multiSelect':
      case 'checkboxes': {
        const ids = all(raw).filter((v) => v !== '');
        if (ids.some((id) => !option(field.validValues, id))) fail('FIELD_CHOICES_INVALID');
        else values[field.fieldId] = ids.map((id) => ({ id }));
        break;
      }
      case 'cascadingSelect': {
        const [parentId = '', childId] = one(raw).split(':');
        const parent = option(field.validValues, parentId);
        if (!parent || (childId !== undefined && !option(parent.children, childId))) {
          fail('FIELD_CHOICE_INVALID');
        } else {
          values[field.fieldId] =
            childId === undefined ? { id: parentId } : { id: parentId, child: { id: childId } };
        }
        break;
      }
      case 'date': {
        const text = one(raw);
        if (!validDate(text)) fail('FIELD_DATE_INVALID');
        else values[field.fieldId] = text;
        break;
      }
      case 'dateTime': {
        // <input type="datetime-local"> gives a wall time without zone: the customer's, as native
        // reads a date-time picker in the person's own zone (UTC until their browser said which).
        const text = one(raw);
        const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(text);
        if (!m || !validDate(m[1]!) || Number(m[2]) > 23 || Number(m[3]) > 59 || Number(m[4] ?? 0) > 59)
          fail('FIELD_DATE_TIME_INVALID');
        else values[field.fieldId] = zonedDateTime(m[1]!, `${m[2]}:${m[3]}:${m[4] ?? '00'}`, timeZone);
        break;
      }
      case 'number': {
        const text = one(raw);
        const n = Number(text);
        if (!/^-?\d+(\.\d+)?$/.test(text) || !Number.isFinite(n)) fail('FIELD_NUMBER_INVALID');
        else values[field.fieldId] = n;
        break;
      }
      case 'url': {
        const text = one(raw);
        let ok = false;
        try {
          const u = new URL(text);
          ok = u.protocol === 'https:' || u.protocol === 'http:';
        } catch {
          ok = false;
        }
        if (!ok) fail('FIELD_URL_INVALID');
        else values[field.fieldId] = text;
        break;
      }
      case 'labels': {
        const labels = one(raw)
          .split(/[\s,]+/)
          .filter(Boolean);
        if (labels.some((l) => l.length > 255)) fail('FIELD_LABEL_TOO_LONG', { max: 255 });
        else values[field.fieldId] = labels;
        break;
      }
      case 'unsupported':
        if (field.required) fail('FIELD_UNSUPPORTED');
        break;
    }
  }
  return { values, errors };
}

/**
 * Atlassian's refusal of a create, placed beside the field it is about: Jira's `errors` map by
 * field id, else a JSM error naming the field in its i18n parameters or as a `Name:` prefix.
 * Atlassian's words are kept as `detail`: they are in the site's language, not the customer's.
 */
export function fieldErrorsFrom(
  fields: RequestTypeFieldDTO[],
  error: { fieldErrors: Record<string, string>; parameters: string[]; upstreamMessage?: string | undefined },
): FieldProblems {
  const refused = (detail: string, code: FieldProblemCode = 'FIELD_REFUSED_BY_ATLASSIAN'): FieldProblem => ({
    code,
    params: { detail },
  });
  const out: FieldProblems = {};
  for (const [id, message] of Object.entries(error.fieldErrors)) out[id] = refused(message);
  if (Object.keys(out).length > 0) return out;
  const message = error.upstreamMessage;
  if (message === undefined) return out;
  const byParameter = fields.find((f) => error.parameters.includes(f.fieldId));
  const byName = fields.find((f) => message.startsWith(`${f.name}:`));
  const field = byParameter ?? byName;
  if (field) out[field.fieldId] = refused(message);
  else out['_form'] = refused(message, 'FORM_REFUSED_BY_ATLASSIAN');
  return out;
}
