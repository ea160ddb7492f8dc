// The body of Jira's issue edit (`PUT /rest/api/3/issue/{key}`) as far as a portal writes it: JSM's
// Organizations field, either set whole (`fields`) or changed value by value (`update`, a list of
// `add` / `set` / `remove` operations per field, the `FieldUpdateOperation`s of the platform spec).
// Operations apply to the value the site holds when the edit arrives, so two edits adding different
// organizations at the same instant both stay, as on Jira; all of an edit is checked before any of it
// is applied, so a refused edit changes nothing.
import { PlatformError } from './http.js';

/** The operations the Organizations field takes (its `operations` in Jira's edit metadata). */
const ORGANIZATIONS_OPERATIONS = ['add', 'set', 'remove'] as const;
type Operation = (typeof ORGANIZATIONS_OPERATIONS)[number];

/** One operation on a field, its value already read as organization ids. */
interface FieldChange {
  operation: Operation;
  ids: string[];
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  !!value && typeof value === 'object' && !Array.isArray(value);

const refuse = (fieldId: string, message: string) => new PlatformError(400, '', { [fieldId]: message });

/** An organization id as the field's `set` form writes one: a number, or its decimal string. */
function organizationId(fieldId: string, value: unknown): string {
  if (
    (typeof value === 'number' && Number.isSafeInteger(value)) ||
    (typeof value === 'string' && /^\d+$/.test(value))
  )
    return String(value);
  throw refuse(fieldId, 'Organizations must be given by their numeric ids.');
}

/** One `{ "add": 3 }`-like operation: exactly one operation the field takes, with its value. */
function readOperation(fieldId: string, raw: unknown): FieldChange {
  const entries = isObject(raw) ? Object.entries(raw) : [];
  const [name, value] = entries[0] ?? [];
  if (entries.length !== 1 || !ORGANIZATIONS_OPERATIONS.includes(name as Operation))
    throw refuse(fieldId, `Each operation must be one of ${ORGANIZATIONS_OPERATIONS.join(', ')}.`);
  const operation = name as Operation;
  if (operation !== 'set') return { operation, ids: [organizationId(fieldId, value)] };
  if (!Array.isArray(value)) throw refuse(fieldId, 'The organizations to set must be a list.');
  return { operation, ids: value.map((v) => organizationId(fieldId, v)) };
}

/**
 * The changes an edit asks of the Organizations field, checked: `fields` and `update` are each an
 * object, a field in neither is not the Organizations field, no field is in both (the spec: "fields
 * included in here cannot be included in `fields`"), and every organization added or set is one of
 * the request's desk (Jira refuses others).
 */
export function organizationChanges(
  body: unknown,
  organizationsFieldId: string,
  deskOrganizationIds: readonly string[],
): FieldChange[] {
  const edit: Record<string, unknown> = isObject(body) ? body : {};
  const parts = [edit['fields'], edit['update']];
  if (parts.every((p) => p === undefined) || parts.some((p) => p !== undefined && !isObject(p)))
    throw new PlatformError(400, 'The request body must have a fields or an update object.');
  const fields = (edit['fields'] ?? {}) as Record<string, unknown>;
  const update = (edit['update'] ?? {}) as Record<string, unknown>;
  for (const fieldId of [...Object.keys(fields), ...Object.keys(update)])
    if (fieldId !== organizationsFieldId)
      throw refuse(
        fieldId,
        `Field '${fieldId}' cannot be set. It is not on the appropriate screen, or unknown.`,
      );
  if (organizationsFieldId in fields && organizationsFieldId in update)
    throw refuse(organizationsFieldId, 'A field cannot be in both fields and update.');
  const operations =
    organizationsFieldId in fields ? [{ set: fields[organizationsFieldId] }] : update[organizationsFieldId];
  if (operations !== undefined && !Array.isArray(operations))
    throw refuse(organizationsFieldId, 'The operations on a field must be a list.');
  const changes = (operations ?? []).map((raw) => readOperation(organizationsFieldId, raw));
  if (changes.some((c) => c.operation !== 'remove' && c.ids.some((id) => !deskOrganizationIds.includes(id))))
    throw refuse(
      organizationsFieldId,
      'Organizations must be ids of organizations associated with this service desk.',
    );
  return changes;
}

/** The organizations a request is shared with once `changes` are applied, in order, to `current`. */
export function applyOrganizationChanges(
  current: readonly string[],
  changes: readonly FieldChange[],
): string[] {
  let ids = [...current];
  for (const { operation, ids: values } of changes) {
    if (operation === 'set') ids = [...values];
    else if (operation === 'add') ids = [...ids, ...values];
    else ids = ids.filter((id) => !values.includes(id));
  }
  return [...new Set(ids)];
}
