// `jsm-sso dev jsm-emulator`: the emulated Atlassian site as a process, with the control API on.
import { optionalPort, parseCommand } from '../../common/args.js';
import { exitOnSignals } from '../../common/http/server.js';
import { createLogger } from '../../common/log.js';
import { startJsmEmulator } from './emulator.js';
import { loadDefaultSeed, loadSeedFile } from './seed.js';

const COMMAND = {
  name: 'dev jsm-emulator',
  summary:
    'A stateful emulator of an Atlassian JSM Cloud site (servicedeskapi + the Jira platform calls a portal needs).',
  options: {
    port: { type: 'string' as const, value: 'N', description: 'Port (default 8090; 0 picks a free one).' },
    host: {
      type: 'string' as const,
      value: 'ADDR',
      description: 'Address to listen on (default 127.0.0.1).',
    },
    seed: {
      type: 'string' as const,
      value: 'FILE',
      description: 'Seed YAML (default: the built-in help center).',
    },
  },
};

export async function run(argv: string[]): Promise<void> {
  const values = parseCommand(COMMAND, argv);
  if (!values) return;
  const seed = typeof values['seed'] === 'string' ? loadSeedFile(values['seed']) : loadDefaultSeed();
  const logger = createLogger({ component: 'jsm-emulator' });
  const emulator = await startJsmEmulator({
    seed,
    port: optionalPort(values, 'port', 8090),
    host: typeof values['host'] === 'string' ? values['host'] : '127.0.0.1',
    devControl: true,
    logger,
  });
  logger.info(
    { event: 'jsm_emulator.started', url: emulator.url },
    `JSM emulator on ${emulator.url} (control API: ${emulator.url}/__emulator/faults)`,
  );
  exitOnSignals(() => emulator.close(), logger);
}
