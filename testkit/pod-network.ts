// A private pod network in the host, made with iproute2 the way a CNI bridge plugin makes one: a
// bridge holding the first address of a /24 the test owns, and per pod a network namespace joined
// to it by a veth pair. Pods reach the host (and each other) at their own addresses; the host and
// its browser reach them the same way. Everything made here is removed by `remove()`, also from
// the process's exit handler when a test run dies half way.
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';

export interface PodNetwork {
  /** The bridge's address in the host: where pods find services the test runs. */
  hostAddress: string;
  /** A new network namespace with the next address; returns its /var/run/netns path and IP. */
  addPod(): { netnsPath: string; address: string };
  remove(): void;
}

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A 10.x.y.0/24 that no interface of the host uses (a random one, so parallel runs do not meet). */
function freeSubnet(): string {
  const used = ip('-4', '-o', 'addr', 'show');
  for (let attempt = 0; attempt < 50; attempt++) {
    const prefix = `10.${randomInt(200, 250)}.${randomInt(0, 256)}`;
    if (!used.includes(` ${prefix}.`)) return prefix;
  }
  throw new Error('no free 10.x.y.0/24 for the pod network');
}

export function createPodNetwork(): PodNetwork {
  // Interface names are at most 15 characters: "jsp" + 6 hex + a suffix.
  const id = `jsp${randomBytes(3).toString('hex')}`;
  const subnet = freeSubnet();
  const bridge = `${id}br`;
  const namespaces: string[] = [];
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    for (const ns of namespaces) quietly(() => ip('netns', 'delete', ns));
    quietly(() => ip('link', 'delete', bridge));
  };
  process.once('exit', remove);
  try {
    ip('link', 'add', bridge, 'type', 'bridge');
    ip('addr', 'add', `${subnet}.1/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
  } catch (err) {
    remove();
    throw err;
  }
  return {
    hostAddress: `${subnet}.1`,
    addPod() {
      const n = namespaces.length + 2;
      const ns = `${id}-${n}`;
      const hostEnd = `${id}h${n}`;
      const podEnd = `${id}p${n}`;
      const address = `${subnet}.${n}`;
      ip('netns', 'add', ns);
      namespaces.push(ns);
      ip('link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', podEnd);
      ip('link', 'set', podEnd, 'netns', ns);
      ip('-n', ns, 'link', 'set', podEnd, 'name', 'eth0');
      ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
      ip('-n', ns, 'link', 'set', 'eth0', 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'route', 'add', 'default', 'via', `${subnet}.1`);
      ip('link', 'set', hostEnd, 'master', bridge);
      ip('link', 'set', hostEnd, 'up');
      return { netnsPath: `/var/run/netns/${ns}`, address };
    },
    remove,
  };
}

function quietly(action: () => unknown): void {
  try {
    action();
  } catch {
    // Already gone.
  }
}
