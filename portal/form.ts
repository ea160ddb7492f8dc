/**
 * The raise-request form: which control each request type field gets, and the submitted form turned
 * into `requestFieldValues` (Atlassian's field input formats). Field rules — required, valid values,
 * formats — are checked here first so most mistakes never reach Atlassian; what Atlassian still
 * refuses comes back per field and is shown beside it.
 */
import type { FieldValueDTO, RequestTypeFieldDTO } from './atlassian/types.js';

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

export interface ParsedForm {
  values: Record<string, unknown>;
  errors: Record<string, string>;
}

function option(valid: FieldValueDTO[] | undefined, id: string): FieldValueDTO | undefined {
  return (valid ?? []).find((o) => o.value === id);
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const validDate = (t: string) => DATE.test(t) && new Date(`${t}T00:00:00Z`).toISOString().startsWith(t);

/**
 * Checks and converts the submitted values of the visible fields. Attachments are handled by the
 * caller (they arrive as files); `attachmentCount` says how many were uploaded, for `required`.
 */
export function parseRequestForm(
  fields: RequestTypeFieldDTO[],
  submitted: Submitted,
  attachmentCount = 0,
): ParsedForm {
  const values: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const field of fields) {
    if (field.visible === false) continue;
    const kind = fieldKind(field);
    const raw = submitted[inputName(field)];
    const fail = (message: string) => {
      errors[field.fieldId] = message;
    };
    if (kind === 'attachment') {
      if (field.required && attachmentCount === 0) fail(`${field.name} is required.`);
      continue;
    }
    const empty = all(raw).every((v) => v.trim() === '');
    if (empty) {
      if (field.required) fail(`${field.name} is required.`);
      continue;
    }
    switch (kind) {
      case 'text': {
        const text = one(raw);
        if (text.length > 255) fail(`${field.name} must be 255 characters or fewer.`);
        else values[field.fieldId] = text.replace(/[\r\n]+/g, ' ');
        break;
      }
      case 'paragraph': {
        const text = all(raw)[0] ?? '';
        if (text.length > 32_000) fail(`${field.name} is too long.`);
        else values[field.fieldId] = text.replace(/\r\n/g, '\n');
        break;
      }
      case 'select':
      case 'radio': {
        const id = one(raw);
        if (!option(field.validValues, id)) fail(`Choose a valid value for ${field.name}.`);
        else values[field.fieldId] = { id };
        break;
      }
      case 'multiSelect':
      case 'checkboxes': {
        const ids = all(raw).filter((v) => v !== '');
        if (ids.some((id) => !option(field.validValues, id))) fail(`Choose valid values for ${field.name}.`);
        else values[field.fieldId] = ids.map((id) => ({ id }));
        break;
      }
      case 'cascadingSelect': {
        const [parentId = '', childId] = one(raw).split(':');
        const parent = option(field.validValues, parentId);
        if (!parent || (childId !== undefined && !option(parent.children, childId))) {
          fail(`Choose a valid value for ${field.name}.`);
        } else {
          values[field.fieldId] =
            childId === undefined ? { id: parentId } : { id: parentId, child: { id: childId } };
        }
        break;
      }
      case 'date': {
        const text = one(raw);
        if (!validDate(text)) fail(`${field.name} must be a date (YYYY-MM-DD).`);
        else values[field.fieldId] = text;
        break;
      }
      case 'dateTime': {
        // <input type="datetime-local"> gives local time without zone; the portal treats it as UTC.
        const text = one(raw);
        const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2})?$/.exec(text);
        if (!m || !validDate(m[1]!)) fail(`${field.name} must be a date and time.`);
        else values[field.fieldId] = `${m[1]}T${m[2]}${m[3] ?? ':00'}.000+0000`;
        break;
      }
      case 'number': {
        const text = one(raw);
        const n = Number(text);
        if (!/^-?\d+(\.\d+)?$/.test(text) || !Number.isFinite(n)) fail(`${field.name} must be a number.`);
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
        if (!ok) fail(`${field.name} must be a web address starting with https:// or http://.`);
        else values[field.fieldId] = text;
        break;
      }
      case 'labels': {
        const labels = one(raw)
          .split(/[\s,]+/)
          .filter(Boolean);
        if (labels.some((l) => l.length > 255))
          fail(`Labels in ${field.name} must be 255 characters or fewer.`);
        else values[field.fieldId] = labels;
        break;
      }
      case 'unsupported':
        if (field.required) fail(`${field.name} cannot be filled in here; please contact the help desk.`);
        break;
    }
  }
  return { values, errors };
}

/**
 * Atlassian's refusal of a create, placed beside the field it is about: Jira's `errors` map by
 * field id, else a JSM error naming the field in its i18n parameters or as a `Name:` prefix.
 */
export function fieldErrorsFrom(
  fields: RequestTypeFieldDTO[],
  error: { fieldErrors: Record<string, string>; parameters: string[]; message: string },
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [id, message] of Object.entries(error.fieldErrors)) out[id] = message;
  if (Object.keys(out).length > 0) return out;
  const byParameter = fields.find((f) => error.parameters.includes(f.fieldId));
  const byName = fields.find((f) => error.message.startsWith(`${f.name}:`));
  const field = byParameter ?? byName;
  if (field) out[field.fieldId] = error.message;
  else out['_form'] = error.message;
  return out;
}
