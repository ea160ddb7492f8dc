// The server every part runs (common/http/server.ts), on a loopback port, for a test that talks to it
// on a raw socket as a client of its own making would.
import type { RequestListener } from 'node:http';
import { type RunningServer, type StartServerOptions, startServer } from '../common/http/server.js';
import { createLogger } from '../common/log.js';

/** `handler` behind the public server on 127.0.0.1 (a free port), logging nothing unless `options` give a logger. */
export function startLoopbackServer(
  handler: RequestListener,
  options: Partial<Omit<StartServerOptions, 'handler'>> = {},
): Promise<RunningServer> {
  return startServer({
    name: 'loopback',
    port: 0,
    host: '127.0.0.1',
    logger: createLogger({ component: 'test', level: 'silent' }),
    ...options,
    handler,
  });
}
