// Mocha's spec reporter plus a JSON summary (passed/failed counts) for test/run.ts.
const { writeFileSync } = require('node:fs');
const Mocha = require('mocha');

class SpecWithSummary extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const file = process.env.JSM_SSO_TEST_SUMMARY;
      if (file)
        writeFileSync(file, JSON.stringify({ passed: this.stats.passes, failed: this.stats.failures }));
    });
  }
}
module.exports = SpecWithSummary;
