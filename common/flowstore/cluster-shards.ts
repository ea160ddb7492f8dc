/**
 * How many replicas a Redis Cluster node's `CLUSTER NODES` answer lists for the master that owns
 * `slot`, failed ones aside (a failed replica cannot be promoted). Every replica the cluster knows
 * counts, whatever its link to the master: one cut off from it is exactly one a failover may promote
 * without the master's last writes (ADR 0272). Undefined when no master is seen owning the slot.
 */
export function replicasOfSlotOwner(clusterNodes: string, slot: number): number | undefined {
  const nodes = clusterNodes
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [id = '', , flags = '', master = '', , , , , ...slots] = line.trim().split(' ');
      return { id, flags: flags.split(','), master, slots };
    });
  const owner = nodes.find(
    (node) => node.flags.includes('master') && node.slots.some((range) => rangeHolds(range, slot)),
  );
  if (!owner) return undefined;
  return nodes.filter((node) => node.master === owner.id && !node.flags.includes('fail')).length;
}

/** `5461`, `0-5460`; a slot being moved (`[5461->-id]`) is not counted as held. */
function rangeHolds(range: string, slot: number): boolean {
  const bounds = /^(\d+)(?:-(\d+))?$/.exec(range);
  if (!bounds) return false;
  const from = Number(bounds[1]);
  return slot >= from && slot <= Number(bounds[2] ?? from);
}
