import type { Context } from 'mocha';
import { releaseClockLeftHeld } from '../testkit/held-clock.js';

/**
 * Mocha root hooks: after each test, a clock it held (testkit/held-clock.ts) is released, so a test
 * that failed before its own release (mocha's timeout) does not leave `performance.now()` standing
 * still for the rest of the run. A test that passed yet left it held fails here: it would hold the
 * clock of whatever runs next.
 */
export const mochaHooks = {
  afterEach(this: Context): void {
    if (releaseClockLeftHeld() && this.currentTest?.state !== 'failed')
      throw new Error('the test left the clock held (testkit/held-clock.ts): release it in a finally');
  },
};
