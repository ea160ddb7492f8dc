// A loopback TCP forwarder a test can cut: the network fault a real API server does not make on
// demand. `cut` drops every connection through it and holds the ones opened after, unanswered, until
// `resume` forwards them: the client's next request waits in between, while the test changes the
// world behind its back. Bytes pass through untouched (TLS stays end to end).
import { connect, createServer, type Socket } from 'node:net';

export interface CuttableForward {
  port: number;
  /** Destroys every connection through the forwarder and holds new ones until `resume`. */
  cut(): void;
  /**
   * Connections opened since `cut` and held. Counted, not looked at: a held socket is paused, so
   * whether the client has given up on it shows only by chance, and a test asks whether a request
   * was ever made to wait.
   */
  held(): number;
  /** Forwards the held connections, and new ones again. */
  resume(): void;
  close(): Promise<void>;
}

export async function cuttableForward(targetPort: number, host = '127.0.0.1'): Promise<CuttableForward> {
  const open = new Set<Socket>();
  let waiting: Socket[] | undefined;
  let heldSinceCut = 0;
  const track = (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  };
  const forward = (inbound: Socket) => {
    const outbound = connect({ host, port: targetPort });
    track(outbound);
    outbound.once('error', () => inbound.destroy());
    inbound.once('error', () => outbound.destroy());
    inbound.pipe(outbound).pipe(inbound);
    inbound.resume();
  };
  const server = createServer((inbound) => {
    track(inbound);
    inbound.pause();
    if (waiting) {
      waiting.push(inbound);
      heldSinceCut += 1;
    } else forward(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as { port: number }).port,
    cut() {
      waiting ??= [];
      heldSinceCut = 0;
      for (const socket of open) socket.destroy();
    },
    held: () => heldSinceCut,
    resume() {
      const held = waiting ?? [];
      waiting = undefined;
      for (const socket of held) if (!socket.destroyed) forward(socket);
    },
    close: async () => {
      for (const socket of open) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
