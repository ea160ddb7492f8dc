// `npm run bench`: every benchmark in one run, so ratios compare figures measured side by side on the
// same (shared, noisy) machine. Select some with `npm run bench -- broker portal`.
import { writeFileSync } from 'node:fs';

type Bench = () => Promise<Record<string, number | string>>;

const BENCHES: Record<string, () => Promise<Bench>> = {
  flowstore: async () => (await import('./flowstore.js')).benchFlowStore,
  broker: async () => (await import('./broker.js')).benchBroker,
  signin: async () => (await import('./signin-cost.js')).benchSigninCost,
  portal: async () => (await import('./portal.js')).benchPortal,
  operator: async () => (await import('./operator.js')).benchOperator,
  faults: async () => (await import('./faults.js')).benchFaults,
  pool: async () => (await import('./pool.js')).benchPool,
};

const selected = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const names = selected.length > 0 ? selected : Object.keys(BENCHES);
const results: Record<string, Record<string, number | string>> = {};
let failed = false;
for (const name of names) {
  const load = BENCHES[name];
  if (!load) {
    console.error(`unknown benchmark ${name}; known: ${Object.keys(BENCHES).join(', ')}`);
    process.exit(2);
  }
  console.log(`\n## ${name}`);
  try {
    results[name] = await (await load())();
    for (const [key, value] of Object.entries(results[name])) {
      console.log(`  ${key.padEnd(48)} ${typeof value === 'number' ? formatNumber(value) : value}`);
    }
  } catch (err) {
    failed = true;
    console.error(`  failed: ${(err as Error).stack ?? err}`);
  }
}
writeFileSync(
  'bench-results.json',
  `${JSON.stringify({ at: new Date().toISOString(), results }, null, 2)}\n`,
);
console.log('\nwrote bench-results.json');
process.exit(failed ? 1 : 0);

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(3);
}
