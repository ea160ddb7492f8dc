// `npm run bench`: every benchmark in one run, so ratios compare figures measured side by side on the
// same (shared, noisy) machine. Select some with `npm run bench -- broker portal`; `--tenants N`
// sets how many tenants the operator benches create (a quicker run than their defaults).
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

export interface BenchOptions {
  tenants?: number;
}
type Bench = (options: BenchOptions) => Promise<Record<string, number | string>>;

const BENCHES: Record<string, () => Promise<Bench>> = {
  flowstore: async () => (await import('./flowstore.js')).benchFlowStore,
  broker: async () => (await import('./broker.js')).benchBroker,
  signin: async () => (await import('./signin-cost.js')).benchSigninCost,
  portal: async () => (await import('./portal.js')).benchPortal,
  'portal-cpu': async () => (await import('./portal-cpu.js')).benchPortalCpu,
  operator: async () => (await import('./operator.js')).benchOperator,
  'operator-pool': async () => (await import('./operator-pool.js')).benchOperatorPool,
  faults: async () => (await import('./faults.js')).benchFaults,
  pool: async () => (await import('./pool.js')).benchPool,
  cel: async () => (await import('./cel.js')).benchCel,
  'pool-kube': async () => (await import('./pool-kube.js')).benchPoolKube,
};

const { values, positionals: selected } = parseArgs({
  options: { tenants: { type: 'string' } },
  allowPositionals: true,
});
const options: BenchOptions = {};
if (values.tenants !== undefined) {
  options.tenants = Number(values.tenants);
  if (!Number.isInteger(options.tenants) || options.tenants < 1) {
    console.error(`--tenants takes a positive whole number, not ${values.tenants}`);
    process.exit(2);
  }
}
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
    results[name] = await (await load())(options);
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
