// The stop while starting (a signal exits at once) hands over to the graceful stop once the process
// serves (common/http/server.ts). A signal already received, its listener not yet called when the
// handover runs in the same turn of the event loop (the last answer a start waits for, read with the
// signal), must reach the stop that replaces it, not be dropped with the listener it came for.
// A real child process, which signals itself: what a container's PID 1 gets from the kubelet.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const SERVER = fileURLToPath(new URL('../../common/http/server.ts', import.meta.url));
const LOG = fileURLToPath(new URL('../../common/log.ts', import.meta.url));

/**
 * The child's JSON log lines: it takes SIGTERM while starting and, in the same turn, hands over to the
 * graceful stop; then sends itself SIGINT, after the handover, which the graceful stop takes in any case.
 */
async function handoverLines(): Promise<Record<string, unknown>[]> {
  const script = `
    import { exitOnSignals, exitOnSignalsWhileStarting } from ${JSON.stringify(SERVER)};
    import { createLogger } from ${JSON.stringify(LOG)};
    const logger = createLogger({ component: 'handover' });
    exitOnSignalsWhileStarting(logger);
    process.kill(process.pid, 'SIGTERM');
    exitOnSignals(async () => {}, logger);
    setImmediate(() => process.kill(process.pid, 'SIGINT'));
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, LOG_LEVEL: 'info' },
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  await new Promise((resolve) => child.once('close', resolve));
  return out
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('the stop while starting hands a signal already received to the graceful stop', function () {
  this.timeout(60_000);

  it('stops on a SIGTERM received just before the handover, not only on the next signal', async () => {
    const stopping = (await handoverLines()).filter((l) => l['event'] === 'process.stopping');
    expect(stopping.map((l) => l['signal'])[0], 'the first signal the graceful stop took').to.equal(
      'SIGTERM',
    );
  });
});
