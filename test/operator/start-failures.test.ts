// The operator's start when it cannot reach its API server, or is refused there (ADR 0332): a failure
// no wait heals (a token refused, RBAC missing, no kubeconfig) ends the process with one coded line
// and exit 1, not a Node stack; an API server that does not answer yet is waited for, and said so.
// Real processes against the real kube-apiserver; the one fault it cannot make (its port refusing
// connections, then answering) is a loopback forwarder in front of it.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse, stringify } from 'yaml';
import { collectionPath, KINDS } from '../../operator/kube/kinds.js';
import { admissionPolicy } from '../../testkit/admission-policy.js';
import {
  type Envtest,
  envtest,
  eventually,
  freshNamespace,
  installCrd,
  separateEnvtest,
} from '../../testkit/envtest.js';
import { spawnOperator } from '../../testkit/operator-process.js';
import { exited, listening, onLogLine } from '../../testkit/part-process.js';

interface Kubeconfig {
  clusters: { cluster: { server: string } }[];
  users: { user: Record<string, unknown> }[];
}

/** The test cluster's kubeconfig with `change` made, in a file of its own. */
function kubeconfigWith(env: Envtest, change: (config: Kubeconfig) => void): string {
  const config = parse(readFileSync(env.kubeconfigPath, 'utf8')) as Kubeconfig;
  change(config);
  const path = join(mkdtempSync(join(tmpdir(), 'jsm-sso-start-')), 'kubeconfig');
  writeFileSync(path, stringify(config));
  return path;
}

/** Exit 1 and stderr one line ending with `[code]`: what an engineer reads, no stack. */
async function expectOneCodedLine(operator: ChildProcess, code: string): Promise<string> {
  operator.stdout!.resume();
  const ended = await exited(operator);
  expect(ended.code).to.equal(1);
  const lines = ended.stderr.trimEnd().split('\n');
  expect(lines, ended.stderr).to.have.lengthOf(1);
  expect(lines[0]).to.match(new RegExp(`\\[${code}\\]$`));
  return lines[0]!;
}

/** Every JSON log line `child` writes with event `event`, as they come. */
function linesOf(child: ChildProcess, event: string): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  onLogLine(child, (line) => {
    if (line['event'] === event) lines.push(line);
  });
  return lines;
}

