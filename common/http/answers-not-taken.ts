import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { AnswersOwed } from './answers-owed.js';

/**
 * Cuts a connection whose client takes nothing of the answers it asked for during `idleMs`. Node
 * bounds how long a request takes to arrive (requestTimeout) and how long a connection may sit idle
 * between requests (keepAliveTimeout), but not how long an answer may wait for its client: one that
 * reads nothing, or pipelines requests and reads none of their answers (each is worked on at once and
 * its answer held in memory behind the first), kept the connection, those answers and, in a pool, the
 * tenant's requests under way (ADR 0223) for as long as it stayed connected (ADR 0394).
 *
 * The bound is the socket's own idle timer (`server.timeout`): every byte the client sends or takes
 * restarts it. A connection on which a handler is still at work (a page waiting on Atlassian; a
 * download, which bounds its own client with `res.setTimeout`) is left to that work; the timer is
 * started again. A keep-alive connection idle between requests is closed as Node closes it.
 */
export function boundAnswersNotTaken(
  server: Server,
  idleMs: number,
  owed: AnswersOwed,
  onCut: () => void,
): void {
  server.setTimeout(idleMs);
  // With a listener here Node no longer destroys a socket whose timer ran out: each case is ours.
  server.on('timeout', (socket: Socket) => {
    const answers = owed(socket);
    if (answers.some((res) => !res.writableEnded)) {
      socket.setTimeout(idleMs);
      return;
    }
    if (answers.length > 0) onCut();
    socket.destroy();
  });
}
