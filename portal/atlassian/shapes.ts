/**
 * The least a read's answer must be for the code that reads it (ADR 0275): an object or an array,
 * the list a page holds, and ids that are strings where they are compared as strings. Not Atlassian's
 * schemas (the tests check the emulator and every exchange against those, testkit/atlassian-spec.ts):
 * a check of a few properties, made on every answer, where a schema validation would cost each page.
 * An answer of another shape is something other than Atlassian, or Atlassian broken, answering: a
 * 502, where the first property read of it was a TypeError and a 500.
 */
export interface Shape {
  /** The answer is an array (`''`), or an object holding one under this name; else it is an object. */
  list?: '' | 'values' | 'issues' | 'comments';
  /** A servicedeskapi page: `isLastPage` is a boolean (a page without it would end a list unread). */
  paged?: boolean;
  /** Properties of the object, or of each item of its list, that are strings when present. */
  ids?: readonly string[];
  /** Properties the object must hold as strings: what its caller cannot go on without. */
  needs?: readonly string[];
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

const idsAreStrings = (value: Record<string, unknown>, ids: readonly string[]) =>
  ids.every((id) => value[id] === undefined || typeof value[id] === 'string');

/** Why `items` is no list of objects with string ids, or undefined. */
function listMismatch(items: unknown, ids: readonly string[]): string | undefined {
  if (!Array.isArray(items)) return 'no array';
  for (const item of items) {
    if (!isObject(item)) return 'a list item that is no object';
    if (!idsAreStrings(item, ids)) return 'an id that is no string';
  }
  return undefined;
}

/**
 * Why `answer` is not of `shape`, in words of ours (never the answer's: it may name people); undefined
 * when it is.
 */
export function shapeMismatch(answer: unknown, shape: Shape): string | undefined {
  const ids = shape.ids ?? [];
  if (shape.list === '') return listMismatch(answer, ids);
  if (!isObject(answer)) return 'no object';
  if (shape.paged && typeof answer['isLastPage'] !== 'boolean') return 'a page without isLastPage';
  if (shape.list) return listMismatch(answer[shape.list], ids);
  if (shape.needs?.some((name) => typeof answer[name] !== 'string')) return 'no id it needs';
  return idsAreStrings(answer, ids) ? undefined : 'an id that is no string';
}
