import type { Context, Suite } from 'mocha';
import { takeLeakedLogLines, takeRecentLogLines } from '../testkit/recent-logs.js';
import { personalDataAtRest } from '../testkit/store-scan.js';

/** What a log line says about why, without its free text's details. */
const SHOWN = [
  'time',
  'level',
  'component',
  'tenant',
  'event',
  'reason',
  'status',
  'upstreamStatus',
  'reference',
  'msg',
];

/**
 * Mocha root hooks: after a failed test, the last log lines the harnesses captured, so a failure
 * seen once (in CI) shows the reason codes behind it; after any other, they are forgotten. A line
 * that held personal data or a secret fails the test it was captured in, or the next one for a line
 * logged between tests, and so stops the run there (ADR 0246): every flow the suite runs is a check
 * that nothing of the person reaches the log. So does such a line in a child process's stdout or
 * stderr, an Event's note or a tenant's or pool's status (ADR 0255); and after each test file, the
 * run's Redis is scanned for it at rest.
 */
export const mochaHooks = {
  beforeAll(this: Context): void {
    scanStoreAfterEachFile(this.test!.parent!);
  },
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
    throw new Error(
      `personal data or a secret reached the log, an Event or a status (ADR 0246, 0255):\n${leaked.join('\n')}`,
    );
}

/**
 * An `after all` hook on the last top-level suite of each file that scans the run's Redis (REDIS_URL,
 * test/run.ts) for personal data at rest: once per file, not per test, since a scan reads every key
 * the run has left (ADR 0255). A finding fails that hook, naming the key.
 */
function scanStoreAfterEachFile(root: Suite): void {
  const url = process.env['REDIS_URL'];
  if (!url) return;
  const lastOfFile = new Map<string | undefined, Suite>();
  for (const suite of root.suites) lastOfFile.set(suite.file, suite);
  for (const suite of lastOfFile.values())
    suite.afterAll('no personal data at rest in Redis', async () => {
      const found = await personalDataAtRest(url);
      if (found.length > 0)
        throw new Error(`personal data or a secret at rest in Redis (ADR 0255):\n${found.join('\n')}`);
    });
}
