// `jsm-sso dev <tool>`: the local stack used by `npm start` and by the tests.
import { runSubcommand, type Subcommand } from '../common/args.js';

const TOOLS: Record<string, Subcommand> = {
  'jsm-emulator': {
    summary: 'A stateful emulator of an Atlassian JSM Cloud site',
    load: async () => (await import('./jsm-emulator/cli.js')).run,
  },
  idp: {
    summary: 'A development OpenID Connect provider (oidc-provider)',
    load: async () => (await import('./idp/cli.js')).run,
  },
  start: {
    summary: 'The whole stack on loopback (what `npm start` runs)',
    load: async () => (await import('./start.js')).run,
  },
};

export function run(argv: string[]): Promise<void> {
  return runSubcommand('jsm-sso dev', TOOLS, argv);
}
