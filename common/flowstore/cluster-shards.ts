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
  slots: string[];
}

/** `CLUSTER NODES`: `<id> <ip:port@cport[,hostname]> <flags> <master> <ping-sent> <pong-recv> <epoch> <link> <slot>...` */
function clusterNodesOf(clusterNodes: string): ClusterNode[] {
  return clusterNodes
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [id = '', address = '', flags = '', master = '', pingSent = '', , , link = '', ...slots] = line
        .trim()
        .split(' ');
      const [endpoint = '', hostname] = address.split(',');
      const ipPort = endpoint.split('@')[0] ?? '';
      const port = ipPort.slice(ipPort.lastIndexOf(':') + 1);
      const addresses = hostname ? [ipPort, `${hostname}:${port}`] : [ipPort];
      return { id, addresses, flags: flags.split(','), master, pingSent, link, slots };
    });
}

/**
 * How many replicas a Redis Cluster node's `CLUSTER NODES` answer lists for the master that owns
 * `slot`, failed ones aside (a failed replica cannot be promoted). Every replica the cluster knows
 * counts, whatever its link to the master: one cut off from it is exactly one a failover may promote
 * without the master's last writes (ADR 0272). Undefined when no master is seen owning the slot.
 */
export function replicasOfSlotOwner(clusterNodes: string, slot: number): number | undefined {
  const nodes = clusterNodesOf(clusterNodes);
  const owner = nodes.find(
    (node) => node.flags.includes('master') && node.slots.some((range) => rangeHolds(range, slot)),
  );
  if (!owner) return undefined;
  return nodes.filter((node) => node.master === owner.id && !node.flags.includes('fail')).length;
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

/** `5461`, `0-5460`; a slot being moved (`[5461->-id]`) is not counted as held. */
function rangeHolds(range: string, slot: number): boolean {
  const bounds = /^(\d+)(?:-(\d+))?$/.exec(range);
  if (!bounds) return false;
  const from = Number(bounds[1]);
  return slot >= from && slot <= Number(bounds[2] ?? from);
}
