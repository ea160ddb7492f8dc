import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** The answers a connection owes: asked for and not closed yet, the one being sent and those pipelined behind it. */
export type AnswersOwed = (socket: Socket) => readonly ServerResponse[];

/**
 * Keeps the answers each connection owes, and closes those a closed connection still owed. Node
 * closes the answer being sent when its connection closes, not the ones pipelined behind it: their
 * 'close' never came, so whatever waits for it waited for ever (a pool tenant's requests under way,
 * ADR 0223: a client that pipelined requests and hung up left the tenant's count up until the process
 * stopped, and enough of them had the tenant answered 503 POOL_TENANT_BUSY; ADR 0394).
 */
export function trackAnswersOwed(server: Server): AnswersOwed {
  const owedBy = new WeakMap<Socket, Set<ServerResponse>>();
  server.on('request', (req, res) => {
    let owed = owedBy.get(req.socket);
    if (!owed) {
      const answers = new Set<ServerResponse>();
      owedBy.set(req.socket, answers);
      // After Node's own listener, which closes the answer being sent.
      req.socket.once('close', () => process.nextTick(() => [...answers].forEach(closeAnswer)));
      owed = answers;
    }
    const answers = owed;
    answers.add(res);
    res.once('close', () => answers.delete(res));
  });
  return (socket) => [...(owedBy.get(socket) ?? [])];
}

/** As Node closes the answer being sent when its connection goes: destroyed, then 'close'. */
function closeAnswer(res: ServerResponse): void {
  res.destroy();
  res.emit('close');
}
