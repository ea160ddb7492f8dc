/** One line of a Redis Cluster node's `CLUSTER NODES` answer. */
interface ClusterNode {
  id: string;
  /** How a cluster client names its connection to the node: `ip:port`, and `hostname:port` when it announces one. */
  addresses: string[];
  flags: string[];
  /** The id of the master a replica follows; `-` for a master. */
  master: string;
  /** When the answering node sent the ping this node has not answered yet; `0` when none is pending. */
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
 * The addresses of the nodes the answering node does not hear (ADR 0310): its cluster bus link to
 * them down, a ping to them unanswered, or flagged failing (`fail?`, `fail`). A node the cluster does
 * not hear fails every client alike; one it hears and a client cannot reach is that client's own
 * fault. A node the answer does not list is not among them.
 */
export function nodesNotHeard(clusterNodes: string): Set<string> {
  const silent = clusterNodesOf(clusterNodes).filter(
    (node) =>
      node.link !== 'connected' ||
      node.pingSent !== '0' ||
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
