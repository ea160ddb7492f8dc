import type { Context } from 'mocha';
import { takeRecentLogLines } from '../testkit/recent-logs.js';

/** What a log line says about why, without its free text's details. */
const SHOWN = ['time', 'level', 'component', 'tenant', 'event', 'reason', 'status', 'upstreamStatus', 'msg'];

/**
 * Mocha root hooks: after a failed test, the last log lines the harnesses captured, so a failure
 * seen once (in CI) shows the reason codes behind it; after any other, they are forgotten.
 */
export const mochaHooks = {
  beforeEach(): void {
    takeRecentLogLines();
  },
  afterEach(this: Context): void {
    const recent = takeRecentLogLines();
    if (this.currentTest?.state !== 'failed' || recent.length === 0) return;
    console.log(`      last log lines before "${this.currentTest.title}" failed:`);
    for (const line of recent)
      console.log(
        `        ${JSON.stringify(Object.fromEntries(SHOWN.filter((k) => k in line).map((k) => [k, line[k]])))}`,
      );
  },
};