describe('operator: start failures (real kube-apiserver, real process)', function () {
  this.timeout(120_000);
  let env: Envtest;
  let team: string;

  before(async () => {
    env = await envtest();
  });
  beforeEach(async () => {
    team = await freshNamespace(env.client, 'start');
  });

  /** The operator on `kubeconfig`, its info lines on stdout; `ended` once it has exited. */
  function operatorWith(kubeconfig: string): { operator: ChildProcess; ended: ReturnType<typeof exited> } {
    const operator = spawnOperator({ kubeconfig, namespace: team, port: 0, pipeLog: true, logLevel: 'info' });
    return { operator, ended: exited(operator) };
  }

  it('a token the API server refuses (401) is one line OPERATOR_API_ACCESS_DENIED and exit 1', async () => {
    const kubeconfig = kubeconfigWith(env, (c) => {
      c.users[0]!.user = { token: 'not-a-token-the-api-server-knows' };
    });
    const line = await expectOneCodedLine(
      spawnOperator({ kubeconfig, namespace: team, port: 0, pipeLog: true }),
      'OPERATOR_API_ACCESS_DENIED',
    );
    expect(line).to.include('401 Unauthorized').and.include('token is invalid or expired');
  });

  it('a service account without RBAC (403 on the hash key Secret) is one line OPERATOR_API_ACCESS_DENIED and exit 1', async () => {
    await env.client.create(collectionPath(KINDS.serviceAccount, team), {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'no-role', namespace: team },
    });
    const granted = await env.client.request<{ status: { token: string } }>(
      'POST',
      `/api/v1/namespaces/${team}/serviceaccounts/no-role/token`,
      { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} } },
    );
    const kubeconfig = kubeconfigWith(env, (c) => {
      c.users[0]!.user = { token: granted.status.token };
    });
    const line = await expectOneCodedLine(
      spawnOperator({ kubeconfig, namespace: team, port: 0, pipeLog: true }),
      'OPERATOR_API_ACCESS_DENIED',
    );
    expect(line).to.include('403 Forbidden').and.include('lacks get or create on Secrets');
  });

  // An admission policy or a quota refusing the Secret's creation is no lack of RBAC, and no more healed
  // by a wait: the API server's words say which policy, the line says nothing else.
  for (const [reason, status] of [
    ['Invalid', '422 Invalid'],
    ['Forbidden', '403 Forbidden'],
  ] as const) {
    it(`an admission policy refusing its hash key Secret (${status}) is one line OPERATOR_API_ACCESS_DENIED and exit 1`, async () => {
      // The operator's own namespace out of a pod: POD_NAMESPACE, else default (operator/cli.ts).
      const own = process.env['POD_NAMESPACE'] ?? 'default';
      const name = `${team}-hash-key`;
      const secrets = collectionPath(KINDS.secret, own);
      const policy = await admissionPolicy(env.client, {
        name: `${team}-no-hash-key`,
        namespace: own,
        rule: { apiGroups: [''], resources: ['secrets'], operations: ['CREATE'] },
        expression: `object.metadata.name != '${name}'`,
        message: 'no hash key here, by policy',
        reason,
        refused: () =>
          env.client.create(
            secrets,
            { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: own } },
            { dryRun: 'All' },
          ),
      });
      try {
        const line = await expectOneCodedLine(
          spawnOperator({
            kubeconfig: env.kubeconfigPath,
            namespace: team,
            port: 0,
            pipeLog: true,
            args: ['--hash-key-secret', name],
          }),
          'OPERATOR_API_ACCESS_DENIED',
        );
        expect(line).to.include(status).and.include('no hash key here, by policy');
        expect(line).not.to.include('lacks get or create');
      } finally {
        await policy.remove();
      }
    });
  }

  it('no kubeconfig out of a cluster is one line CLUSTER_ACCESS_MISSING and exit 1', async () => {
    // An empty --kubeconfig is none: the service account's, which this process has not.
    const line = await expectOneCodedLine(
      spawnOperator({ kubeconfig: '', namespace: team, port: 0, pipeLog: true }),
      'CLUSTER_ACCESS_MISSING',
    );
    expect(line).to.include('not in a cluster');
  });

  it('a kubeconfig file that is not there is one line CLUSTER_ACCESS_MISSING and exit 1', async () => {
    const kubeconfig = join(tmpdir(), `jsm-sso-no-kubeconfig-${process.pid}`);
    const line = await expectOneCodedLine(
      spawnOperator({ kubeconfig, namespace: team, port: 0, pipeLog: true }),
      'CLUSTER_ACCESS_MISSING',
    );
    expect(line).to.include(kubeconfig).and.include('ENOENT');
  });

  it('waits for an API server that refuses connections at start, saying so, and starts once it answers', async () => {
    const front = await apiServerFront(env);
    const { operator, ended } = operatorWith(front.kubeconfig);
    try {
      const waits = linesOf(operator, 'operator.api_unreachable');
      const { management } = await listening(operator, ['management']);
      await eventually(async () => waits.length >= 2, 'two waits for the API server, said');
      expect(waits[0]).to.include({ level: 'warn', reason: 'OPERATOR_API_UNREACHABLE', attempt: 1 });
      expect(operator.exitCode, 'still running').to.equal(null);
      expect((await fetch(`${management}/readyz`)).status).to.equal(503);

      front.answer();
      await eventually(async () => (await fetch(`${management}/readyz`)).status === 200, 'ready');
    } finally {
      operator.kill('SIGTERM');
      await ended;
      await front.close();
    }
  });

  it('waits for its CRDs on a cluster without them, saying so with a reason code, and is ready once they are installed', async () => {
    // A cluster of its own: the shared one has the CRDs.
    const bare = separateEnvtest([]);
    const { operator, ended } = operatorWith(bare.kubeconfigPath);
    try {
      const failed = linesOf(operator, 'informer.failed');
      const { management } = await listening(operator, ['management']);
      const notServed = await eventually(
        async () => failed.find((l) => String(l['path']).endsWith('/jsmssotenants')),
        'the tenant list failing',
      );
      expect(notServed).to.include({ level: 'warn', reason: 'INFORMER_LIST_WATCH_FAILED', status: 404 });
      expect(operator.exitCode, 'still running').to.equal(null);
      expect((await fetch(`${management}/readyz`)).status).to.equal(503);

      await installCrd(bare.client);
      // The informers list again after their backoff, at most 30 s (and its jitter) by then.
      await eventually(async () => (await fetch(`${management}/readyz`)).status === 200, 'ready', 60_000);
    } finally {
      operator.kill('SIGTERM');
      await ended;
      bare.client.close();
      bare.stop();
    }
  });

  it('exits at once on SIGTERM while it waits for the API server (as PID 1 an unhandled one is ignored)', async () => {
    const front = await apiServerFront(env);
    const { operator, ended } = operatorWith(front.kubeconfig);
    const stopped: Record<string, unknown>[] = [];
    let waited!: () => void;
    const waiting = new Promise<void>((resolve) => {
      waited = resolve;
    });
    onLogLine(operator, (line) => {
      if (line['event'] === 'operator.api_unreachable') waited();
      if (line['event'] === 'process.stopped_while_starting') stopped.push(line);
    });
    try {
      await waiting;
      operator.kill('SIGTERM');
      expect((await ended).code).to.equal(143);
      expect(stopped).to.have.lengthOf(1);
    } finally {
      operator.kill('SIGKILL');
      await front.close();
    }
  });
});

/**
 * A kubeconfig for a loopback front of the test cluster's API server that closes every connection at once (an API
 * server not up yet) until `answer`, then passes them on: TLS stays end to end.
 */
async function apiServerFront(
  env: Envtest,
): Promise<{ kubeconfig: string; answer(): void; close(): Promise<void> }> {
  const apiServer = new URL(
    (parse(readFileSync(env.kubeconfigPath, 'utf8')) as Kubeconfig).clusters[0]!.cluster.server,
  );
  let answering = false;
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const front: Server = createServer((inbound) => {
    track(inbound);
    if (!answering) return void inbound.destroy();
    const outbound = connect({ host: apiServer.hostname, port: Number(apiServer.port) });
    track(outbound);
    outbound.once('error', () => inbound.destroy());
    inbound.once('error', () => outbound.destroy());
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  return {
    kubeconfig: kubeconfigWith(env, (c) => {
      c.clusters[0]!.cluster.server = `https://127.0.0.1:${(front.address() as { port: number }).port}`;
    }),
    answer: () => {
      answering = true;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => front.close(resolve));
    },
  };
}
