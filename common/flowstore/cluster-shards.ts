/** One line of a Redis Cluster node's `CLUSTER NODES` answer. */
interface ClusterNode {
  id: string;
  /** How a cluster client names its connection to the node: `ip:port`, and `hostname:port` when it announces one. */
  addresses: string[];
  flags: string[];
  /** The id of the master a replica follows; `-` for a master. */
  master: string;
  /** When (ms, the answering node's clock) it sent the ping this node has not answered yet; `0` when none is pending. */
  pingSent: string;
  /** The answering node's cluster bus link to this node: `connected` or `disconnected`. */
  link: string;
}

/** `CLUSTER NODES`: `<id> <ip:port@cport[,hostname]> <flags> <master> <ping-sent> <pong-recv> <epoch> <link> <slot>...` (slots unread) */
function clusterNodesOf(clusterNodes: string): ClusterNode[] {
  return clusterNodes
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [id = '', address = '', flags = '', master = '', pingSent = '', , , link = ''] = line
        .trim()
        .split(' ');
      const [endpoint = '', hostname] = address.split(',');
      const ipPort = endpoint.split('@')[0] ?? '';
      const port = ipPort.slice(ipPort.lastIndexOf(':') + 1);
      const addresses = hostname ? [ipPort, `${hostname}:${port}`] : [ipPort];
      return { id, addresses, flags: flags.split(','), master, pingSent, link };
    });
}

/**
 * Whether a Redis Cluster master has no replica, by its own word (ADR 0353): its own `CLUSTER NODES`
 * lists none for it, failed ones aside (a failed replica cannot be promoted), and its `ROLE` none
 * connected. Another node's table comes from gossip and may not have heard of one yet. Each of the two
 * knows a replica the other may not: one cut off from it stays in its table (exactly one a failover
 * may promote without its last writes, ADR 0272), and one just in sync is in its ROLE before the
 * replica's next cluster bus ping puts it in its table (300-500 ms, measured). False when the node is
 * no master (a failover demoted it).
 */
export function masterWithoutReplica(clusterNodes: string, role: unknown): boolean {
  const nodes = clusterNodesOf(clusterNodes);
  const itself = nodes.find((node) => node.flags.includes('myself'));
  // ROLE on a master: ['master', <offset>, [[<ip>, <port>, <offset>], ...]], its connected replicas.
  const connected = Array.isArray(role) && role[0] === 'master' ? role[2] : undefined;
  return (
    itself?.flags.includes('master') === true &&
    Array.isArray(connected) &&
    connected.length === 0 &&
    !nodes.some((node) => node.master === itself.id && !node.flags.includes('fail'))
  );
}

/**
 * How long a cluster bus ping must have waited for its answer before its node counts as not heard: a
 * healthy node's ping is in flight for a round trip, and a node is pinged every second or so, so a
 * view taken then would excuse a master this pod cannot reach (ADR 0321). As long as the probe's own
 * deadline: no pod waits longer for a command either.
 */
const UNANSWERED_PING_MS = 500;

/**
 * The addresses of the nodes the answering node does not hear (ADRs 0310, 0321): its cluster bus link
 * to them down, a ping to them unanswered for UNANSWERED_PING_MS by `nowMs` (the answering node's
 * `TIME`, the clock its ping times are on), or flagged failing (`fail?`, `fail`). A node the cluster
 * does not hear fails every client alike; one it hears and a client cannot reach is that client's own
 * fault. A node the answer does not list is not among them.
 */
export function nodesNotHeard(clusterNodes: string, nowMs: number): Set<string> {
  const silent = clusterNodesOf(clusterNodes).filter(
    (node) =>
      node.link !== 'connected' ||
      (node.pingSent !== '0' && nowMs - Number(node.pingSent) >= UNANSWERED_PING_MS) ||
      node.flags.some((flag) => flag === 'fail' || flag === 'fail?'),
  );
  return new Set(silent.flatMap((node) => node.addresses));
}
