/**
 * A path as the router tells routes apart: in lower case, its letter case being ignored (ADR 0306),
 * and without one trailing slash, `strict routing` being off (ADR 0309). A check made on a path
 * before the router judges the address the route will serve only when it compares this.
 */
export function routedPath(path: string): string {
  return path.toLowerCase().replace(/(.)\/$/, '$1');
}
