// A load balancer in front of the replicas of one part during a rolling upgrade: one public URL, each
// request sent whole to the replica the test routes to now (an older pod or a newer one). Routing per
// request, not per connection: a browser's kept-alive connection reaches whichever pod the balancer
// picks for its next request, as it does behind a Service. Routed to several replicas, it takes them in
// turn, as a Service spreads requests over its ready endpoints (the chaos test's two replicas per part).
import { type RequestListener, request } from 'node:http';
import { listenOnLoopbacks } from './pool.js';

export interface RollingBalancer {
  /** The public URL (http://127.0.0.1:<port>), the part's URL in the tenant. */
  url: string;
  /**
   * The public URLs at 127.0.0.1, 127.0.0.2, ... on the one port: a pool's tenants' hosts, as an ingress
   * puts them in front of one Service. The first is `url`.
   */
  urls: string[];
  /** Sends the requests from now on to the replica listening at `replicaUrl`, or to each of several in turn. */
  routeTo(replicaUrl: string, ...more: string[]): void;
  close(): Promise<void>;
}

/** A balancer answering at `hosts` loopback addresses (one for a dedicated tenant, one per pooled tenant). */
export async function rollingBalancer(hosts = 1): Promise<RollingBalancer> {
  let replicas: URL[] = [];
  let turn = 0;
  const forward: RequestListener = (incoming, answer) => {
    const replica = replicas[turn++ % Math.max(replicas.length, 1)];
    if (!replica) {
      answer.writeHead(503).end('no replica routed');
      return;
    }
    // Host stays the public one, as a Service forwards it: a pool picks its tenant by it.
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
  };
  const { urls, close } = await listenOnLoopbacks(forward, hosts);
  return {
    url: urls[0]!,
    urls,
    routeTo(replicaUrl, ...more) {
      replicas = [replicaUrl, ...more].map((url) => new URL(url));
    },
    close,
  };
}
