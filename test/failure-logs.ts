import type { Context } from 'mocha';
import { takeLeakedLogLines, takeRecentLogLines } from '../testkit/recent-logs.js';

/** What a log line says about why, without its free text's details. */
const SHOWN = ['time', 'level', 'component', 'tenant', 'event', 'reason', 'status', 'upstreamStatus', 'msg'];

/**
 * Mocha root hooks: after a failed test, the last log lines the harnesses captured, so a failure
 * seen once (in CI) shows the reason codes behind it; after any other, they are forgotten. A line
 * that held personal data or a secret fails the test it was captured in, or the next one for a line
 * logged between tests, and so stops the run there (ADR 0246): every flow the suite runs is a check
 * that nothing of the person reaches the log.
 */
export const mochaHooks = {
  beforeEach(): void {
    takeRecentLogLines();
  },
  afterEach(this: Context): void {
    failOnLeakedLogLines();
    const recent = takeRecentLogLines();
    if (this.currentTest?.state !== 'failed' || recent.length === 0) return;
    console.log(`      last log lines before "${this.currentTest.title}" failed:`);
    for (const line of recent)
      console.log(
        `        ${JSON.stringify(Object.fromEntries(SHOWN.filter((k) => k in line).map((k) => [k, line[k]])))}`,
      );
  },
  afterAll(): void {
    failOnLeakedLogLines();
  },
};

function failOnLeakedLogLines(): void {
  const leaked = takeLeakedLogLines();
  if (leaked.length > 0)
    throw new Error(`personal data or a secret reached the log (ADR 0246):\n${leaked.join('\n')}`);
}
