/**
 * The last log lines any harness captured, whatever test they belong to: printed beside a failed
 * test (test/failure-logs.ts), so a failure seen once in CI says which reason the product logged
 * (a 503 alone names none of the dozen refusals that answer it).
 */
const KEPT = 20;
const lines: Record<string, unknown>[] = [];

export function noteLogLine(line: Record<string, unknown>): void {
  lines.push(line);
  if (lines.length > KEPT) lines.shift();
}

/** The kept lines, oldest first, and forgets them. */
export function takeRecentLogLines(): Record<string, unknown>[] {
  return lines.splice(0);
}
