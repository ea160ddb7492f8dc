// Emulator faults that close every connection once answered, so that no call reuses one: a call made
// while the site is refused, or held, opens a connection of its own (and meets the fault).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultRule } from '../dev/jsm-emulator/faults.js';

/** The answer to `req` closes its connection (`Connection: close`): undici drops it once answered. */
export function closedAfter(req: IncomingMessage): void {
  (req as IncomingMessage & { res: ServerResponse }).res.setHeader('connection', 'close');
}

/**
 * Every call on a connection of its own: none is left open for a later call to reuse, so a call made
 * while the site is down (or stalled) connects, and meets it.
 */
export const EVERY_CALL_CLOSES: FaultRule = {
  onArrival: async (req) => {
    closedAfter(req);
  },
};
