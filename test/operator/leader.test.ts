import type { ChildProcess } from 'node:child_process';
import { expect } from 'chai';
import type { KubeObject } from '../../common/kube/client.js';
import { collectionPath, KINDS, objectPath } from '../../operator/kube/kinds.js';
import { type Envtest, envtest, eventually, freshNamespace } from '../../testkit/envtest.js';
import { jsmSso, onLogLine } from '../../testkit/part-process.js';
import { createTenantSecrets, tenantObject } from '../../testkit/tenants.js';

/**
 * Operator replicas as real processes (`jsm-sso operator`), killed with SIGKILL like a crashed pod, and
 * restarted as their Deployment restarts them when they exit after losing the lease.
 */
describe('operator replicas and crashes', function () {
  this.timeout(120_000);
  let env: Envtest;
  let namespace: string;
  /** Each replica's current process, by pod name. */
  const replicas = new Map<string, ChildProcess>();
  /** Pod names the test killed: they stay down. */
  const killed = new Set<string>();

  before(async () => {
    env = await envtest();
    namespace = await freshNamespace(env.client, 'ha');
  });

  after(() => {
    for (const name of replicas.keys()) killReplica(name);
  });

  function killReplica(name: string): void {
    killed.add(name);
    const child = replicas.get(name);
    if (child?.exitCode === null) child.kill('SIGKILL');
  }

  /**
   * A leader whose renewal goes unanswered past the renew deadline exits, by design, for its
   * Deployment to restart it; on a loaded machine (the API server slow to answer) that happens
   * whatever the timings, and with neither replica restarted no tenant converged. Any other exit is
   * a crash, left down for the test to fail on.
   */
  function startReplica(name: string): void {
    const child = jsmSso(
      [
        'operator',
        '--kubeconfig',
        env.kubeconfigPath,
        '--watch-namespaces',
        namespace,
        '--management-port',
        '0',
        '--host',
        '127.0.0.1',
        '--image',
        'jsm-sso:test',
        '--leader-election-namespace',
        namespace,
        // Room for a loaded machine: the fence refuses a leader's writes (its reconciles back off)
        // once its last renewal was sent longer than the renew deadline ago; at 2 s, with a renewal a
        // second after the last answer, a round trip over 0.5 s did.
        '--lease-duration-seconds',
        '10',
        '--renew-deadline-seconds',
        '8',
        '--retry-period-seconds',
        '1',
      ],
      { POD_NAME: name, LOG_LEVEL: 'warn' },
    );
    replicas.set(name, child);
    let lostLease = false;
    onLogLine(child, (entry) => {
      if (entry['event'] === 'leader.lost') lostLease = true;
    });
    child.once('exit', () => {
      if (lostLease && !killed.has(name)) startReplica(name);
    });
  }

  async function holder(): Promise<string | undefined> {
    const lease = await env.client.get<{ spec: { holderIdentity?: string } }>(
      objectPath(KINDS.lease, namespace, 'jsm-sso-operator'),
    );
    return lease?.spec.holderIdentity || undefined;
  }

  async function converged(name: string): Promise<void> {
    await eventually(
      async () => {
        const t = await env.client.get<
          KubeObject & { status?: { conditions?: { type: string; status: string }[] } }
        >(objectPath(KINDS.tenant, namespace, name));
        const valid = t?.status?.conditions?.find((c) => c.type === 'ConfigValid')?.status === 'True';
        return (
          valid &&
          (await env.client.get(objectPath(KINDS.deployment, namespace, `${name}-portal`))) !== undefined
        );
      },
      `tenant ${name} to converge`,
      60_000,
    );
  }

  async function addTenant(name: string): Promise<void> {
    await createTenantSecrets(env.client, namespace, name);
    await env.client.create(collectionPath(KINDS.tenant, namespace), tenantObject(namespace, name));
  }

  it('elects one leader of two replicas and fails over when it dies', async () => {
    startReplica('replica-a');
    startReplica('replica-b');
    const first = await eventually(holder, 'a leader', 60_000);
    expect(first).to.match(/^replica-[ab]_/);
    await addTenant('one');
    await converged('one');
    // By pod name: a replica restarted after losing the lease holds it under a new identity.
    const leaderPod = first.split('_')[0]!;
    killReplica(leaderPod);
    await eventually(
      async () => {
        const h = await holder();
        return h !== undefined && h.split('_')[0] !== leaderPod;
      },
      'the standby to take over',
      60_000,
    );
    await addTenant('two');
    await converged('two');
  });

  it('converges without duplicates after being killed mid-reconcile', async () => {
    const names = ['k1', 'k2', 'k3', 'k4', 'k5'];
    for (const name of names) await addTenant(name);
    // Kill every replica as soon as the first owned object of the batch appears.
    await eventually(
      async () => (await env.client.get(objectPath(KINDS.configMap, namespace, 'k1-config'))) !== undefined,
      'a first write',
    );
    for (const name of replicas.keys()) killReplica(name);
    startReplica('replica-c');
    for (const name of names) await converged(name);
    const secrets = await env.client.list<KubeObject>(collectionPath(KINDS.secret, namespace));
    for (const name of names) {
      const signing = secrets.items.filter(
        (s) => s.metadata.name?.startsWith(`${name}-`) && s.metadata.name.endsWith('-signing'),
      );
      expect(signing.map((s) => s.metadata.name).sort()).to.deep.equal([
        `${name}-broker-signing`,
        `${name}-portal-signing`,
      ]);
    }
    const deployments = await env.client.list<KubeObject>(collectionPath(KINDS.deployment, namespace));
    const ours = deployments.items.filter((d) => names.some((n) => d.metadata.name?.startsWith(`${n}-`)));
    expect(ours).to.have.length(names.length * 2);
    for (const d of ours) expect(d.metadata.ownerReferences).to.have.length(1);
  });
});
