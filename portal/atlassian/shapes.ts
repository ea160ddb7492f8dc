/**
 * The least a read's answer must be for the code that reads it (ADR 0275), and a write's for the
 * write to be taken as made (ADR 0296): an object or an array, the list a page holds, and ids that
 * are strings where they are compared as strings. Not Atlassian's
 * schemas (the tests check the emulator and every exchange against those, testkit/atlassian-spec.ts):
 * a check of a few properties, made on every answer, where a schema validation would cost each page.
 * An answer of another shape is something other than Atlassian, or Atlassian broken, answering: a
 * 502, where the first property read of it was a TypeError and a 500.
 */
export interface Shape {
  /** The answer is an array (`''`), or an object holding one under this name; else it is an object. */
  list?: '' | 'values' | 'issues' | 'comments' | 'temporaryAttachments';
  /** A servicedeskapi page: `isLastPage` is a boolean (a page without it would end a list unread). */
  paged?: boolean;
  /** Properties of the object, or of each item of its list, that are strings when present. */
  ids?: readonly string[];
  /**
   * Properties the object, or each item of its list, must hold as strings: what its caller cannot
   * go on without.
   */
  needs?: readonly string[];
  /** Properties of the object that are answers of their own, each of its shape (a write's result). */
  parts?: Readonly<Record<string, Shape>>;
}

/**
 * The ids servicedeskapi answers hold, each a string wherever its spec names it on an answer or a
 * list's item (test/faults/atlassian-shapes.test.ts reads the spec for it): the portal compares them
 * as strings.
 */
export const SERVICEDESK_IDS = [
  'id',
  'accountId',
  'issueKey',
  'issueId',
  'serviceDeskId',
  'requestTypeId',
] as const;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Why `value` does not hold `shape`'s ids (where present) and needs as strings, or undefined. */
function idsMismatch(value: Record<string, unknown>, { ids = [], needs = [] }: Shape): string | undefined {
  if (needs.some((name) => typeof value[name] !== 'string')) return 'no id it needs';
  return ids.every((id) => value[id] === undefined || typeof value[id] === 'string')
    ? undefined
    : 'an id that is no string';
}

/** Why `items` is no list of objects with `shape`'s ids, or undefined. */
function listMismatch(items: unknown, shape: Shape): string | undefined {
  if (!Array.isArray(items)) return 'no array';
  for (const item of items) {
    if (!isObject(item)) return 'a list item that is no object';
    const mismatch = idsMismatch(item, shape);
    if (mismatch) return mismatch;
  }
  return undefined;
}

/**
 * Why `answer` is not of `shape`, in words of ours (never the answer's: it may name people); undefined
 * when it is.
 */
export function shapeMismatch(answer: unknown, shape: Shape): string | undefined {
  if (shape.list === '') return listMismatch(answer, shape);
  if (!isObject(answer)) return 'no object';
  if (shape.paged && typeof answer['isLastPage'] !== 'boolean') return 'a page without isLastPage';
  if (shape.list) return listMismatch(answer[shape.list], shape);
  for (const [name, part] of Object.entries(shape.parts ?? {})) {
    const mismatch = shapeMismatch(answer[name], part);
    if (mismatch) return `${name}: ${mismatch}`;
  }
  return idsMismatch(answer, shape);
}
