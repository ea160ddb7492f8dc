import type { ChildProcess } from 'node:child_process';
import { expect } from 'chai';
import type { KubeObject } from '../../common/kube/client.js';
import { freePort } from '../../common/net.js';
import { collectionPath, KINDS } from '../../operator/kube/kinds.js';
import { type Envtest, envtest, eventually, freshNamespace } from '../../testkit/envtest.js';
import { memoryOf, spawnOperator } from '../../testkit/operator-process.js';
import {
  createSharedTenantSecrets,
  createUnrelatedSecrets,
  tenantOnSharedSecrets,
} from '../../testkit/tenants.js';

/**
 * Secrets the operator does not read must not cost it memory: with 120 unrelated 700 KiB Secrets
 * (84 MiB, what Helm release history looks like) next to the tenants, the operator (its own
 * process, the chart's heap flags) stays under 200 MB and every tenant converges. It once listed
 * every Secret with its data and crash-looped on heap exhaustion.
 */
const UNRELATED = 120;
const SIZE_KIB = 700;
const TENANTS = 5;
const RSS_LIMIT_MB = 200;

describe('operator memory with large unrelated Secrets', function () {
  this.timeout(300_000);
  let env: Envtest;
  let namespace: string;
  let operator: ChildProcess | undefined;

  before(async () => {
    env = await envtest();
    namespace = await freshNamespace(env.client, 'memory');
    await createUnrelatedSecrets(env.client, namespace, UNRELATED, SIZE_KIB);
    await createSharedTenantSecrets(env.client, namespace);
  });

  after(async () => {
    if (operator && operator.exitCode === null) {
      const exited = new Promise((resolve) => operator!.once('exit', resolve));
      operator.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (operator.exitCode === null) operator.kill('SIGKILL');
    }
    // The Secrets are large: remove them so later tests' etcd stays small.
    await env.client.delete(collectionPath(KINDS.secret, namespace));
  });

  it(`converges every tenant and stays under ${RSS_LIMIT_MB} MB next to ${UNRELATED} unrelated ${SIZE_KIB} KiB Secrets`, async () => {
    const port = await freePort();
    operator = spawnOperator({ kubeconfig: env.kubeconfigPath, namespace, port });
    const exited = new Promise<number | null>((resolve) => operator!.once('exit', resolve));
    const tenants = collectionPath(KINDS.tenant, namespace);
    for (let i = 0; i < TENANTS; i++)
      await env.client.create(tenants, tenantOnSharedSecrets(namespace, `m${i}`));
    const converged = async () => {
      const list = await env.client.list<KubeObject>(tenants);
      return list.items.filter((t) =>
        (t['status'] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions?.some(
          (c) => c.type === 'Applied' && c.status === 'True',
        ),
      ).length;
    };
    await Promise.race([
      eventually(async () => (await converged()) === TENANTS, `all ${TENANTS} tenants Applied=True`, 180_000),
      exited.then((code) => {
        throw new Error(`the operator exited (code ${code}) before the tenants converged`);
      }),
    ]);
    // A relist of every Secret happens at start; one more cycle of the management port proves it is alive.
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).ok).to.equal(true);
    const { peakRssMb } = memoryOf(operator.pid!);
    expect(peakRssMb, 'peak RSS (MB)').to.be.below(RSS_LIMIT_MB);
  });
});
