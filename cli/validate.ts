// `jsm-sso validate FILE...`: the checks the API server makes on a JsmSsoTenant (the CRD's
// structural schema and its CEL rules), offline, before a kubectl apply or a standalone start.
import { parseCommandLine, UsageError } from '../common/args.js';
import { loadTenantFile, tenantId } from '../common/config/load.js';
import { ConfigError, JsmSsoError } from '../common/errors.js';

const SPEC = {
  name: 'validate',
  summary:
    'Check JsmSsoTenant YAML files against the CRD schema and its CEL rules, offline. Exits 1 if any is invalid.',
  positionals: 'FILE...',
  options: {},
};

export async function run(argv: string[]): Promise<void> {
  const parsed = parseCommandLine(SPEC, argv);
  if (!parsed) return;
  if (parsed.positionals.length === 0) throw new UsageError('validate: name at least one FILE');
  for (const file of parsed.positionals) {
    try {
      const tenant = loadTenantFile(file);
      console.log(`${file}: valid JsmSsoTenant ${tenantId(tenant)}`);
    } catch (err) {
      if (!(err instanceof JsmSsoError)) throw err;
      process.exitCode = 1;
      if (!(err instanceof ConfigError)) {
        console.error(`${file}: ${err.message}`);
        continue;
      }
      console.error(`${file}: invalid`);
      for (const problem of err.problems) console.error(`  - ${problem.path}: ${problem.message}`);
    }
  }
}
