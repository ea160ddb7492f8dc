import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** The answers a connection owes: asked for and not closed yet, the one being sent and those pipelined behind it. */
export type AnswersOwed = (socket: Socket) => readonly ServerResponse[];

/**
 * Keeps the answers each connection owes, and closes those a closed connection still owed. Node's
 * documentation promises an answer's 'close' when "its underlying connection was terminated
 * prematurely", but Node 22 keeps it only for the answer being sent, not for those pipelined behind
 * it: their 'close' never came, so whatever waits for it waited for ever (a pool tenant's requests
 * under way, ADR 0223: a client that pipelined requests and hung up left the tenant's count up until
 * the process stopped, and enough of them had the tenant answered 503 POOL_TENANT_BUSY; ADR 0394).
 */
export function trackAnswersOwed(server: Server): AnswersOwed {
  const owedBy = new WeakMap<Socket, Set<ServerResponse>>();
  server.on('request', (req, res) => {
    let owed = owedBy.get(req.socket);
    if (!owed) {
      const answers = new Set<ServerResponse>();
      owedBy.set(req.socket, answers);
      req.socket.once('close', () => closeOwedOnceNodeIsDone(answers));
      owed = answers;
    }
    const answers = owed;
    answers.add(res);
    res.once('close', () => answers.delete(res));
  });
  return (socket) => [...(owedBy.get(socket) ?? [])];
}

/**
 * Closes, each once, the answers whose 'close' has not come once Node is done with the connection's
 * own. Node's listeners of the connection's 'close' close the answer being sent (synchronously; a
 * later version may close more, there or on the next tick); a tick queued from a tick runs after
 * every tick those listeners queued, so what Node closed has emitted its 'close' and left `answers`
 * by then. Nothing here depends on which answers Node closes: one seen closed is not closed again,
 * each one left is closed here once (ADR 0405). Still before any other I/O is handled: a request
 * arriving just after the hang-up finds its tenant's places freed.
 */
function closeOwedOnceNodeIsDone(answers: Set<ServerResponse>): void {
  process.nextTick(() =>
    process.nextTick(() => {
      for (const res of [...answers]) {
        answers.delete(res);
        // Destroyed first, so that the handler's later writes are refused rather than kept in memory.
        res.destroy();
        res.emit('close');
      }
    }),
  );
}
