// A loopback TCP forwarder a test can cut: the network fault a real API server does not make on
// demand. `cut` drops every connection through it and holds the ones opened after, unanswered, until
// `resume` forwards them: the client's next request waits in between, while the test changes the
// world behind its back; `hold` holds new ones only, those open go on (a TLS handshake, never
// answered, that never ends). `refuse` stops it listening, as a server gone down: a new connection is
// refused by the kernel, before any byte of a request is written. Bytes pass through untouched (TLS
// stays end to end).
import { connect, createServer, type Socket } from 'node:net';

export interface CuttableForward {
  port: number;
  /** Destroys every connection through the forwarder and holds new ones until `resume`. */
  cut(): void;
  /** Holds new connections, accepted and unanswered, until `resume`; those open go on. */
  hold(): void;
  /**
   * Connections opened since `cut` and held. Counted, not looked at: a held socket is paused, so
   * whether the client has given up on it shows only by chance, and a test asks whether a request
   * was ever made to wait.
   */
  held(): number;
  /** Forwards the held connections, and new ones again. */
  resume(): void;
  /**
   * Stops listening: connections opened after are refused (ECONNREFUSED), those open go on. Nothing
   * waits: a refused connection is the kernel's answer, not the forwarder's.
   */
  refuse(): void;
  /** Listens again, on the same port. */
  admit(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A forwarder to `target` on `host`: its port, or how to learn it when the target is started after the
 * forwarder (a harness's emulator, whose site URL is the forwarder's).
 */
export async function cuttableForward(
  target: number | (() => number),
  host = '127.0.0.1',
): Promise<CuttableForward> {
  const open = new Set<Socket>();
  let waiting: Socket[] | undefined;
  let heldSinceCut = 0;
  const track = (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  };
  const forward = (inbound: Socket) => {
    const outbound = connect({ host, port: typeof target === 'number' ? target : target() });
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
  const hold = () => {
    waiting ??= [];
    heldSinceCut = 0;
  };
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    hold,
    cut() {
      hold();
      for (const socket of open) socket.destroy();
    },
    held: () => heldSinceCut,
    resume() {
      const held = waiting ?? [];
      waiting = undefined;
      for (const socket of held) if (!socket.destroyed) forward(socket);
    },
    refuse() {
      server.close();
    },
    admit: () => new Promise<void>((resolve) => server.listen(port, host, resolve)),
    close: async () => {
      for (const socket of open) socket.destroy();
      if (server.listening) await new Promise((resolve) => server.close(resolve));
    },
  };
}
