// `jsm-sso dev <tool>`: the local stack used by `npm start` and by the tests.
import { UsageError } from '../cli/args.js';

type Run = (argv: string[]) => Promise<void>;

const TOOLS: Record<string, { summary: string; load: () => Promise<Run> }> = {
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

function usage(): string {
  const lines = ['Usage: jsm-sso dev <tool> [options]', '', 'Tools:'];
  for (const [name, { summary }] of Object.entries(TOOLS)) lines.push(`  ${name.padEnd(14)} ${summary}`);
  return lines.join('\n');
}

export async function run(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    console.log(usage());
    return;
  }
  const tool = TOOLS[name];
  if (!tool) throw new UsageError(`unknown dev tool ${JSON.stringify(name)}\n\n${usage()}`);
  await (await tool.load())(rest);
}
