#!/usr/bin/env node
// The one executable: `jsm-sso operator|broker|portal|validate|keys|purge|version|dev`. Each part loads lazily so that,
// e.g., the broker image path never imports the operator's Kubernetes client.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type CommandRun, runSubcommand, type Subcommand, UsageError } from '../common/args.js';
import { ConfigError, JsmSsoError } from '../common/errors.js';
import { EXIT_PORT_UNAVAILABLE, PortUnavailableError } from '../common/http/port-unavailable.js';
import { exitOnSignalsWhileStarting } from '../common/http/server.js';
import { createLogger } from '../common/log.js';

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
  validate: {
    summary: 'Check tenant YAML files against the CRD schema and CEL rules, offline',
    load: async () => (await import('./validate.js')).run,
  },
  keys: {
    summary: 'Generate the SAML signing keys a standalone broker and portal read',
    load: async () => (await import('./keys.js')).run,
  },
  purge: {
    summary: "Delete a removed tenant's keys from its Redis or its pool's",
    load: async () => (await import('./purge.js')).run,
  },
  version: {
    summary: 'Print the version (also --version)',
    load: async () => (await import('./version.js')).run,
  },
};

// The local stack (JSM emulator, dev IdP) is absent from the runtime build and the image, so its
// command is too. The specifier is a URL so that tsc does not pull dev/ into the build; a source
// checkout, run through tsx, has dev/cli.ts.
const DEV_TOOLS = new URL('../dev/cli.js', import.meta.url);
const devSource = fileURLToPath(DEV_TOOLS);
if (existsSync(devSource) || existsSync(devSource.replace(/\.js$/, '.ts'))) {
  COMMANDS['dev'] = {
    summary: 'Local stack: jsm-emulator, idp, start',
    load: async () => ((await import(DEV_TOOLS.href)) as { run: CommandRun }).run,
  };
}

const argv = process.argv.slice(2);
if (argv[0] === '--version' || argv[0] === '-V') argv[0] = 'version';

// A long-running command is a container's PID 1, and the kernel ignores a signal PID 1 has no handler
// for: the stop while starting is in place before the command's modules load (seconds on a busy node)
// and before it waits on anything (a pool on its API server, the operator on its hash key).
const SERVING = new Set(['operator', 'broker', 'portal']);
if (argv[0] !== undefined && SERVING.has(argv[0]))
  exitOnSignalsWhileStarting(createLogger({ component: argv[0] }));

runSubcommand('jsm-sso', COMMANDS, argv).catch((err: unknown) => {
  if (err instanceof UsageError) {
    console.error(`jsm-sso: ${err.message}`);
    process.exit(2);
  }
  if (err instanceof ConfigError) {
    console.error(`jsm-sso: ${err.subject} is invalid:`);
    for (const problem of err.problems) console.error(`  - ${problem.path}: ${problem.message}`);
    process.exit(1);
  }
  // Said already, as a log line where the port was to open (server.listen_failed).
  if (err instanceof PortUnavailableError) process.exit(EXIT_PORT_UNAVAILABLE);
  // A known failure (a missing or unreadable file, a bad key): one line with its code, no stack.
  if (err instanceof JsmSsoError) {
    console.error(`jsm-sso: ${err.message} [${err.code}]`);
    process.exit(1);
  }
  console.error(`jsm-sso: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
