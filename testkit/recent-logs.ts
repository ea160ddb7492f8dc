import { personalDataIn } from './personal-data.js';

/**
 * The last log lines any harness captured, whatever test they belong to: printed beside a failed
 * test (test/failure-logs.ts), so a failure seen once in CI says which reason the product logged
 * (a 503 alone names none of the dozen refusals that answer it).
 */
const KEPT = 20;
const lines: Record<string, unknown>[] = [];
/**
 * Lines that held personal data or a secret (testkit/personal-data.ts), each fails its test (ADR
 * 0246): log lines, a child process's output, an Event or status the operator wrote (ADR 0255).
 */
const leaks: string[] = [];

export function noteLogLine(line: Record<string, unknown>): void {
  lines.push(line);
  if (lines.length > KEPT) lines.shift();
  checkLogLine(JSON.stringify(line));
}

/**
 * Checks one line a part wrote, as written (a line of a child process's stdout or stderr, an Event's
 * note), for what no log line may hold; `where` names the channel when it is not a log line.
 */
export function checkLogLine(text: string, where?: string): void {
  const found = personalDataIn(text);
  if (found.length > 0) leaks.push(`${found.join(', ')}${where ? ` in ${where}` : ''}: ${text}`);
}

/** The lines that held personal data or a secret since the last call, and forgets them. */
export function takeLeakedLogLines(): string[] {
  return leaks.splice(0);
}

/** The kept lines, oldest first, and forgets them. */
export function takeRecentLogLines(): Record<string, unknown>[] {
  return lines.splice(0);
}
