// A loopback port that forwards each connection to a Ready pod matching a label selector, at the
// pod's own IP (test/cluster: the host routes to pod IPs over the node's bridge). Like
// `kubectl port-forward svc/...`, but it looks the pod up per connection, so it keeps working while
// a rollout or a deleted pod replaces the pods behind it. Bytes pass through untouched, so a pod
// that serves TLS itself (tlsSecretRef) is reached over https:// with its own certificate.
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { KubeClient } from '../common/kube/client.js';

interface PodLike {
  metadata: { name: string; deletionTimestamp?: string };
  status?: { podIP?: string; conditions?: { type: string; status: string }[] };
}

export interface PodForward {
  url: string;
  close(): Promise<void>;
}

/** The IP of a Ready pod matching `selector` that is not being deleted, if any. */
export async function readyPodIp(
  client: KubeClient,
  namespace: string,
  selector: string,
): Promise<string | undefined> {
  const pods = await client.list<PodLike>(`/api/v1/namespaces/${namespace}/pods`, {
    labelSelector: selector,
  });
  return pods.items.find(
    (pod) =>
      !pod.metadata.deletionTimestamp &&
      pod.status?.podIP &&
      pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
  )?.status?.podIP;
}

export async function forwardToPods(
  client: KubeClient,
  namespace: string,
  selector: string,
  port: number,
  scheme: 'http' | 'https' = 'http',
): Promise<PodForward> {
  const open = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    open.add(inbound);
    inbound.once('close', () => open.delete(inbound));
    inbound.pause();
    readyPodIp(client, namespace, selector).then(
      (ip) => {
        if (!ip) return inbound.destroy();
        const outbound = connect({ host: ip, port });
        open.add(outbound);
        outbound.once('close', () => open.delete(outbound));
        outbound.once('error', () => inbound.destroy());
        inbound.once('error', () => outbound.destroy());
        inbound.pipe(outbound).pipe(inbound);
        inbound.resume();
      },
      () => inbound.destroy(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address() as { port: number };
  return {
    url: `${scheme}://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
