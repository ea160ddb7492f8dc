// A load balancer in front of the replicas of one part during a rolling upgrade: one public URL, each
// request sent whole to the replica the test routes to now (an older pod or a newer one). Routing per
// request, not per connection: a browser's kept-alive connection reaches whichever pod the balancer
// picks for its next request, as it does behind a Service.
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RollingBalancer {
  /** The public URL (http://127.0.0.1:<port>), the part's URL in the tenant. */
  url: string;
  /** Sends the requests from now on to the replica listening at `replicaUrl`. */
  routeTo(replicaUrl: string): void;
  close(): Promise<void>;
}

export async function rollingBalancer(): Promise<RollingBalancer> {
  let replica: URL | undefined;
  const server = createServer((incoming, answer) => {
    if (!replica) {
      answer.writeHead(503).end('no replica routed');
      return;
    }
    // Host stays the public one, as a Service forwards it.
    const upstream = request(
      {
        host: replica.hostname,
        port: replica.port,
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
      },
      (reply) => {
        answer.writeHead(reply.statusCode ?? 502, reply.rawHeaders);
        reply.pipe(answer);
      },
    );
    upstream.on('error', () => answer.destroy());
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    routeTo(replicaUrl) {
      replica = new URL(replicaUrl);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
