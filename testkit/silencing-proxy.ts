// A loopback TCP proxy in front of a Redis whose connections can be made silent one by one: the peer
// gone without a FIN or a RST (a NAT or load balancer that forgot an idle connection, a host that
// vanished), which no real Redis can be asked to show for one connection while it answers the others.
// It can also make every answer late, for every client: a Redis that answers, slowly (CPU-starved,
// busy), which a real one shows only with timings no test can pin.
import { connect, createServer, type Socket } from 'node:net';

export interface SilencingProxy {
  port: number;
  /**
   * From now on nothing passes, either way, on the connections whose client has sent `sent` so far
   * (they stay open: half-open). Connections made later pass. Answers how many were silenced.
   */
  silenceThoseThatSent(sent: RegExp): number;
  /** From now on every answer, on every connection, reaches its client `ms` later, in order. */
  delayAnswers(ms: number): void;
  close(): Promise<void>;
}

export async function silencingProxy(targetPort: number): Promise<SilencingProxy> {
  const links = new Set<{ client: Socket; server: Socket; said: string; silent: boolean }>();
  let answerDelayMs = 0;
  const proxy = createServer((client) => {
    const server = connect(targetPort, '127.0.0.1');
    const link = { client, server, said: '', silent: false };
    links.add(link);
    client.on('data', (chunk: Buffer) => {
      if (link.silent) return;
      link.said += chunk.toString('latin1');
      server.write(chunk);
    });
    const answer = (chunk: Buffer) => {
      if (!link.silent && !client.destroyed) client.write(chunk);
    };
    // Timers of one length fire in the order they were set: the answers keep theirs.
    server.on('data', (chunk: Buffer) =>
      answerDelayMs > 0 ? setTimeout(answer, answerDelayMs, chunk) : answer(chunk),
    );
    for (const socket of [client, server])
      socket
        .on('error', () => {})
        .on('close', () => {
          links.delete(link);
          client.destroy();
          server.destroy();
        });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    port: (proxy.address() as { port: number }).port,
    silenceThoseThatSent(sent) {
      let silenced = 0;
      for (const link of links)
        if (!link.silent && sent.test(link.said)) {
          link.silent = true;
          silenced += 1;
        }
      return silenced;
    },
    delayAnswers(ms) {
      answerDelayMs = ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const { client, server } of links) {
          client.destroy();
          server.destroy();
        }
        proxy.close(() => resolve());
      }),
  };
}
