#!/usr/bin/env node
// The one executable: `jsm-sso operator|broker|portal|dev`. Each part loads lazily so that,
// e.g., the broker image path never imports the operator's Kubernetes client.
import { ConfigError } from '../common/errors.js';
import { UsageError } from './args.js';

type Run = (argv: string[]) => Promise<void>;

const COMMANDS: Record<string, { summary: string; load: () => Promise<Run> }> = {
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

function usage(): string {
  const lines = ['Usage: jsm-sso <command> [options]', '', 'Commands:'];
  for (const [name, { summary }] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${summary}`);
  lines.push('', 'Run `jsm-sso <command> --help` for the options of a command.');
  return lines.join('\n');
}

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return;
  }
  const command = COMMANDS[name];
  if (!command) throw new UsageError(`unknown command ${JSON.stringify(name)}\n\n${usage()}`);
  await (await command.load())(rest);
}

main(process.argv.slice(2)).catch((err: unknown) => {
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
