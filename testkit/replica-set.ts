// The replicas of one part (broker or portal) behind one balancer, as a Deployment's pods behind a
// Service: real `jsm-sso` processes from source, each taken out of the balancer before it goes and put
// back once ready again. A chaos test crashes (SIGKILL) or stops (SIGTERM, its graceful drain) one while
// the other serves.
import type { ChildProcess } from 'node:child_process';
import { exited, jsmSso, listening } from './part-process.js';
import { waitReady } from './portal-process.js';
import type { RollingBalancer } from './rolling-balancer.js';

export type PartName = 'broker' | 'portal';

interface Replica {
  child: ChildProcess;
  url: string;
}

export interface ReplicaSet {
  readonly part: PartName;
  readonly size: number;
  /**
   * Replica `index` out of the balancer, killed (SIGKILL: requests on it are cut), started again and put
   * back once ready.
   */
  crash(index: number): Promise<void>;
  /**
   * Replica `index` sent SIGTERM, out of the balancer `unroutedAfterMs` later (a Service notices a pod
   * going while it drains), started again once it exited and put back once ready; its exit code.
   */
  terminate(index: number, unroutedAfterMs: number): Promise<number | null>;
  /** Every replica killed, each awaited. */
  close(): Promise<void>;
}

export interface ReplicaSetOptions {
  part: PartName;
  /** `jsm-sso <part>`'s arguments but its ports and drain (--config, --secrets-dir, --host). */
  args: string[];
  size: number;
  balancer: RollingBalancer;
  /** --drain-seconds: how long a replica told SIGTERM serves on. */
  drainSeconds: number;
}

export async function startReplicaSet(options: ReplicaSetOptions): Promise<ReplicaSet> {
  const { part, balancer } = options;
  const replicas: (Replica | undefined)[] = [];
  const everyChild: ChildProcess[] = [];
  const route = () => {
    const urls = replicas.filter((r) => r !== undefined).map((r) => r.url);
    if (urls.length > 0) balancer.routeTo(urls[0]!, ...urls.slice(1));
  };
  const start = async (index: number) => {
    const child = jsmSso([
      part,
      ...options.args,
      '--port',
      '0',
      '--management-port',
      '0',
      '--drain-seconds',
      String(options.drainSeconds),
    ]);
    everyChild.push(child);
    const urls = await listening(child, [part, 'management']);
    await waitReady(`${urls['management']}/readyz`);
    replicas[index] = { child, url: urls[part]! };
    route();
  };
  const running = (index: number): Replica => {
    const replica = replicas[index];
    if (!replica) throw new Error(`${part} replica ${index} is not running`);
    return replica;
  };
  const unroute = (replica: Replica) => {
    const index = replicas.indexOf(replica);
    if (index < 0) return;
    replicas[index] = undefined;
    route();
  };
  for (let index = 0; index < options.size; index++) await start(index);
  return {
    part,
    size: options.size,
    async crash(index) {
      const replica = running(index);
      unroute(replica);
      const gone = exited(replica.child);
      replica.child.kill('SIGKILL');
      await gone;
      await start(index);
    },
    async terminate(index, unroutedAfterMs) {
      const replica = running(index);
      const gone = exited(replica.child);
      replica.child.kill('SIGTERM');
      const unrouted = setTimeout(() => unroute(replica), unroutedAfterMs);
      const { code } = await gone;
      clearTimeout(unrouted);
      unroute(replica);
      await start(index);
      return code;
    },
    async close() {
      for (const child of everyChild)
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await Promise.all(everyChild.map(exited));
    },
  };
}
