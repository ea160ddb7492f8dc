#!/usr/bin/env node
// The one executable: `jsm-sso operator|broker|portal|dev`. Each part loads lazily so that,
// e.g., the broker image path never imports the operator's Kubernetes client.
import { ConfigError } from '../common/errors.js';
import { runSubcommand, type Subcommand, UsageError } from './args.js';

const COMMANDS: Record<string, Subcommand> = {
  operator: {
    summary: 'Run the Kubernetes operator',
    load: async () => (await import('../operator/cli.js')).run,
  },
  broker: {
    summary: "Run one tenant's SAML/OIDC broker",
    load: async () => (await import('../broker/cli.js')).run,
  },
  portal: {
    summary: "Run one tenant's customer portal",
    load: async () => (await import('../portal/cli.js')).run,
  },
  dev: {
    summary: 'Local stack: jsm-emulator, idp, start',
    load: async () => (await import('../dev/cli.js')).run,
  },
};

runSubcommand('jsm-sso', COMMANDS, process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError) {
    console.error(`jsm-sso: ${err.message}`);
    process.exit(2);
  }
  if (err instanceof ConfigError) {
    console.error('jsm-sso: the tenant configuration is invalid:');
    for (const problem of err.problems) console.error(`  - ${problem.path}: ${problem.message}`);
    process.exit(1);
  }
  console.error(`jsm-sso: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
